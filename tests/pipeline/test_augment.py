"""Synthetic lighting: colour temperatures land on the published loci, casts act in linear RGB."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.augment import (
    D65_LINEAR_RGB,
    apply_exposure,
    apply_illuminant,
    daylight_xy,
    illuminant_gains,
    kelvin_to_linear_rgb,
    planckian_xy,
)
from pipeline.color import angular_error_deg, uint8_to_linear
from tests.support import faces


@pytest.mark.parametrize(
    ("xy_function", "kelvin", "expected"),
    [
        (planckian_xy, 2856.0, (0.4476, 0.4074)),  # CIE illuminant A
        (daylight_xy, 5003.0, (0.3457, 0.3585)),  # D50
        (daylight_xy, 6504.0, (0.3127, 0.3290)),  # D65
        (daylight_xy, 7504.0, (0.2990, 0.3149)),  # D75
    ],
)
def test_white_points_match_cie_standard_illuminants(xy_function, kelvin, expected):
    np.testing.assert_allclose(xy_function(kelvin), expected, atol=0.0006)


def test_6504_kelvin_is_the_srgb_white_and_results_have_unit_sum():
    assert angular_error_deg(kelvin_to_linear_rgb(6504), D65_LINEAR_RGB) < 0.1
    for kelvin in (2000, 3000, 4000, 5500, 8000, 15000):
        assert kelvin_to_linear_rgb(kelvin).sum() == pytest.approx(1.0)


def test_warm_light_is_red_and_cool_light_is_blue_and_casts_grow_away_from_d65():
    warm, cool = kelvin_to_linear_rgb(3000), kelvin_to_linear_rgb(10000)
    assert warm[0] > warm[1] > warm[2]
    assert cool[2] > cool[1] > cool[0]
    angles = [angular_error_deg(kelvin_to_linear_rgb(k), D65_LINEAR_RGB) for k in (2500, 3500, 4500, 5500)]
    assert angles == sorted(angles, reverse=True)


@pytest.mark.parametrize("kelvin", [4000.0, 5000.0])
def test_no_jump_where_the_planckian_locus_hands_over_to_daylight(kelvin):
    assert angular_error_deg(kelvin_to_linear_rgb(kelvin - 1.0), kelvin_to_linear_rgb(kelvin + 1.0)) < 0.05


@pytest.mark.parametrize("kelvin", [1000, 30000, float("nan")])
def test_out_of_range_temperatures_are_refused(kelvin):
    with pytest.raises(ValueError):
        kelvin_to_linear_rgb(kelvin)


def test_d65_light_leaves_the_photo_unchanged():
    image = faces.astronaut()
    np.testing.assert_array_equal(apply_illuminant(image, D65_LINEAR_RGB), image)
    np.testing.assert_array_equal(apply_exposure(image, 0.0), image)


def test_a_gray_card_takes_the_colour_of_the_light_at_every_brightness():
    # A von Kries cast in linear RGB: every neutral level gets the same chromaticity.
    ramp = np.repeat(np.linspace(40, 200, 9).astype(np.uint8)[None, :, None], 3, axis=2)
    light = kelvin_to_linear_rgb(4000)
    lit = uint8_to_linear(apply_illuminant(ramp, light))[0]
    for pixel in lit:
        assert angular_error_deg(pixel, light) < 1.0


def test_gains_keep_the_luminance_of_white():
    gains = illuminant_gains(kelvin_to_linear_rgb(3000))
    assert float(np.array([0.2126729, 0.7151522, 0.0721750]) @ gains) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        illuminant_gains([0.5, 0.5, 0.0])


def test_exposure_is_a_gain_in_linear_light_that_clips_like_a_sensor():
    image = faces.astronaut()
    darker = uint8_to_linear(apply_exposure(image, -1.0))
    unclipped = uint8_to_linear(image) < 0.9
    # Halved in linear light, within the rounding of 8-bit sRGB.
    np.testing.assert_allclose(darker[unclipped], uint8_to_linear(image)[unclipped] / 2, atol=0.004)
    assert apply_exposure(image, 3.0).max() == 255
    assert np.mean(apply_exposure(image, 3.0) == 255) > 0.5


def test_non_rgb_input_is_refused():
    with pytest.raises(ValueError):
        apply_exposure(np.zeros((4, 4), dtype=np.uint8), 1.0)
    with pytest.raises(ValueError):
        apply_illuminant(np.zeros((4, 4, 3), dtype=np.float32), D65_LINEAR_RGB)
