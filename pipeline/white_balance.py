"""White balance: the colour of the light in a photo, estimated from its own pixels.

The default method was chosen by measurement (`python -m bench.color_constancy`): six casts (4000, 5000,
8000, 10000 K, green, magenta; 6.5-21 degrees from neutral) of the astronaut photo at 0 and -1 EV.
"err" is the angle between estimated and applied illuminant, "dE" the CIEDE2000 of the corrected
cheek median against the uncast one (known EV undone), measured 2026-11-25:

    method                 median err  max err  median dE  max dE   bias on the uncast photo
    gray_world               14.8        16.3      18.9      20.3     15.7
    shades_of_gray (p=6)      5.6         7.7       7.6      10.8      6.0
    gray_edge (p=6)           1.7         5.3       2.8       5.2      1.4
    gray_pixels               2.9         3.4       3.1       4.7      2.7
    gray_edge_and_pixels      2.0         3.9       2.8       3.6      2.0   <- default

The gray-world family is biased by whatever colour dominates the frame, and in a portrait that is
skin, hair and clothing (here a large orange suit). Gray edge (van de Weijer et al. 2007) is far
less biased, but saturated edges pull it once a cast changes which pixels clip (5.3 degrees at
10000 K, -1 EV). `gray_pixels` averages only the pixels that look neutral under the current
estimate (walls, white clothing, sclera), refined with a narrowing tolerance, in the spirit of Huo
et al., "Robust automatic white balance algorithm using gray color points in images" (IEEE Trans.
Consumer Electronics 52(2), 2006): it follows a change of light best (0.4 degrees median against
its own uncast estimate) but inherits the tint of the "neutral" surfaces (the warm backdrop here).
The two fail for unrelated reasons, so the default takes their geometric mean: it meets both
targets (median err <= 3 degrees, median dE <= 3) with the best worst case. All stay selectable.

Every method works on image-wide statistics of a small copy (`pipeline.normalize` passes one at
most 160 px on its long side), in float32. Pure numpy/OpenCV on the caller's array; keeps nothing.
"""

from __future__ import annotations

import math
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from pipeline.arrays import BoolArray, Float32Array, FloatArray, Uint8Image
from pipeline.color import LUMINANCE_WEIGHTS, uint8_to_linear

WHITE_BALANCE_METHODS: Final = (
    "gray_edge_and_pixels",
    "gray_world",
    "shades_of_gray",
    "gray_edge",
    "gray_pixels",
    "none",
)
# Pixels at or above this sRGB level in any channel have lost information; below DARK_LEVEL in
# every channel they are mostly noise. Both are excluded from the illuminant estimate (and the
# lighting report counts them as clipped highlights and shadows).
CLIP_LEVEL: Final = 250
DARK_LEVEL: Final = 8

_LUMINANCE_F32 = LUMINANCE_WEIGHTS.astype(np.float32)
# Statistics run in float32: ample for averages of a few thousand pixels, and twice as fast.
_LEVELS_LINEAR_F32 = uint8_to_linear(np.arange(256, dtype=np.uint8)).astype(np.float32)


def estimate_illuminant(
    rgb: Uint8Image, method: str = "gray_edge_and_pixels", minkowski_p: float = 6.0
) -> FloatArray:
    """The colour of the light in linear RGB (unit sum), from an sRGB uint8 image.

    Meant for a small copy (a few hundred px): every method works on image-wide statistics.
    Clipped and near-black pixels are left out, since their colour says nothing about the light.
    Pixel subsets are expressed as weight vectors and reduced with matrix products, which is
    several times faster than gathering them with boolean indexing.
    """
    linear = _to_linear_f32(rgb)
    brightest = channel_max(rgb)
    usable = (brightest < CLIP_LEVEL) & (brightest > DARK_LEVEL)
    if method == "none" or np.count_nonzero(usable) < 64:
        return np.full(3, 1.0 / 3.0)
    pixels = linear.reshape(-1, 3)
    weights = usable.reshape(-1).astype(np.float32)
    if method == "gray_world":
        estimate = _minkowski_mean(pixels, weights, 1.0)
    elif method == "shades_of_gray":
        estimate = _minkowski_mean(pixels, weights, minkowski_p)
    elif method == "gray_edge":
        estimate = gray_edge(linear, usable, minkowski_p)
    elif method == "gray_pixels":
        estimate = _refine_on_gray_pixels(pixels, weights, _minkowski_mean(pixels, weights, minkowski_p))
    elif method == "gray_edge_and_pixels":
        # Two cues with unrelated failure modes (saturated edges vs tinted "neutral" surfaces):
        # average them in log chromaticity, the natural mean for multiplicative gains.
        edge = _unit_sum(gray_edge(linear, usable, minkowski_p))
        gray = _refine_on_gray_pixels(pixels, weights, _minkowski_mean(pixels, weights, minkowski_p))
        estimate = np.sqrt(edge * gray)
    else:
        raise ValueError(f"unknown white balance method {method!r}")
    return _unit_sum(estimate)


