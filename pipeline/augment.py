"""Synthetic lighting: colour temperature casts and exposure changes, applied the physical way.

Used by the tests, the colour-constancy benchmark and model training to make "the same face under
other light" from one well-lit photo. A cast is applied as a von Kries (diagonal) change in linear
sRGB, which is what a camera white-balanced for D65 records under another illuminant (to the
accuracy of the diagonal model); exposure is a gain in linear RGB followed by the sensor's clipping.
Never touches the disk: arrays in, arrays out.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pipeline.arrays import FloatArray, Uint8Image
from pipeline.color import LUMINANCE_WEIGHTS, linear_to_uint8, uint8_to_linear

# Linear sRGB of the D65 white, the white point sRGB is defined for (IEC 61966-2-1), unit sum.
D65_LINEAR_RGB: FloatArray = np.full(3, 1.0 / 3.0)

_XYZ_TO_LINEAR_SRGB = np.array(
    [
        [3.2404542, -1.5371385, -0.4985314],
        [-0.9692660, 1.8760108, 0.0415560],
        [0.0556434, -0.2040259, 1.0572252],
    ]
)

MIN_KELVIN = 1667.0
MAX_KELVIN = 25000.0
DAYLIGHT_FROM_KELVIN = 4000.0
PURE_DAYLIGHT_FROM_KELVIN = 5000.0


def planckian_xy(kelvin: float) -> tuple[float, float]:
    """CIE 1931 xy of a blackbody, by the cubic-spline fit of Kim et al. (2002), 1667-25000 K.

    Kim, Kim, Lee et al., "Design of advanced color temperature control system for HDTV
    applications", J. Korean Physical Society 41(6), 865-871 (2002); within 0.0006 in xy of the
    exact Planck integral over the whole range.
    """
    t = _check_kelvin(kelvin)
    if t <= 4000.0:
        x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
    else:
        x = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
    if t <= 2222.0:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000.0:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    return x, y


def daylight_xy(kelvin: float) -> tuple[float, float]:
    """CIE 1931 xy of CIE daylight (CIE 15:2004, eq. 3.3-3.4), defined for 4000-25000 K.

    D65 is this locus at 6504 K (6500 K with the old value of the radiation constant c2).
    """
    t = _check_kelvin(kelvin)
    if not DAYLIGHT_FROM_KELVIN <= t <= MAX_KELVIN:
        raise ValueError(f"CIE daylight is defined for 4000-25000 K, not {kelvin}")
    if t <= 7000.0:
        x = -4.6070e9 / t**3 + 2.9678e6 / t**2 + 0.09911e3 / t + 0.244063
    else:
        x = -2.0064e9 / t**3 + 1.9018e6 / t**2 + 0.24748e3 / t + 0.237040
    y = -3.000 * x**2 + 2.870 * x - 0.275
    return x, y


def kelvin_to_linear_rgb(kelvin: float) -> FloatArray:
    """Linear sRGB white point (unit sum) of a light of the given correlated colour temperature.

    Below 4000 K the Planckian locus (tungsten and candle light are blackbody radiators); from
    5000 K up the CIE daylight locus (sun and sky, and the D65 that sRGB assumes). Daylight lies
    slightly on the green side of the Planckian locus (about 1.3 degrees in linear RGB at 4000 K),
    so in between the two are blended linearly in xy: no temperature jumps in colour. Components
    outside the sRGB gamut, which only the reddest lights approach, are floored at a small positive
    value so gains stay finite.
    """
    t = _check_kelvin(kelvin)
    blend = min(
        1.0, max(0.0, (t - DAYLIGHT_FROM_KELVIN) / (PURE_DAYLIGHT_FROM_KELVIN - DAYLIGHT_FROM_KELVIN))
    )
    x, y = planckian_xy(t)
    if blend > 0.0:
        xd, yd = daylight_xy(t)
        x, y = x + blend * (xd - x), y + blend * (yd - y)
    xyz = np.array([x / y, 1.0, (1.0 - x - y) / y])
    rgb = np.maximum(_XYZ_TO_LINEAR_SRGB @ xyz, 1e-3)
    return np.asarray(rgb / rgb.sum(), dtype=np.float64)


def illuminant_gains(illuminant: npt.ArrayLike, reference: npt.ArrayLike = D65_LINEAR_RGB) -> FloatArray:
    """Diagonal (von Kries) gains that turn `reference` light into `illuminant` light.

    Normalised so the luminance of a white surface is unchanged: a cast changes the colour of the
    light, not how bright the camera's automatic exposure makes the picture.
    """
    illum = _as_positive_rgb(illuminant, "illuminant")
    ref = _as_positive_rgb(reference, "reference")
    gains = (illum / illum.sum()) / (ref / ref.sum())
    return np.asarray(gains / float(LUMINANCE_WEIGHTS @ gains), dtype=np.float64)


def apply_illuminant(
    rgb: Uint8Image, illuminant: npt.ArrayLike, reference: npt.ArrayLike = D65_LINEAR_RGB
) -> Uint8Image:
    """Re-light an sRGB uint8 image taken under `reference` as if it were lit by `illuminant`."""
    return _apply_linear_gains(rgb, illuminant_gains(illuminant, reference))


def apply_exposure(rgb: Uint8Image, ev: float) -> Uint8Image:
    """Change exposure by `ev` stops (gain 2**ev in linear RGB); highlights clip like a sensor's."""
    return _apply_linear_gains(rgb, np.full(3, 2.0**ev))


def _apply_linear_gains(rgb: Uint8Image, gains: FloatArray) -> Uint8Image:
    # A per-channel gain in linear light is a 256-entry table per channel on sRGB uint8 input.
    image = np.asarray(rgb)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("expected an HxWx3 uint8 RGB image")
    levels = uint8_to_linear(np.arange(256, dtype=np.uint8))
    tables = np.stack([linear_to_uint8(levels * g) for g in gains], axis=-1)
    out: Uint8Image = tables[image, np.arange(3)]
    return out


def _check_kelvin(kelvin: float) -> float:
    t = float(kelvin)
    if not MIN_KELVIN <= t <= MAX_KELVIN:  # also refuses NaN
        raise ValueError(
            f"colour temperature must be within {MIN_KELVIN:.0f}-{MAX_KELVIN:.0f} K, not {kelvin}"
        )
    return t


def _as_positive_rgb(value: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be three positive finite numbers")
    return arr
