"""Lighting correction with the real MediaPipe face detector, on the astronaut and its variants.

Moderate casts and missed exposures must come back corrected; light that destroyed the colour
must be refused with POOR_LIGHTING_CONDITION and the specific problem.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any

import numpy as np
import pytest

from pipeline.augment import apply_illuminant, illuminant_gains, kelvin_to_linear_rgb
from pipeline.color import angular_error_deg, chroma_hue, delta_e_2000, srgb_uint8_to_lab
from pipeline.errors import ErrorCode, PipelineError
from pipeline.normalize import LightingConfig, LightingCorrector, LightingReport
from tests.support import faces


@pytest.fixture(scope="module")
def corrector() -> Iterator[LightingCorrector]:
    instance = LightingCorrector()
    yield instance
    instance.close()


def cheek_lab(image: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    cheek = image[faces.ASTRONAUT_CHEEK_BOX].reshape(-1, 3)
    return np.asarray(np.median(srgb_uint8_to_lab(cheek), axis=0))


UNCAST_CHEEK = cheek_lab(faces.astronaut())


def refusal(corrector: LightingCorrector, image: np.ndarray[Any, Any], **kwargs: float) -> PipelineError:
    with pytest.raises(PipelineError) as caught:
        corrector.correct(image, **kwargs)
    assert caught.value.code is ErrorCode.POOR_LIGHTING_CONDITION
    return caught.value


def test_a_well_lit_photo_passes_almost_unchanged_with_its_face_found(corrector):
    result = corrector.correct(faces.astronaut())
    report = result.report
    assert report.problems == ()
    assert report.score >= 90
    assert report.exposure_correction_ev == 0.0
    assert report.cast_strength_deg < 5.0
    x, y, w, h = result.face_box
    assert 150 < x < 210 and 50 < y < 110 and 70 < w < 130 and 70 < h < 130
    assert float(delta_e_2000(cheek_lab(result.rgb), UNCAST_CHEEK)) < 3.0


@pytest.mark.parametrize(
    ("make", "min_cast_deg"),
    [(faces.warm_cast, 15.0), (faces.cool_cast, 3.0), (faces.green_cast, 6.0)],
    ids=["warm-4000K", "cool-8000K", "green"],
)
def test_moderate_colour_casts_are_corrected_not_refused(corrector, make, min_cast_deg):
    cast = make()
    before = float(delta_e_2000(cheek_lab(cast), UNCAST_CHEEK))
    assert before > 4.0  # a cast a person would see
    result = corrector.correct(cast)
    assert "color_cast" not in result.report.problems
    assert result.report.cast_strength_deg > min_cast_deg
    after = float(delta_e_2000(cheek_lab(result.rgb), UNCAST_CHEEK))
    assert after < 5.0
    assert after < before


@pytest.mark.parametrize("kelvin", [4000.0, 8000.0])
def test_moderate_casts_one_stop_under_are_corrected_in_hue(corrector, kelvin):
    # Lightness cannot be recovered without a reference (see exposure tests); hue must be.
    image = faces.exposed(-1.0, faces.warm_cast(kelvin))
    result = corrector.correct(image)
    _, hue = chroma_hue(cheek_lab(result.rgb))
    _, uncast_hue = chroma_hue(UNCAST_CHEEK)
    assert abs(float(hue) - float(uncast_hue)) < 6.0


def test_two_stops_underexposed_is_brightened_not_refused(corrector):
    result = corrector.correct(faces.underexposed())
    assert result.report.problems == ()
    assert result.report.exposure < 45
    assert result.report.exposure_correction_ev > 1.0
    assert float(cheek_lab(result.rgb)[0]) > float(cheek_lab(faces.underexposed())[0]) + 10


def test_overexposure_of_a_dim_photo_is_accepted(corrector):
    # +1.5 EV on a photo taken 1.5 EV too dark: nothing on the face clips, so nothing is lost.
    result = corrector.correct(faces.exposed(1.5, faces.exposed(-1.5)))
    assert result.report.problems == ()


def test_overexposure_that_blows_out_the_face_is_refused_as_too_bright(corrector):
    # The astronaut's skin is already bright (L* 68-82): at +1.5 EV red and green clip on most of
    # her face, so its colour is gone, not just shifted.
    error = refusal(corrector, faces.overexposed())
    assert "too_bright" in error.details["problems"]
    assert error.details["score"] < 50
    assert any("washed out" in line for line in error.details["advice"])


def test_a_very_dark_photo_is_refused_as_too_dark(corrector):
    error = refusal(corrector, faces.exposed(-4.5))
    assert "too_dark" in error.details["problems"]


def test_a_candle_light_cast_is_refused_as_color_cast(corrector):
    error = refusal(corrector, faces.warm_cast(2000))
    assert error.details["problems"] == ["color_cast"]
    assert "colored" in error.message


def test_a_backlit_face_is_refused_as_backlit(corrector):
    error = refusal(corrector, faces.backlit())
    assert "backlit" in error.details["problems"]
    assert any("behind you" in line for line in error.details["advice"])


def test_a_hazy_photo_is_refused_as_low_contrast(corrector):
    error = refusal(corrector, faces.hazy())
    assert "low_contrast" in error.details["problems"]


def test_a_low_client_score_refuses_even_a_good_photo(corrector):
    error = refusal(corrector, faces.astronaut(), client_score=20.0)
    assert error.details["client_score"] == 20.0
    assert error.details["score"] >= 90  # the server's own figure is reported too
    assert error.details["advice"]


def test_a_high_client_score_never_overrides_the_servers_own(corrector):
    error = refusal(corrector, faces.overexposed(), client_score=99.0)
    assert "too_bright" in error.details["problems"]


@pytest.mark.parametrize("bad", [-1.0, 100.5, float("nan")])
def test_an_impossible_client_score_is_a_validation_error(corrector, bad):
    with pytest.raises(PipelineError) as caught:
        corrector.correct(faces.astronaut(), client_score=bad)
    assert caught.value.code is ErrorCode.VALIDATION_ERROR


def test_the_threshold_is_configurable_and_problems_are_still_reported():
    lenient = LightingCorrector(LightingConfig(min_score=0.0))
    try:
        report = lenient.correct(faces.overexposed()).report
    finally:
        lenient.close()
    assert "too_bright" in report.problems
    assert report.score < 50


def test_without_a_face_the_central_region_is_reported_and_nothing_is_refused_for_the_backdrop(corrector):
    result = corrector.correct(faces.tiny_face())
    assert result.face_box is None
    assert result.report.face_found is False
    assert result.report.problems == ()


def test_report_is_json_safe_and_the_illuminant_has_unit_sum(corrector):
    report = corrector.correct(faces.warm_cast()).report
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data) >= {
        "score",
        "exposure",
        "clipped_highlights",
        "clipped_shadows",
        "contrast",
        "cast_strength_deg",
        "backlight",
        "problems",
        "illuminant",
    }
    assert sum(report.illuminant) == pytest.approx(1.0)
    # The estimate points at the light that was applied (4000 K), not at neutral.
    assert angular_error_deg(report.illuminant, illuminant_gains(kelvin_to_linear_rgb(4000))) < 4.0
    assert isinstance(report, LightingReport)


def test_advice_lists_one_sentence_per_problem():
    report = LightingReport(
        score=10.0,
        exposure=15.0,
        clipped_highlights=0.0,
        clipped_shadows=0.4,
        contrast=20.0,
        cast_strength_deg=35.0,
        backlight=0.0,
        problems=("too_dark", "color_cast"),
        illuminant=(0.5, 0.3, 0.2),
    )
    assert len(report.advice()) == 2


def test_white_balance_works_in_linear_light():
    # A gray ramp under a 4000 K light: after correction every gray level is neutral again,
    # which a gain applied to gamma-encoded values could not achieve at all levels at once.
    rng = np.random.default_rng(5)
    patches = rng.integers(30, 220, size=(12, 16, 3)).astype(np.uint8)
    patches[::2, ::2] = np.linspace(40, 220, 48).astype(np.uint8).reshape(6, 8, 1)
    scene = np.kron(patches, np.ones((16, 16, 1), dtype=np.uint8))
    lit = apply_illuminant(scene, kelvin_to_linear_rgb(4000))
    corrector = LightingCorrector(LightingConfig(min_score=0.0))
    try:
        corrected = corrector.correct(lit).rgb
    finally:
        corrector.close()
    grays = corrected[::32, ::32][:6, :8].reshape(-1, 3).astype(int)
    assert np.max(grays.max(axis=1) - grays.min(axis=1)) <= 6


def test_unknown_white_balance_method_is_refused_at_configuration():
    with pytest.raises(ValueError):
        LightingConfig(white_balance="retinex_magic")


def test_concurrent_calls_give_the_same_results_as_serial_ones(corrector):
    images = [faces.astronaut(), faces.warm_cast(), faces.cool_cast(), faces.underexposed()] * 3
    serial = [corrector.correct(image) for image in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(corrector.correct, images))
    for one, other in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(one.rgb, other.rgb)
        assert one.report == other.report
        assert one.face_box == other.face_box


def test_a_darker_photo_never_comes_back_brighter_than_a_lighter_one(corrector):
    corrected = [
        cheek_lab(corrector.correct(faces.exposed(ev)).rgb)[0] for ev in (0.0, -0.5, -1.0, -1.5, -2.0)
    ]
    assert all(later <= earlier + 1.0 for earlier, later in pairwise(corrected))
    assert corrected[2] > cheek_lab(faces.exposed(-1.0))[0] + 3  # -1 EV is lifted, not left alone
