"""The sclera exposure and white reference on the real astronaut photo and real Face Mesh landmarks."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pipeline.analysis import Analyzer
from pipeline.arrays import FloatArray
from pipeline.augment import apply_illuminant, illuminant_gains, kelvin_to_linear_rgb
from pipeline.color import LUMINANCE_WEIGHTS, delta_e_2000
from pipeline.exposure import ExposureConfig, ExposureReference, sclera_exposure, sclera_pixels
from pipeline.features import MAX_REFERENCED_SKIN_LIGHTNESS, extract_features
from pipeline.landmark import FaceLandmarks
from tests.pipeline.face_models import face_mesh_detector, region_extractor
from tests.support import faces


@pytest.fixture(scope="module")
def landmarks() -> FaceLandmarks:
    return face_mesh_detector().detect(faces.astronaut())


def test_the_whites_of_the_eyes_are_found_and_are_bright_and_neutral(landmarks):
    pixels = sclera_pixels(faces.astronaut(), landmarks.points, ExposureConfig().iris_margin)
    assert len(pixels) >= 40
    bright = pixels[pixels.sum(axis=1) >= np.percentile(pixels.sum(axis=1), 75)].astype(float)
    # The brightest quarter of the sclera: light and nearly grey, unlike skin (R well above B).
    assert bright.mean() > 150
    red, _, blue = np.median(bright, axis=0)
    assert abs(red - blue) < 0.15 * red


@pytest.mark.parametrize("ev", [-1.0, -0.5, 0.5])
def test_the_gain_undoes_a_change_of_exposure(landmarks, ev):
    """Same landmarks, the photo darker or brighter: the gain moves by the inverse factor, so the
    colours measured at the gain stay where they were."""
    neutral = sclera_exposure(faces.astronaut(), landmarks)
    changed = sclera_exposure(faces.exposed(ev), landmarks)
    assert neutral.used and changed.used
    assert changed.gain / neutral.gain == pytest.approx(2.0**-ev, rel=0.08)


def test_a_blown_out_sclera_is_not_trusted(landmarks):
    image = faces.astronaut().copy()
    for x, y in landmarks.points[:, :2].round().astype(int):
        image[max(0, y - 6) : y + 7, max(0, x - 6) : x + 7] = 255  # every landmark's neighbourhood
    reference = sclera_exposure(image, landmarks)
    assert not reference.used
    assert reference.gain == 1.0


def test_the_gain_is_limited(landmarks):
    dark = sclera_exposure(faces.exposed(-3.0), landmarks)
    assert dark.used
    assert dark.gain == ExposureConfig().max_gain


def test_a_sclera_with_some_channels_clipped_is_still_read(landmarks):
    """One stop brighter, red or green is clipped on about 40% of the astronaut's sclera and every
    channel on about 12%: the clipped channels are rebuilt (`pipeline.highlights`), so the level
    still reads twice the neutral one instead of being given up."""
    neutral = sclera_exposure(faces.astronaut(), landmarks)
    brighter = sclera_exposure(faces.exposed(1.0), landmarks)
    assert neutral.sclera_luminance is not None and brighter.sclera_luminance is not None
    assert brighter.sclera_luminance / neutral.sclera_luminance == pytest.approx(2.0, rel=0.1)


def test_a_sclera_blown_out_above_its_reference_percentile_is_not_trusted(landmarks):
    """1.5 stops brighter, more than a quarter of the sclera has every channel clipped: the 75th
    percentile is unknown, so there is no reference rather than a level read from the rest."""
    assert not sclera_exposure(faces.exposed(1.5), landmarks).used


def test_the_analysis_measures_the_same_colours_one_stop_darker():
    """Through the whole pipeline (lighting stage, Face Mesh, regions, features): the darker photo's
    skin, eyes and hair come out where the neutral photo's do, which the photo's own exposure
    could not give (one stop is about 13 L* on this skin)."""
    analyzer = Analyzer()
    try:
        neutral = analyzer.analyze_rgb(faces.astronaut()).features
        darker = analyzer.analyze_rgb(faces.exposed(-1.0)).features
    finally:
        analyzer.close()
    assert neutral.exposure is not None and neutral.exposure.used
    assert darker.exposure is not None and darker.exposure.gain > 1.5 * neutral.exposure.gain
    assert abs(darker.skin.L - neutral.skin.L) < 1.5
    assert float(delta_e_2000(darker.skin.lab, neutral.skin.lab)) < 2.0
    assert abs(darker.eyes.L - neutral.eyes.L) < 2.0
    assert darker.hair is not None and neutral.hair is not None
    assert abs(darker.hair.L - neutral.hair.L) < 2.0


def test_a_brightening_gain_stops_where_the_skin_would_become_implausibly_light(landmarks):
    """A sclera read too dark (small or shaded) must not lift the skin above the lightest skin seen
    at a normal exposure; darkening is never limited."""
    image = faces.astronaut()
    regions = region_extractor().extract(image, landmarks)
    misread = ExposureReference(gain=3.0, sclera_luminance=0.12, sclera_pixels=80)
    brightened = extract_features(image, regions, misread)
    assert brightened.exposure is not None and brightened.exposure.limited_by_skin
    assert 1.0 < brightened.exposure.gain < 3.0
    assert abs(brightened.skin.L - MAX_REFERENCED_SKIN_LIGHTNESS) < 0.5
    darkened = extract_features(
        image, regions, ExposureReference(gain=0.5, sclera_luminance=0.7, sclera_pixels=80)
    )
    assert darkened.exposure is not None and not darkened.exposure.limited_by_skin
    assert darkened.exposure.gain == 0.5


def _unit(values: tuple[float, float, float]) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    return np.asarray(array / array.sum(), dtype=np.float64)


@pytest.mark.parametrize("kelvin", [5000.0, 8000.0])
def test_the_white_gains_undo_a_cast_of_the_light(landmarks, kelvin):
    """Same landmarks, the photo under a warmer or cooler light: the white gains change by the
    inverse of the cast's, so the colours measured at them stay where they were. (In the service
    the lighting stage has removed most of a cast first; uncorrected, 4000 K asks this photo for
    more than `max_white_gain`.)"""
    neutral = sclera_exposure(faces.astronaut(), landmarks)
    cast = sclera_exposure(apply_illuminant(faces.astronaut(), kelvin_to_linear_rgb(kelvin)), landmarks)
    cast_gains = illuminant_gains(kelvin_to_linear_rgb(kelvin))
    assert neutral.sclera_chromaticity is not None and cast.sclera_chromaticity is not None
    undone = _unit(tuple(np.asarray(cast.white_gains) * cast_gains))
    # Not exact: the cast clips a few more sclera pixels, which leave the unclipped set it is read from.
    np.testing.assert_allclose(undone, _unit(neutral.white_gains), rtol=0.05)
    # and the cast really moved the sclera: without the correction the colours would move too
    assert np.abs(_unit(cast.sclera_chromaticity) - _unit(neutral.sclera_chromaticity)).max() > 0.02


def test_the_white_gains_keep_the_sclera_luminance(landmarks):
    reference = sclera_exposure(faces.astronaut(), landmarks)
    assert reference.sclera_chromaticity is not None and reference.white_used
    measured = np.asarray(reference.sclera_chromaticity)
    corrected = np.asarray(reference.white_gains) * measured
    assert float(LUMINANCE_WEIGHTS @ corrected) == pytest.approx(
        float(LUMINANCE_WEIGHTS @ measured), rel=1e-9
    )
    np.testing.assert_allclose(
        _unit(tuple(corrected)), _unit(ExposureConfig().sclera_chromaticity), atol=1e-9
    )


def test_a_white_correction_beyond_the_limit_is_clamped(landmarks):
    config = ExposureConfig(max_white_gain=1.02)
    reference = sclera_exposure(
        apply_illuminant(faces.astronaut(), kelvin_to_linear_rgb(4000.0)), landmarks, config
    )
    gains = np.asarray(reference.white_gains)
    # Clamped to 2%, then rescaled to the sclera's luminance: within a few percent of each other.
    assert gains.max() / gains.min() < 1.02**2 * 1.01
    assert reference.white_used


def test_too_little_unclipped_sclera_leaves_the_white_alone(landmarks):
    image = faces.astronaut().copy()
    for x, y in landmarks.points[:, :2].round().astype(int):
        image[max(0, y - 6) : y + 7, max(0, x - 6) : x + 7] = 255
    reference = sclera_exposure(image, landmarks)
    assert reference.sclera_chromaticity is None
    assert reference.white_gains == (1.0, 1.0, 1.0) and not reference.white_used


def test_the_analysis_measures_the_same_skin_under_a_warm_and_a_cool_light():
    """Through the whole pipeline: under 4000 K and 8000 K the skin comes out closer to the
    neutral photo's with the sclera's white than with the lighting stage's white balance alone."""
    analyzer = Analyzer()
    try:
        neutral = analyzer.analyze_rgb(faces.astronaut())
        for cast in (faces.warm_cast(), faces.cool_cast()):
            analysis = analyzer.analyze_rgb(cast)
            assert analysis.features.exposure is not None and analysis.features.exposure.white_used
            without_white = extract_features(
                analysis.corrected_rgb,
                analysis.regions,
                replace(analysis.features.exposure, white_gains=(1.0, 1.0, 1.0)),
            )
            with_white = float(delta_e_2000(analysis.features.skin.lab, neutral.features.skin.lab))
            alone = float(delta_e_2000(without_white.skin.lab, neutral.features.skin.lab))
            assert with_white < 2.0
            assert with_white < alone
    finally:
        analyzer.close()
