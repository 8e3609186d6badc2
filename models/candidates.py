"""Candidate features beyond the shipped vector, measured beside it on the labelled photos.

Issue 16 asks whether distributions and contrasts (not only medians) carry more of the season:
the spread of lightness and chroma inside each region, the cheeks and the forehead apart, and the
cheek that faces the camera. These numbers are measured from the same pixels, at the same gains,
as the shipped features (`pipeline.measure.measure_colors`), so a model chosen on them could move
into `pipeline.features` with a new feature version unchanged. They are computed only at build and
benchmark time, never in the service.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from pipeline.arrays import BoolArray, FloatArray
from pipeline.color import chroma_hue, linear_rgb_to_lab
from pipeline.features import ColorFeatures
from pipeline.highlights import rebuild_clipped
from pipeline.landmark import FaceLandmarks
from pipeline.regions import FOREHEAD, LEFT_CHEEK, RIGHT_CHEEK, SUBPIXEL_BITS, FaceRegions, fixed_point

# Candidate names, in a fixed order (a measurement cache stores them as a vector).
_REGION_STATS = ("L10", "L50", "L90", "a50", "b50", "C10", "C50", "C90")
_PATCH_STATS = ("L", "a", "b")
CANDIDATE_NAMES: tuple[str, ...] = (
    *(f"{region}_{stat}" for region in ("skin", "eyes", "lips", "hair") for stat in _REGION_STATS),
    *(f"{patch}_{stat}" for patch in ("right_cheek", "left_cheek", "forehead") for stat in _PATCH_STATS),
)
_SAMPLE = 2000


def _lab_pixels(rgb: npt.NDArray[np.uint8], mask: BoolArray, gains: FloatArray) -> FloatArray | None:
    """CIELAB of up to _SAMPLE evenly strided unclipped pixels of the mask, at `gains` (n x 3)."""
    positions = np.flatnonzero(mask)
    if len(positions) == 0:
        return None
    sample = rgb.reshape(-1, 3)[positions[:: max(1, len(positions) // _SAMPLE)]]
    linear, blown = rebuild_clipped(sample, 1.0 / gains)
    if blown.all():
        return None
    return np.asarray(linear_rgb_to_lab(linear[~blown] * gains), dtype=np.float64)


def _region_stats(lab: FloatArray | None) -> list[float]:
    if lab is None:
        return [np.nan] * len(_REGION_STATS)
    chroma, _ = chroma_hue(lab)
    l10, l50, l90 = np.percentile(lab[:, 0], (10, 50, 90))
    c10, c50, c90 = np.percentile(chroma, (10, 50, 90))
    return [l10, l50, l90, float(np.median(lab[:, 1])), float(np.median(lab[:, 2])), c10, c50, c90]


def _patch(regions: FaceRegions, landmarks: FaceLandmarks, indices: tuple[int, ...]) -> BoolArray:
    """The skin mask's pixels inside one anchor patch (the regions module's own polygons)."""
    width, height = landmarks.image_size
    mask = np.zeros((height, width), np.uint8)
    outline = fixed_point(landmarks.points[list(indices), :2]).reshape(-1, 1, 2)
    cv2.fillPoly(mask, [outline], (1,), shift=SUBPIXEL_BITS)
    inside: BoolArray = regions.skin & mask.astype(bool)
    return inside


def measure_candidates(
    rgb: npt.NDArray[np.uint8], landmarks: FaceLandmarks, regions: FaceRegions, features: ColorFeatures
) -> FloatArray:
    """The CANDIDATE_NAMES vector of one face (NaN where a region has nothing to measure)."""
    gains = np.broadcast_to(
        np.asarray(1.0 if features.exposure is None else features.exposure.channel_gains, np.float64), (3,)
    )
    values: list[float] = []
    for mask in (regions.skin, regions.eyes, regions.lips, regions.hair):
        values += _region_stats(None if mask is None else _lab_pixels(rgb, mask, gains))
    for indices in (RIGHT_CHEEK, LEFT_CHEEK, FOREHEAD):
        lab = _lab_pixels(rgb, _patch(regions, landmarks, indices), gains)
        values += [np.nan] * 3 if lab is None else [float(np.median(lab[:, c])) for c in range(3)]
    return np.asarray(values, dtype=np.float64)
