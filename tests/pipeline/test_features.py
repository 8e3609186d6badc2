"""Measured colours of a real face, and the robustness of the statistics behind them."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from pipeline.arrays import BoolArray, Uint8Image
from pipeline.color import (
    delta_e_2000,
    hex_to_lab,
    linear_rgb_to_lab,
    srgb_uint8_to_lab,
)
from pipeline.errors import ErrorCode, PipelineError
from pipeline.features import (
    EYE_TRIM,
    FEATURE_NAMES,
    HAIR_TRIM,
    SKIN_TRIM,
    ColorFeatures,
    RegionColor,
    Trim,
    extract_features,
    measure_region,
)
from pipeline.highlights import rebuild_clipped
from pipeline.landmark import FaceMeshDetector
from pipeline.regions import FaceRegions, HairSource, RegionExtractor
from tests.pipeline.measured_faces import with_skin
from tests.support import faces


def measure(image: Uint8Image, detector: FaceMeshDetector, extractor: RegionExtractor) -> ColorFeatures:
    return extract_features(image, extractor.extract(image, detector.detect(image)))


@pytest.fixture(scope="session")
def astronaut_regions(detector: FaceMeshDetector, extractor: RegionExtractor) -> FaceRegions:
    image = faces.astronaut()
    return extractor.extract(image, detector.detect(image))


@pytest.fixture(scope="session")
def astronaut(astronaut_regions: FaceRegions) -> ColorFeatures:
    return extract_features(faces.astronaut(), astronaut_regions)


def test_astronaut_skin_is_light_warm_skin(astronaut: ColorFeatures) -> None:
    skin = astronaut.skin
    assert 65 < skin.L < 88
    assert 3 < skin.a < 20 and 8 < skin.b < 28
    assert 40 < skin.hue_deg < 85  # between red and yellow, as all human skin
    assert skin.chroma == pytest.approx(math.hypot(skin.a, skin.b))
    # ITA above 41 degrees is "light" or "very light" skin (Chardon et al. 1991).
    assert astronaut.skin_ita > 41
    assert skin.spread < 8 and skin.pixel_count > 500


def test_astronaut_eyes_and_hair_are_darker_than_her_skin(astronaut: ColorFeatures) -> None:
    assert astronaut.hair is not None and astronaut.hair_source is HairSource.SEGMENTATION
    assert astronaut.eyes.L < astronaut.skin.L - 25
    assert astronaut.hair.L < astronaut.skin.L - 20
    assert astronaut.hair.b > 5  # brown hair, not grey background
    assert astronaut.eyes.pixel_count >= 10


def test_hex_codes_are_the_median_colours(astronaut: ColorFeatures) -> None:
    for region in (astronaut.skin, astronaut.eyes, astronaut.hair):
        assert region is not None
        assert float(delta_e_2000(hex_to_lab(region.hex), region.lab)) < 1.0


def test_feature_vector_follows_the_contract(astronaut: ColorFeatures) -> None:
    vector = astronaut.to_vector()
    assert vector.shape == (len(FEATURE_NAMES),) and np.isfinite(vector).all()
    named = dict(zip(FEATURE_NAMES, vector.tolist(), strict=True))
    assert named["skin_L"] == pytest.approx(astronaut.skin.L, abs=1e-3)
    assert named["hair_present"] == 1.0


@pytest.mark.parametrize("b", [-2.0, -0.1, 0.1, 2.0])
def test_skin_hue_in_the_vector_is_continuous_across_zero(astronaut: ColorFeatures, b: float) -> None:
    # A pink skin with b* just below 0 has a hue just below 0 degrees, next to b* just above 0, not
    # near 360 (which a linear hue term would read as the most golden skin).
    pink = with_skin(astronaut, astronaut.skin.L, 6.0, b)
    hue = dict(zip(FEATURE_NAMES, pink.to_vector().tolist(), strict=True))["skin_h"]
    assert hue == pytest.approx(math.degrees(math.atan2(b, 6.0)), abs=1e-3)
    assert pink.skin.hue_deg == pytest.approx(math.degrees(math.atan2(b, 6.0)) % 360.0, abs=1e-3)


def test_features_without_hair_mark_it_absent(astronaut_regions: FaceRegions) -> None:
    hairless = dataclasses.replace(astronaut_regions, hair=None, hair_source=HairSource.NONE)
    features = extract_features(faces.astronaut(), hairless)
    assert features.hair is None and features.hair_source is HairSource.NONE
    assert features.to_vector()[FEATURE_NAMES.index("hair_present")] == 0.0


def test_warm_light_raises_the_measured_skin_yellowness(
    astronaut: ColorFeatures, detector: FaceMeshDetector, extractor: RegionExtractor
) -> None:
    # Without lighting correction the measurement must follow the light: this is what the
    # normalize stage exists to undo.
    warm = measure(faces.warm_cast(), detector, extractor)
    cool = measure(faces.cool_cast(), detector, extractor)
    assert warm.skin.b > astronaut.skin.b + 3 > cool.skin.b + 6


def test_speculars_and_deep_shadows_do_not_move_the_median() -> None:
    rng = np.random.default_rng(0)
    base = np.array([205, 160, 135], dtype=np.float64)
    patch = np.clip(base + rng.normal(0, 2, (40, 40, 3)), 0, 255).astype(np.uint8)
    dirty = patch.copy()
    flat = dirty.reshape(-1, 3)
    picks = rng.permutation(len(flat))
    flat[picks[:120]] = (255, 255, 255)  # 7.5% blown highlights
    flat[picks[120:200]] = (250, 245, 240)  # near-white sheen
    flat[picks[200:320]] = (40, 25, 20)  # 7.5% deep shadow
    mask = np.ones((40, 40), dtype=bool)
    clean = measure_region(patch, mask, trim=SKIN_TRIM)
    measured = measure_region(dirty, mask, trim=SKIN_TRIM)
    assert float(delta_e_2000(measured.lab, clean.lab)) < 1.0
    assert float(delta_e_2000(clean.lab, srgb_uint8_to_lab(base.astype(np.uint8)))) < 1.0
    assert measured.spread < 3.0


def test_a_region_with_only_clipped_pixels_cannot_be_measured() -> None:
    white = np.full((4, 4, 3), 255, np.uint8)
    with pytest.raises(ValueError, match="no unclipped pixels"):
        measure_region(white, np.ones((4, 4), bool), trim=SKIN_TRIM)


def test_blown_out_skin_is_a_lighting_problem_not_a_crash(astronaut_regions: FaceRegions) -> None:
    image = faces.astronaut()
    image[astronaut_regions.skin] = 255
    with pytest.raises(PipelineError) as caught:
        extract_features(image, astronaut_regions)
    assert caught.value.code is ErrorCode.POOR_LIGHTING_CONDITION
    assert caught.value.details == {"problems": ["too_bright"], "region": "skin"}


def test_blown_out_hair_counts_as_missing(astronaut_regions: FaceRegions) -> None:
    assert astronaut_regions.hair is not None
    image = faces.astronaut()
    image[astronaut_regions.hair] = 255
    features = extract_features(image, astronaut_regions)
    assert features.hair is None and features.hair_source is HairSource.NONE


def plain_numpy_region(rgb: Uint8Image, mask: BoolArray, trim: Trim, gain: float) -> RegionColor:
    """`measure_region` written the straightforward way, with np.percentile and np.median."""
    pixels = rgb[mask]
    sample = pixels[:: max(1, len(pixels) // 2000)]
    linear, blown = rebuild_clipped(sample, np.full(3, 1.0 / gain))
    lab = linear_rgb_to_lab(linear[~blown] * gain)
    low, high = np.percentile(lab[:, 0], (trim.low_pct, trim.high_pct))
    kept = lab[(lab[:, 0] >= low) & (lab[:, 0] <= high)]
    median = np.median(kept, axis=0)
    spread = float(np.median(delta_e_2000(kept[:: max(1, len(kept) // 400)], median)))
    # The statistics are what is compared; chroma, hue and hex follow from the median either way.
    return RegionColor.from_lab(median, spread, round(len(pixels) * len(kept) / len(sample)))


@pytest.mark.parametrize("gain", [1.0, 0.7, 2.5])
def test_the_fast_statistics_are_the_plain_numpy_ones_exactly(
    astronaut_regions: FaceRegions, gain: float
) -> None:
    """Partial sorts, sampled gathering and one CIEDE2000 call for all regions change no bit."""
    image = faces.warm_cast()
    assert astronaut_regions.hair is not None
    rng = np.random.default_rng(1)
    sparse = astronaut_regions.hair & (rng.random(astronaut_regions.hair.shape) < 0.3)
    for mask, trim in (
        (astronaut_regions.skin, SKIN_TRIM),
        (astronaut_regions.eyes, EYE_TRIM),
        (astronaut_regions.hair, HAIR_TRIM),
        (sparse, Trim(12.5, 87.5)),
    ):
        assert measure_region(image, mask, trim, gain) == plain_numpy_region(image, mask, trim, gain)


def test_a_region_of_two_pixels_is_measured_not_nan() -> None:
    """Both pixels lie outside the interpolated 10-90% band; they are kept instead of none."""
    patch = np.array([[[120, 90, 70], [140, 100, 80]]], dtype=np.uint8)
    color = measure_region(patch, np.ones((1, 2), bool), trim=EYE_TRIM)
    assert all(math.isfinite(v) for v in (color.L, color.a, color.b, color.spread))
    assert color.pixel_count == 2
    both = srgb_uint8_to_lab(patch[0])
    assert both[0, 0] < color.L < both[1, 0]
