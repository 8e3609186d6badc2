"""Exposure referenced to the whites of the eyes: colours measured as if at a standard exposure.

A photo taken one stop darker makes every colour darker, and lightness is one of the three axes
of the diagnosis (light vs deep), so without a reference the same person reads a deeper season
indoors than by a window. The lighting stage can only guess the exposure from the face and the
scene (`pipeline.normalize`), which cannot tell a deep-skinned face from a dark photo. The sclera
can: it is a near-white surface that every face shows, lit by the same light as the skin. This
stage measures its brightness after the lighting correction and returns the gain that brings it to
the level typical of well-exposed portraits; the features then measure every region at that gain.

Measured on the season-labelled portraits (`python -m bench.accuracy`, docs/accuracy.md): with
this reference the season stays the same under -1 EV for far more photos, at a small cost in
accuracy on neutral photos. Where too little sclera is visible (squinting, small faces, glare)
the gain is 1 and the lighting stage's own exposure correction stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from pipeline.color import LUMINANCE_WEIGHTS, uint8_to_linear
from pipeline.features import percentiles
from pipeline.landmark import LEFT_IRIS, RIGHT_IRIS, FaceLandmarks
from pipeline.regions import LEFT_EYE_CYCLE, RIGHT_EYE_CYCLE

_LEVELS: Final = uint8_to_linear(np.arange(256, dtype=np.uint8))
_LEVEL_LUMINANCE: Final = _LEVELS[:, None] * LUMINANCE_WEIGHTS[None, :]
# Any channel at or above this sRGB level is clipped: its brightness is a floor, not a measurement.
_CLIPPED: Final = 250


@dataclass(frozen=True)
class ExposureConfig:
    """How the sclera reference is read.

    `sclera_level`: the sclera's luminance Y (0-1, linear) that counts as standard exposure: the
    median, over the season-labelled portraits (professionally exposed), of the `percentile` below
    after the lighting stage: 0.366 over the 200 photos measured with `bench.accuracy`'s relaxed
    head-pose limits; `python -m models.photo_population` prints 0.362 over the 163 within the
    service's limits, the same to about 1% of gain.
    `percentile`: the sclera's brighter part, because its rim is shaded by the lids and lashes;
    not its brightest, which clips first in a bright photo (the astronaut's: at the 90th percentile
    one stop darker read 1.7 L* off on the skin, at the 75th 0.1).
    `min_pixels`: fewer sclera pixels than this and the reference is not trusted; nor is it when
    the percentile lands on clipped pixels (the sclera is blown out, its level unknown).
    `min_gain` / `max_gain`: a reference more than a stop above or two stops below the standard
    is more likely a misread (glare, a shadowed eye) than a missed exposure.
    `iris_margin`: the iris disc (its ring's mean radius times this) is left out of the sclera.
    """

    sclera_level: float = 0.366
    percentile: float = 75.0
    min_pixels: int = 20
    min_gain: float = 0.5
    max_gain: float = 4.0
    iris_margin: float = 1.1


@dataclass(frozen=True)
class ExposureReference:
    """The gain the features apply (1.0 when no trustworthy sclera was found) and what it rests on.

    `limited_by_skin`: the sclera asked for more brightening than the skin can plausibly take, so
    the features lowered the gain (`pipeline.features.MAX_REFERENCED_SKIN_LIGHTNESS`).
    """

    gain: float
    sclera_luminance: float | None
    sclera_pixels: int
    limited_by_skin: bool = False

    @property
    def used(self) -> bool:
        return self.sclera_luminance is not None


def sclera_exposure(
    rgb: npt.NDArray[np.uint8], landmarks: FaceLandmarks, config: ExposureConfig | None = None
) -> ExposureReference:
    """The exposure gain from the whites of both eyes of the (lighting-corrected) image."""
    cfg = config or ExposureConfig()
    pixels = _sclera_pixels(rgb, landmarks.points, cfg.iris_margin)
    clipped = (pixels >= _CLIPPED).any(axis=1)
    # The percentile is taken over every sclera pixel; a clipped one only says "at least this
    # bright", so when the percentile falls among them the level is unknown, not low.
    if len(pixels) < cfg.min_pixels or np.mean(clipped) > 1.0 - cfg.percentile / 100.0:
        return ExposureReference(gain=1.0, sclera_luminance=None, sclera_pixels=len(pixels))
    luminance = _LEVEL_LUMINANCE[pixels[:, 0], 0] + _LEVEL_LUMINANCE[pixels[:, 1], 1]
    luminance += _LEVEL_LUMINANCE[pixels[:, 2], 2]
    (level,) = percentiles(luminance, (cfg.percentile,))
    gain = float(np.clip(cfg.sclera_level / max(level, 1e-6), cfg.min_gain, cfg.max_gain))
    return ExposureReference(gain=gain, sclera_luminance=level, sclera_pixels=len(pixels))


def _sclera_pixels(
    rgb: npt.NDArray[np.uint8], points: npt.NDArray[np.float64], iris_margin: float
) -> npt.NDArray[np.uint8]:
    """Pixels inside both eye openings but outside the iris discs, drawn in a box around each eye."""
    height, width = rgb.shape[:2]
    parts = []
    for iris, contour in ((RIGHT_IRIS, RIGHT_EYE_CYCLE), (LEFT_IRIS, LEFT_EYE_CYCLE)):
        outline = points[list(contour), :2]
        x0, y0 = np.floor(outline.min(axis=0)).astype(int)
        x1, y1 = np.ceil(outline.max(axis=0)).astype(int) + 1
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
        if x1 <= x0 or y1 <= y0:
            continue
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        offset = np.array([x0, y0], dtype=np.float64)
        cv2.fillPoly(mask, [np.round(outline - offset).astype(np.int32)], (1,))
        ring = points[list(iris), :2] - offset
        # np.mean and np.linalg.norm written out (the same operations): for four points their
        # wrappers cost several times the arithmetic.
        center = ring.sum(axis=0) / len(ring)
        spokes = ring - center
        radius = float(np.sqrt((spokes * spokes).sum(axis=1)).sum()) / len(ring) * iris_margin
        cv2.circle(mask, (round(center[0]), round(center[1])), int(np.ceil(radius)), (0,), -1)
        parts.append(rgb[y0:y1, x0:x1][mask.astype(bool)])
    return np.concatenate(parts) if parts else np.zeros((0, 3), np.uint8)
