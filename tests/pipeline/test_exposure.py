"""The sclera exposure reference on the real astronaut photo and real Face Mesh landmarks."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.analysis import Analyzer
from pipeline.color import delta_e_2000
from pipeline.exposure import ExposureConfig, ExposureReference, _sclera_pixels, sclera_exposure
from pipeline.features import MAX_REFERENCED_SKIN_LIGHTNESS, extract_features
from pipeline.landmark import FaceLandmarks
from tests.pipeline.face_models import face_mesh_detector, region_extractor
from tests.support import faces


@pytest.fixture(scope="module")
def landmarks() -> FaceLandmarks:
    return face_mesh_detector().detect(faces.astronaut())


def test_the_whites_of_the_eyes_are_found_and_are_bright_and_neutral(landmarks):
    pixels = _sclera_pixels(faces.astronaut(), landmarks.points, ExposureConfig().iris_margin)
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


def test_a_sclera_clipped_above_its_reference_percentile_is_not_trusted(landmarks):
    """One stop brighter, the astronaut's whites of the eyes are blown out: no reference then,
    rather than a level read from the darker, unclipped rest."""
    assert not sclera_exposure(faces.exposed(1.0), landmarks).used


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
