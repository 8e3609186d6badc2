"""Exposure and white referenced to the whites of the eyes: colours measured as if at a standard
exposure under a standard light.

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

The same surface also says what colour the light was. The lighting stage's white balance is a
gray-edge estimate over the whole frame, which follows a cast only roughly (its pixel selection
moves with the light: `python -m bench.invariance`). A von Kries step after it brings the
sclera's chromaticity to the one typical of the corrected labelled portraits, at unchanged sclera
luminance. On those portraits it keeps the season under 8000 K for 93.5% of photos instead of 81%
end to end (`python -m bench.accuracy`, docs/accuracy.md), with cross-validated accuracy a little
higher, and with the face regions held fixed it comes close to undoing each cast exactly
(docs/invariance.md). The chromaticity is the mean of the brighter half of the unclipped sclera
pixels: the rest is shaded by lids and lashes and reddened by vessels. Where fewer than
`min_pixels` unclipped sclera pixels are visible, the white stays as the lighting stage left it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from pipeline.arrays import FloatArray, Uint8Image
from pipeline.color import LUMINANCE_WEIGHTS, rgb_triple
from pipeline.highlights import rebuild_clipped
from pipeline.landmark import LEFT_IRIS, RIGHT_IRIS, FaceLandmarks
from pipeline.regions import LEFT_EYE_CYCLE, RIGHT_EYE_CYCLE, SUBPIXEL_BITS, fixed_point
from pipeline.stats import percentiles


@dataclass(frozen=True)
class ExposureConfig:
    """How the sclera reference is read.

    `sclera_level`: the sclera's luminance Y (0-1, linear) that counts as standard exposure: the
    median, over the season-labelled portraits (professionally exposed), of the `percentile` below
    after the lighting stage: 0.366 over the 200 photos measured with `bench.accuracy`'s relaxed
    head-pose limits; `python -m models.photo_population` prints 0.358 over the 163 within the
    service's limits (since Face Mesh is placed on the lighting stage's face), 3% of gain apart.
    `percentile`: the sclera's brighter part, because its rim is shaded by the lids and lashes;
    not its brightest, which clips first in a bright photo (the astronaut's: at the 90th percentile
    one stop darker read 1.7 L* off on the skin, at the 75th 0.1).
    `min_pixels`: fewer sclera pixels than this and the reference is not trusted; nor is it when
    the percentile lands on clipped pixels (the sclera is blown out, its level unknown).
    `min_gain` / `max_gain`: a reference more than a stop above or two stops below the standard
    is more likely a misread (glare, a shadowed eye) than a missed exposure.
    `iris_margin`: the iris disc (its ring's mean radius times this) is left out of the sclera.
    `sclera_chromaticity`: linear r, g, b of a sclera under the standard light: the median over
    the labelled portraits after the lighting stage of what `sclera_chromaticity()` reads
    (`python -m models.photo_population` prints it: 163 photos within the service's limits). Only
    its direction matters. Not neutral: even the bright sclera is slightly red. The brighter half
    (`white_percentile` 50) kept the season under casts 1-4 points more often than the brighter
    three quarters or quarter (measured with the median of those pixels, before the mean).
    `max_white_gain`: no channel is corrected by more than this factor either way (before the gains
    are rescaled to keep the sclera's luminance). Beyond it the reading is more likely a lid, lashes
    or a bloodshot eye than the light; clamping rather than dropping the correction keeps the
    result continuous in the light. On the labelled portraits the largest correction needed about
    twice the gain on one channel as on another, under any moderate cast.
    """

    sclera_level: float = 0.366
    percentile: float = 75.0
    min_pixels: int = 20
    min_gain: float = 0.5
    max_gain: float = 4.0
    iris_margin: float = 1.1
    sclera_chromaticity: tuple[float, float, float] = (0.3545, 0.3169, 0.3257)
    white_percentile: float = 50.0
    max_white_gain: float = 2.0


@dataclass(frozen=True)
class ExposureReference:
    """The gains the features apply (1.0 when no trustworthy sclera was found) and what they rest on.

    `gain` scales brightness; `white_gains` (linear R, G, B) correct the colour of the light and
    leave the sclera's luminance as it was; `sclera_chromaticity` is what they were computed from
    (None: too few unclipped sclera pixels). All of them act on top of `lighting_gains`, the lighting
    stage's own correction (`pipeline.normalize.NormalizedImage.gains`): the colours are measured
    from the photo as taken, at the product of both. `limited_by_skin`: the sclera asked for more brightening
    than the skin can plausibly take, so the features lowered the gain
    (`pipeline.features.MAX_REFERENCED_SKIN_LIGHTNESS`).
    """

    gain: float
    sclera_luminance: float | None
    sclera_pixels: int
    limited_by_skin: bool = False
    white_gains: tuple[float, float, float] = (1.0, 1.0, 1.0)
    sclera_chromaticity: tuple[float, float, float] | None = None
    lighting_gains: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def used(self) -> bool:
        return self.sclera_luminance is not None

    @property
    def white_used(self) -> bool:
        return self.white_gains != (1.0, 1.0, 1.0)

    @property
    def channel_gains(self) -> FloatArray:
        """What the features multiply the photo's linear R, G, B by: lighting, brightness and white."""
        white = np.asarray(self.white_gains, dtype=np.float64)
        return np.asarray(self.gain * white * np.asarray(self.lighting_gains, dtype=np.float64))


def sclera_exposure(
    rgb: Uint8Image,
    landmarks: FaceLandmarks,
    config: ExposureConfig | None = None,
    lighting_gains: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> ExposureReference:
    """The exposure and white gains from the whites of both eyes of the photo as taken, read as
    the lighting stage's `lighting_gains` (linear R, G, B) would show them.

    Clipping is judged on the photo as taken, and a partly clipped sclera pixel is rebuilt from its
    unclipped channels (`pipeline.highlights`): a warm lamp clips the sclera's red as it does the
    skin's, and without it the brightest sclera pixels would leave the reading.
    """
    cfg = config or ExposureConfig()
    lighting = np.asarray(lighting_gains, dtype=np.float64)
    pixels = sclera_pixels(rgb, landmarks.points, cfg.iris_margin)
    linear, blown = rebuild_clipped(pixels, 1.0 / lighting)
    linear *= lighting
    chromaticity = sclera_chromaticity(linear[~blown], cfg.white_percentile, cfg.min_pixels)
    white = ExposureReference(
        gain=1.0,
        sclera_luminance=None,
        sclera_pixels=len(pixels),
        white_gains=_white_gains(chromaticity, cfg),
        sclera_chromaticity=None if chromaticity is None else rgb_triple(chromaticity),
        lighting_gains=rgb_triple(lighting),
    )
    # The percentile is taken over every sclera pixel; one with every channel clipped only says
    # "at least this bright" (it enters at its clipped level), so when the percentile could fall
    # among them the level is unknown, not low.
    if len(pixels) < cfg.min_pixels or np.mean(blown) > 1.0 - cfg.percentile / 100.0:
        return white
    (level,) = percentiles(linear @ LUMINANCE_WEIGHTS, (cfg.percentile,))
    gain = float(np.clip(cfg.sclera_level / max(level, 1e-6), cfg.min_gain, cfg.max_gain))
    return replace(white, gain=gain, sclera_luminance=level)


def sclera_chromaticity(sclera: FloatArray, white_percentile: float, min_pixels: int) -> FloatArray | None:
    """Linear r, g, b (summing to 1) of the sclera's brighter part (the mean of its pixels at or
    above `white_percentile` of luminance), or None with too few pixels.

    `sclera`: linear RGB of the sclera pixels that are not blown out (a pixel with every channel
    clipped says nothing of the light's colour).
    """
    if len(sclera) < min_pixels:
        return None
    luminance = sclera @ LUMINANCE_WEIGHTS
    (threshold,) = percentiles(luminance, (white_percentile,))
    # The mean, not the median: when Face Mesh lands half a pixel elsewhere (as it does on the same
    # face under another light) a few rim pixels enter or leave the set, and a median of a few
    # hundred quantised levels jumps where the mean moves by a fraction; measured on the labelled
    # portraits the mean moved half as much (about 0.7% against 1.7% RMS per channel).
    color = sclera[luminance >= threshold].mean(axis=0)
    total = float(color.sum())
    return color / total if total > 0.0 else None


def _white_gains(measured: FloatArray | None, cfg: ExposureConfig) -> tuple[float, float, float]:
    """Von Kries gains taking the sclera's chromaticity to the standard one at its own luminance."""
    if measured is None or (measured <= 0.0).any():
        return (1.0, 1.0, 1.0)
    gains = _at_sclera_luminance(np.asarray(cfg.sclera_chromaticity) / measured, measured)
    clamped = np.clip(gains, 1.0 / cfg.max_white_gain, cfg.max_white_gain)
    return rgb_triple(_at_sclera_luminance(clamped, measured))


def _at_sclera_luminance(gains: FloatArray, sclera: FloatArray) -> FloatArray:
    """`gains` scaled so that they leave the sclera's luminance as it was (they change its colour only)."""
    return gains * (float(LUMINANCE_WEIGHTS @ sclera) / float(LUMINANCE_WEIGHTS @ (gains * sclera)))


def sclera_pixels(rgb: Uint8Image, points: FloatArray, iris_margin: float) -> Uint8Image:
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
        cv2.fillPoly(mask, [fixed_point(outline - offset)], (1,), shift=SUBPIXEL_BITS)
        ring = points[list(iris), :2] - offset
        # np.mean and np.linalg.norm written out (the same operations): for four points their
        # wrappers cost several times the arithmetic.
        center = ring.sum(axis=0) / len(ring)
        spokes = ring - center
        radius = float(np.sqrt((spokes * spokes).sum(axis=1)).sum()) / len(ring) * iris_margin
        center_fixed = fixed_point(center)
        cv2.circle(
            mask,
            (int(center_fixed[0]), int(center_fixed[1])),
            int(fixed_point(radius)),
            (0,),
            -1,
            shift=SUBPIXEL_BITS,
        )
        parts.append(rgb[y0:y1, x0:x1][mask.astype(bool)])
    return np.concatenate(parts) if parts else np.zeros((0, 3), np.uint8)
