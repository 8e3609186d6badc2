"""Clipped channels rebuilt from the unclipped ones (`pipeline.highlights`)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.arrays import FloatArray
from pipeline.augment import illuminant_gains, kelvin_to_linear_rgb
from pipeline.color import delta_e_2000, linear_to_uint8, uint8_to_linear
from pipeline.features import SKIN_TRIM, measure_region
from pipeline.highlights import CLIPPED_LEVEL, rebuild_clipped
from tests.pipeline.face_models import face_mesh_detector, region_extractor
from tests.support import faces

WARM_LIGHT = kelvin_to_linear_rgb(4000.0)


def dichromatic_patch(light: FloatArray, count: int = 4000) -> FloatArray:
    """Linear RGB of a skin-like surface under `light`: body colour times shading plus some sheen
    (Shafer's dichromatic model), bright enough that red clips on its lit part."""
    rng = np.random.default_rng(7)
    body = np.array([0.80, 0.52, 0.40]) * light / light[1]
    shading = rng.uniform(0.45, 1.35, count)
    sheen = rng.uniform(0.0, 0.12, count)
    return np.asarray(shading[:, None] * body + sheen[:, None] * light / light[1], dtype=np.float64)


def test_unclipped_pixels_pass_unchanged() -> None:
    pixels = np.array([[200, 150, 120], [30, 20, 10], [249, 249, 249]], dtype=np.uint8)
    linear, blown = rebuild_clipped(pixels, np.ones(3))
    np.testing.assert_array_equal(linear, uint8_to_linear(pixels))
    assert not blown.any()


def test_a_clipped_red_is_rebuilt_on_the_surface_s_plane() -> None:
    truth = dichromatic_patch(WARM_LIGHT)
    pixels = linear_to_uint8(truth)
    red_only = (pixels[:, 0] >= CLIPPED_LEVEL) & (pixels[:, 1:] < CLIPPED_LEVEL).all(axis=1)
    assert 0.2 < red_only.mean() < 0.8, "the patch should clip red on part of it"
    linear, blown = rebuild_clipped(pixels, WARM_LIGHT)
    assert not blown.any()
    error = linear[red_only, 0] / truth[red_only, 0] - 1.0
    # 8-bit quantisation of the known channels is the only loss: within a few percent.
    assert np.median(np.abs(error)) < 0.02
    assert np.abs(error).max() < 0.08


def test_a_rebuilt_channel_is_never_below_the_clipped_level() -> None:
    """The clipped level is a floor: a pixel whose known channels suggest less is put on the floor."""
    reference = np.array([[100, 120, 140]] * 20, dtype=np.uint8)  # red far below green and blue
    clipped = np.array([[255, 120, 140]], dtype=np.uint8)
    linear, _ = rebuild_clipped(np.vstack([reference, clipped]), np.ones(3))
    assert linear[-1, 0] == pytest.approx(float(uint8_to_linear(np.array([CLIPPED_LEVEL], np.uint8))[0]))


def test_pixels_clipped_in_every_channel_are_blown_out() -> None:
    pixels = np.array([[200, 150, 120], [255, 255, 252], [255, 200, 150]], dtype=np.uint8)
    _, blown = rebuild_clipped(pixels, np.ones(3))
    assert blown.tolist() == [False, True, False]


def test_without_an_unclipped_pixel_every_clipped_one_is_blown_out() -> None:
    pixels = np.array([[255, 200, 150], [250, 180, 140]], dtype=np.uint8)
    _, blown = rebuild_clipped(pixels, np.ones(3))
    assert blown.all()


def test_two_clipped_channels_keep_the_region_s_colour() -> None:
    reference = np.array([[180, 120, 90], [200, 134, 100]] * 10, dtype=np.uint8)
    linear, _ = rebuild_clipped(np.vstack([reference, [[255, 255, 200]]]), np.ones(3))
    typical = uint8_to_linear(reference[1:2])[0]  # the brighter half of the reference
    np.testing.assert_allclose(linear[-1] / linear[-1, 2], typical / typical[2], rtol=1e-9)


def test_the_astronaut_s_skin_under_a_warm_lamp_measures_as_under_daylight() -> None:
    """4000 K multiplies red by about 1.36 and clips it on more than half of the astronaut's skin.
    With the cast undone exactly in linear light, the rebuilt skin lands where the neutral skin
    does (CIEDE2000 0.9); leaving the clipped pixels out would keep only the shaded part and read
    the skin about 13 L* darker."""
    image = faces.astronaut()
    regions = region_extractor().extract(image, face_mesh_detector().detect(image))
    warm = faces.warm_cast()
    clipped = (warm >= CLIPPED_LEVEL).any(axis=2)
    assert clipped[regions.skin].mean() > 0.5, "the cast should clip most of the skin"
    undo = 1.0 / illuminant_gains(WARM_LIGHT)
    neutral = measure_region(image, regions.skin, SKIN_TRIM)
    rebuilt = measure_region(warm, regions.skin, SKIN_TRIM, undo)
    left_out = measure_region(warm, regions.skin & ~clipped, SKIN_TRIM, undo)
    assert float(delta_e_2000(rebuilt.lab, neutral.lab)) < 1.5
    assert float(delta_e_2000(left_out.lab, neutral.lab)) > 5.0