def white_balance_gains(illuminant: npt.ArrayLike) -> FloatArray:
    """Von Kries gains mapping `illuminant` to the D65 white (equal linear RGB), keeping its luminance."""
    light = np.maximum(np.asarray(illuminant, dtype=np.float64), 1e-6)
    return np.asarray(float(LUMINANCE_WEIGHTS @ light) / light, dtype=np.float64)


def _minkowski_mean(values: Float32Array, weights: Float32Array, p: float) -> FloatArray:
    """Shades of gray (Finlayson and Trezzi, 2004): the weighted p-norm mean per channel.

    p=1 is gray world; p -> infinity approaches max-RGB.
    """
    powered = values
    if float(p).is_integer():
        # Repeated multiplication: numpy's generic float power is several times slower.
        for _ in range(int(p) - 1):
            powered = powered * values
    else:
        powered = values**p
    mean = (weights @ powered).astype(np.float64) / max(float(weights.sum()), 1e-12)
    return np.asarray(np.maximum(mean, 0.0) ** (1.0 / p), dtype=np.float64)


def gray_edge(linear: Float32Array, usable: BoolArray, p: float) -> FloatArray:
    """First-order gray edge (van de Weijer, Gevers and Gijsenij, 2007): the p-norm of gradients.

    The average colour difference between neighbouring surfaces is achromatic, which holds far
    better in portraits than "the average colour is gray": large uniform areas (skin, a coloured
    shirt) contribute edges only at their borders. sigma=1 smoothing as in the paper.
    """
    image = cv2.GaussianBlur(linear, (0, 0), 1.0)
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0).reshape(-1)
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1).reshape(-1)
    magnitude = np.asarray(cv2.magnitude(gx, gy), dtype=np.float32).reshape(-1, 3)
    # An edge touching a clipped pixel has a false colour; drop a one-pixel border around them.
    inner = cv2.erode(usable.astype(np.uint8), np.ones((3, 3), np.uint8)).reshape(-1).astype(np.float32)
    if inner.sum() < 64:
        return _minkowski_mean(linear.reshape(-1, 3), usable.reshape(-1).astype(np.float32), p)
    estimate = _minkowski_mean(magnitude, inner, p)
    if not np.all(estimate > 0):
        return _minkowski_mean(linear.reshape(-1, 3), usable.reshape(-1).astype(np.float32), p)
    return estimate


def _refine_on_gray_pixels(pixels: Float32Array, weights: Float32Array, estimate: FloatArray) -> FloatArray:
    """Average the pixels that look neutral under the current estimate; repeat, narrowing the cone.

    Weighted by luminance squared, because bright neutral surfaces (white clothing, sclera, walls
    in light) are lit by the main light, while dark "neutral" pixels are often shadowed or noisy.
    Stops when fewer than 1% of the usable pixels qualify and keeps the last estimate.
    """
    luminance = pixels @ _LUMINANCE_F32
    brightness_weights = luminance * luminance * weights
    enough = max(32.0, 0.01 * float(weights.sum()))
    current = _unit_sum(estimate)
    # The balanced pixels (pixels / current) are never formed: their channel sum and squared norm
    # are matrix-vector products with 1/current and 1/current^2, which on one core is several times
    # faster than broadcasting over an N x 3 array.
    squared_pixels = pixels * pixels
    for tolerance_deg in (12.0, 8.0, 5.0):
        inverse = (1.0 / current).astype(np.float32)
        # angle to (1,1,1) below tolerance <=> sum^2 > 3 cos^2(tol) * |v|^2 (no square roots)
        total = pixels @ inverse
        squared = squared_pixels @ (inverse * inverse)
        neutral = (total > 0) & (total * total > 3.0 * math.cos(math.radians(tolerance_deg)) ** 2 * squared)
        if float(weights @ neutral.astype(np.float32)) < enough:
            break
        selected = brightness_weights * neutral
        current = _unit_sum((selected @ pixels).astype(np.float64) / max(float(selected.sum()), 1e-12))
    return current


def channel_max(pixels: Uint8Image) -> Uint8Image:
    """Per-pixel maximum over the last (channel) axis; ndarray.max(axis=-1) is slow for 3 channels."""
    return np.maximum(np.maximum(pixels[..., 0], pixels[..., 1]), pixels[..., 2])


def _to_linear_f32(rgb: Uint8Image) -> Float32Array:
    """Linear RGB (float32) of sRGB uint8 pixels through one table lookup (cv2.LUT: faster than numpy)."""
    return np.asarray(cv2.LUT(rgb, _LEVELS_LINEAR_F32), dtype=np.float32)


def _unit_sum(rgb: FloatArray) -> FloatArray:
    positive = np.maximum(np.asarray(rgb, dtype=np.float64), 1e-9)
    return np.asarray(positive / positive.sum(), dtype=np.float64)
