"""pipeline.color against published reference values (IEC 61966-2-1, CIE 15, Sharma et al. 2005)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.color import (
    angular_error_deg,
    chroma_hue,
    delta_e_2000,
    hex_to_lab,
    hex_to_srgb_uint8,
    individual_typology_angle,
    lab_to_hex,
    lab_to_linear_rgb,
    linear_rgb_to_lab,
    linear_to_srgb,
    linear_to_uint8,
    srgb_to_linear,
    srgb_uint8_to_lab,
    uint8_to_linear,
)

# Sharma, Wu and Dalal, "The CIEDE2000 color-difference formula: implementation notes, supplementary
# test data, and mathematical observations", Color Res. Appl. 30(1), 2005, Table 1: all 34 pairs
# (L1, a1, b1, L2, a2, b2, dE00). They exercise the hue-angle wrap-arounds and the a' rescaling.
SHARMA_PAIRS = [
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
]


def test_ciede2000_matches_all_sharma_pairs_vectorised():
    data = np.array(SHARMA_PAIRS)
    result = delta_e_2000(data[:, 0:3], data[:, 3:6])
    np.testing.assert_allclose(result, data[:, 6], atol=1e-4)


@pytest.mark.parametrize("pair", SHARMA_PAIRS[:8] + SHARMA_PAIRS[24:])
def test_ciede2000_is_symmetric(pair):
    lab1, lab2 = np.array(pair[0:3]), np.array(pair[3:6])
    assert float(delta_e_2000(lab1, lab2)) == pytest.approx(float(delta_e_2000(lab2, lab1)), abs=1e-4)


def test_ciede2000_of_identical_colours_is_zero():
    assert float(delta_e_2000([55.0, 12.0, 18.0], [55.0, 12.0, 18.0])) == 0.0


def test_srgb_transfer_round_trips_and_has_the_standard_breakpoint():
    levels = np.linspace(0, 1, 1001)
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(levels)), levels, atol=1e-12)
    # IEC 61966-2-1: linear segment below 0.04045, and mid-gray 0.5 encodes to 0.7354.
    assert float(srgb_to_linear(0.04045)) == pytest.approx(0.04045 / 12.92)
    assert float(linear_to_srgb(0.5)) == pytest.approx(0.735356, abs=1e-6)


def test_uint8_table_matches_the_formula_and_round_trips_every_level():
    levels = np.arange(256, dtype=np.uint8)
    np.testing.assert_allclose(uint8_to_linear(levels), srgb_to_linear(levels / 255.0))
    np.testing.assert_array_equal(linear_to_uint8(uint8_to_linear(levels)), levels)


@pytest.mark.parametrize(
    ("rgb", "lab"),
    [
        # Reference values from the CIE formulas with the sRGB matrix and D65 white.
        ((255, 255, 255), (100.0, 0.0, 0.0)),
        ((0, 0, 0), (0.0, 0.0, 0.0)),
        ((255, 0, 0), (53.24, 80.09, 67.20)),
        ((0, 255, 0), (87.73, -86.18, 83.18)),
        ((0, 0, 255), (32.30, 79.19, -107.86)),
        ((119, 119, 119), (50.03, 0.0, 0.0)),
    ],
)
def test_srgb_to_lab_reference_colours(rgb, lab):
    np.testing.assert_allclose(srgb_uint8_to_lab(np.array(rgb, dtype=np.uint8)), lab, atol=0.02)


def test_lab_and_linear_rgb_round_trip():
    rng = np.random.default_rng(3)
    linear = rng.uniform(0.0, 1.0, size=(500, 3))
    np.testing.assert_allclose(lab_to_linear_rgb(linear_rgb_to_lab(linear)), linear, atol=1e-9)


def test_hex_codes_round_trip_and_reject_garbage():
    for code in ("#000000", "#ffffff", "#c8a27a", "#3b5998"):
        assert lab_to_hex(hex_to_lab(code)) == code
    np.testing.assert_array_equal(hex_to_srgb_uint8("#0a10ff"), [10, 16, 255])
    for bad in ("c8a27a", "#c8a27", "#c8a27a0", ""):
        with pytest.raises(ValueError):
            hex_to_srgb_uint8(bad)
    with pytest.raises(ValueError):
        hex_to_srgb_uint8("#gg0000")


def test_chroma_hue_and_ita():
    chroma, hue = chroma_hue(np.array([[60.0, 3.0, 4.0], [60.0, 0.0, -2.0]]))
    np.testing.assert_allclose(chroma, [5.0, 2.0])
    np.testing.assert_allclose(hue, [53.130102, 270.0], atol=1e-6)
    # Chardon et al.: light skin (L* 70, b* 15) is "light" (41-55 degrees), L* 40 is "tan/brown".
    assert 41.0 < individual_typology_angle(70.0, 15.0) < 55.0
    assert individual_typology_angle(40.0, 20.0) < 0.0
    assert individual_typology_angle(50.0, 0.0) == 0.0


def test_angular_error_degrees():
    assert angular_error_deg([1, 1, 1], [2, 2, 2]) == pytest.approx(0.0, abs=1e-6)
    assert angular_error_deg([1, 0, 0], [0, 1, 0]) == pytest.approx(90.0)
    assert angular_error_deg([1, 1, 0], [1, 0, 0]) == pytest.approx(45.0)
