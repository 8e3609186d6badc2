"""Colour science shared by every stage: sRGB transfer, CIELAB (D65), CIEDE2000, hex codes.

All conversions follow IEC 61966-2-1 (sRGB) and CIE 15:2004 (CIELAB, D65 white); CIEDE2000 follows
Sharma, Wu and Dalal (2005), whose test data the unit tests use. Arrays are float64 with the
channel on the last axis, so a single colour and a whole image go through the same code.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from pipeline.arrays import FloatArray, Uint8Image

# sRGB (linear) -> XYZ, D65, IEC 61966-2-1.
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
# Luminance Y of linear sRGB (the XYZ matrix's middle row): how bright a colour looks.
LUMINANCE_WEIGHTS: FloatArray = _RGB_TO_XYZ[1].copy()
D65_WHITE = _RGB_TO_XYZ @ np.ones(3)  # XYZ of linear RGB (1, 1, 1)

_EPSILON = 216 / 24389
_KAPPA = 24389 / 27


def rgb_triple(values: npt.ArrayLike) -> tuple[float, float, float]:
    """Three channel values (gains, a chromaticity) as plain floats: hashable, and JSON- and
    pickle-friendly inside frozen dataclasses, unlike a numpy array."""
    r, g, b = np.asarray(values, dtype=np.float64)
    return (float(r), float(g), float(b))


def srgb_to_linear(srgb: npt.ArrayLike) -> FloatArray:
    """Undo the sRGB transfer curve. Input in [0, 1]; uint8 images must be divided by 255 first."""
    c = np.asarray(srgb, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: npt.ArrayLike) -> FloatArray:
    """Apply the sRGB transfer curve; values are clipped to [0, 1] first."""
    c = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def uint8_to_linear(image: Uint8Image) -> FloatArray:
    """sRGB uint8 image to linear RGB in [0, 1], through a 256-entry table (fast for whole images)."""
    return _UINT8_TO_LINEAR[image]


def linear_to_uint8(linear: npt.ArrayLike) -> Uint8Image:
    """Linear RGB in [0, 1] to an sRGB uint8 image (clipped, rounded)."""
    return np.asarray(np.round(linear_to_srgb(linear) * 255.0), dtype=np.uint8)


_UINT8_TO_LINEAR: FloatArray = srgb_to_linear(np.arange(256) / 255.0)


def lightness_of_luminance(luminance: float) -> float:
    """CIE L* of a luminance Y relative to white (clipped at 0)."""
    y = max(luminance, 0.0)
    return 116.0 * y ** (1.0 / 3.0) - 16.0 if y > 216 / 24389 else y * 24389 / 27


def luminance_of_lightness(lightness: float) -> float:
    """Inverse of CIE L*: luminance Y relative to white."""
    f = (lightness + 16.0) / 116.0
    return f**3 if f**3 > 216 / 24389 else lightness * 27 / 24389


def linear_rgb_to_lab(linear: npt.ArrayLike) -> FloatArray:
    """Linear sRGB to CIELAB (D65). Negative inputs are clipped to 0."""
    rgb = np.clip(np.asarray(linear, dtype=np.float64), 0.0, None)
    xyz = rgb @ _RGB_TO_XYZ.T / D65_WHITE
    f = np.where(xyz > _EPSILON, np.cbrt(xyz), (_KAPPA * xyz + 16) / 116)
    lab = np.empty_like(f)  # filled in place: np.stack costs more than the arithmetic for a few pixels
    np.subtract(116 * f[..., 1], 16, out=lab[..., 0])
    np.multiply(500, f[..., 0] - f[..., 1], out=lab[..., 1])
    np.multiply(200, f[..., 1] - f[..., 2], out=lab[..., 2])
    return lab


def lab_to_linear_rgb(lab: npt.ArrayLike) -> FloatArray:
    """CIELAB (D65) to linear sRGB; out-of-gamut values are left unclipped."""
    lab_arr = np.asarray(lab, dtype=np.float64)
    # Written into one array: np.stack costs more than the arithmetic for one colour (a hex code).
    f = np.empty((*lab_arr.shape[:-1], 3))
    fy = np.divide(lab_arr[..., 0] + 16, 116, out=f[..., 1])
    np.add(fy, lab_arr[..., 1] / 500, out=f[..., 0])
    np.subtract(fy, lab_arr[..., 2] / 200, out=f[..., 2])
    cubes = f**3
    # For Y this is the same as the textbook "L* > 8" test, since f_y**3 > epsilon <=> L* > 8.
    xyz = np.where(cubes > _EPSILON, cubes, (116 * f - 16) / _KAPPA)
    rgb: FloatArray = (xyz * D65_WHITE) @ _XYZ_TO_RGB.T
    return rgb


def srgb_uint8_to_lab(image: Uint8Image) -> FloatArray:
    """sRGB uint8 pixels (any leading shape, channel last) to CIELAB (D65)."""
    return linear_rgb_to_lab(uint8_to_linear(image))


def lab_to_hex(lab: npt.ArrayLike) -> str:
    """One CIELAB colour to an sRGB hex code such as '#c8a27a' (clipped into the gamut)."""
    rgb = linear_to_uint8(lab_to_linear_rgb(lab))
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb))


def hex_to_srgb_uint8(code: str) -> Uint8Image:
    """'#rrggbb' to an sRGB uint8 triple. Raises ValueError for anything else."""
    text = code.strip()
    if len(text) != 7 or text[0] != "#":
        raise ValueError(f"not a #rrggbb colour: {code!r}")
    return np.array([int(text[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.uint8)


def hex_to_lab(code: str) -> FloatArray:
    return srgb_uint8_to_lab(hex_to_srgb_uint8(code))


def chroma_hue(lab: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """CIELAB chroma C*ab and hue angle h_ab in degrees [0, 360)."""
    lab_arr = np.asarray(lab, dtype=np.float64)
    a, b = lab_arr[..., 1], lab_arr[..., 2]
    return np.hypot(a, b), np.degrees(np.arctan2(b, a)) % 360.0


def individual_typology_angle(lightness: float, b: float) -> float:
    """ITA° = atan((L* - 50) / b*) in degrees (Chardon et al., 1991): > 55 very light ... < -30 dark.

    Uses atan2 so that b* = 0 does not divide by zero; for b* > 0 (all real skin) it equals atan.
    """
    return math.degrees(math.atan2(lightness - 50.0, b))


def angular_error_deg(rgb_a: npt.ArrayLike, rgb_b: npt.ArrayLike) -> float:
    """Angle between two RGB vectors (the usual illuminant-estimation error measure), in degrees."""
    a = np.asarray(rgb_a, dtype=np.float64)
    b = np.asarray(rgb_b, dtype=np.float64)
    cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    return math.degrees(math.acos(min(1.0, max(-1.0, cos))))


def delta_e_2000(lab1: npt.ArrayLike, lab2: npt.ArrayLike) -> FloatArray:
    """CIEDE2000 colour difference (kL = kC = kH = 1), vectorised over leading axes."""
    l1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=np.float64), -1, 0)
    l2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=np.float64), -1, 0)
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    c_mean7 = ((c1 + c2) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c_mean7 / (c_mean7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360

    dlp = l2 - l1
    dcp = c2p - c1p
    # Rounded so float noise cannot flip a difference of exactly 180 degrees (Sharma et al., pair 14).
    hue_gap = np.round(h2p - h1p, 9)
    dh = np.where(hue_gap > 180, hue_gap - 360, np.where(hue_gap < -180, hue_gap + 360, hue_gap))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dhp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))

    lp_mean = (l1 + l2) / 2
    cp_mean = (c1p + c2p) / 2
    h_sum = h1p + h2p
    hp_mean = np.where(
        c1p * c2p == 0,
        h_sum,
        np.where(
            np.abs(hue_gap) <= 180, h_sum / 2, np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2)
        ),
    )
    t = (
        1
        - 0.17 * np.cos(np.radians(hp_mean - 30))
        + 0.24 * np.cos(np.radians(2 * hp_mean))
        + 0.32 * np.cos(np.radians(3 * hp_mean + 6))
        - 0.20 * np.cos(np.radians(4 * hp_mean - 63))
    )
    d_theta = 30 * np.exp(-(((hp_mean - 275) / 25) ** 2))
    cp_mean7 = cp_mean**7
    r_c = 2 * np.sqrt(cp_mean7 / (cp_mean7 + 25.0**7))
    s_l = 1 + 0.015 * (lp_mean - 50) ** 2 / np.sqrt(20 + (lp_mean - 50) ** 2)
    s_c = 1 + 0.045 * cp_mean
    s_h = 1 + 0.015 * cp_mean * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    squared = (dlp / s_l) ** 2 + (dcp / s_c) ** 2 + (dhp / s_h) ** 2 + r_t * (dcp / s_c) * (dhp / s_h)
    return np.asarray(np.sqrt(squared), dtype=np.float64)
