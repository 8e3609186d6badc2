"""Lighting: measure how good it is, correct what can be corrected, refuse what cannot.

A selfie's colours are the skin's colours times the light's. This stage estimates the light's colour
(the illuminant) in linear RGB, maps it to the D65 white that sRGB is defined for with a diagonal
von Kries correction, evens out a badly missed exposure, and scores what remains. Moderate casts
(roughly 4000-10000 K) and exposure misses of a couple of stops are corrected; only light that has
destroyed the colour information (channels clipped across the face, a face lost in shadow, a
cast so strong one channel is nearly empty) is refused with POOR_LIGHTING_CONDITION and
specific advice.

The illuminant estimate is `pipeline.white_balance`'s (the methods, and the measurements that
chose the default, are there); this module owns the report, the score and the correction.

Statistics are computed on a copy at most 160 px on its long side, and the correction itself is a
single 256-entry table per channel (a gain in linear light is a fixed map of sRGB uint8 levels),
so the whole stage costs a few milliseconds at working size. Never writes image data anywhere.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, Final

import cv2
import numpy as np

from pipeline.arrays import Float32Array, FloatArray, Uint8Image
from pipeline.color import (
    LUMINANCE_WEIGHTS,
    angular_error_deg,
    lightness_of_luminance,
    linear_to_uint8,
    luminance_of_lightness,
    rgb_triple,
    uint8_to_linear,
)
from pipeline.errors import ErrorCode, PipelineError
from pipeline.face_detection import DetectedFace, FaceDetector
from pipeline.stats import percentiles
from pipeline.white_balance import (
    CLIP_LEVEL,
    DARK_LEVEL,
    WHITE_BALANCE_METHODS,
    channel_max,
    estimate_illuminant,
    white_balance_gains,
)

Box = tuple[int, int, int, int]

PROBLEMS: Final = ("too_dark", "too_bright", "color_cast", "backlit", "low_contrast")

_LEVELS_LINEAR = uint8_to_linear(np.arange(256, dtype=np.uint8))
_FACE_SAMPLE_PIXELS: Final = 8_000
# Median log-average luminance of the 206 professionally lit portraits in the seasons set.
_TYPICAL_SCENE_KEY: Final = 0.136

_ADVICE: Final = {
    "too_dark": "The photo is too dark. Face a window or a lamp, or turn on more lights.",
    "too_bright": "Parts of your face are washed out. Step out of direct sun or move away from the lamp.",
    "color_cast": "The light is strongly colored. Take the photo in daylight, near a window, "
    "away from colored lamps.",
    "backlit": "The light is behind you. Turn around so the light falls on your face.",
    "low_contrast": "The photo looks hazy or flat. Wipe the camera lens and use brighter, even light.",
}


@dataclass(frozen=True)
class LightingConfig:
    """How the stage corrects and how strict it is. The service builds this from its settings.

    `min_score`: photos scoring below it (0-100) are refused. Each measured part maps to a quality
    between 0 and 1 and the score is 100 times their product, with the ramps set so that any single
    part at its "problem" level halves the score on its own: at the default of 50 one real
    problem refuses the photo, while several small imperfections do not add up to a refusal.
    """

    min_score: float = 50.0
    white_balance: str = "gray_edge_and_pixels"
    minkowski_p: float = 6.0
    stats_max_side: int = 160
    face_lightness_min: float = 60.0
    face_lightness_max: float = 85.0
    max_exposure_gain_ev: float = 2.5
    max_exposure_cut_ev: float = 1.5
    face_detection_confidence: float = 0.5

    def __post_init__(self) -> None:
        if self.white_balance not in WHITE_BALANCE_METHODS:
            raise ValueError(
                f"white_balance must be one of {WHITE_BALANCE_METHODS}, not {self.white_balance!r}"
            )
        if not 0.0 <= self.min_score <= 100.0:
            raise ValueError("min_score must be within 0-100")
        if self.minkowski_p < 1.0 or self.stats_max_side < 32:
            raise ValueError("minkowski_p must be >= 1 and stats_max_side >= 32")


@dataclass(frozen=True)
class LightingReport:
    """What the light was like in the photo as taken, before correction.

    - `exposure`: median CIELAB L* (0-100) of the face area (of a central region without a face).
    - `clipped_highlights` / `clipped_shadows`: fractions of the face area with at least two
      channels blown out (washed out, colour lost) / with every channel near black.
    - `contrast`: spread of L* over the whole frame, 99th minus 1st percentile (about 90 in a good
      photo; haze, fog or a smeared lens lift the blacks and shrink it).
    - `cast_strength_deg`: angle between the estimated illuminant and neutral, in linear RGB.
    - `backlight`: median L* of what surrounds the head (beside and above the face, not the body
      below it) minus the face's median L*: large and positive when the light is behind the person.
    - `illuminant`: the estimated light colour, linear RGB with unit sum.
    - `exposure_correction_ev`: the exposure change applied by the correction.
    """

    score: float
    exposure: float
    clipped_highlights: float
    clipped_shadows: float
    contrast: float
    cast_strength_deg: float
    backlight: float
    problems: tuple[str, ...]
    illuminant: tuple[float, float, float]
    exposure_correction_ev: float = 0.0
    white_balance: str = "gray_edge_and_pixels"
    face_found: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: only numbers, strings, booleans and lists."""
        data = asdict(self)
        data["problems"] = list(self.problems)
        data["illuminant"] = [round(v, 4) for v in self.illuminant]
        for key, value in data.items():
            if isinstance(value, float):
                data[key] = round(value, 3)
        return data

    def advice(self) -> list[str]:
        """One actionable sentence per problem, in a stable order."""
        return [_ADVICE[p] for p in PROBLEMS if p in self.problems]


@dataclass(frozen=True)
class NormalizedImage:
    """The photo as taken, the correction of its lighting, what was measured, and where the face was.

    The correction is kept as linear gains (R, G, B: white balance times exposure) beside the
    untouched photo, and the colours are measured from the photo at those gains in floating point
    (`pipeline.measure`). An 8-bit corrected copy would clip every channel the correction brightens
    and hide which levels the camera clipped (a clipped red of 255, darkened, looks like a
    measurement of 220). That copy, `rgb`, is what Face Mesh and people see; it is made on first
    use, so the stages pass one image between them, not two.
    """

    original: Uint8Image = field(repr=False)
    gains: tuple[float, float, float]
    report: LightingReport
    face_box: Box | None
    # Every face the short-range detector found, most confident first: Face Mesh starts from these.
    faces: tuple[DetectedFace, ...] = ()

    @cached_property
    def rgb(self) -> Uint8Image:
        """The corrected picture (same size as the photo), sRGB uint8."""
        return _apply_table(self.original, correction_table(np.asarray(self.gains)))


class LightingCorrector:
    """Scores and corrects the lighting of a selfie. Loads its face detector once; thread-safe.

    The face detector (about 1.4 ms per call on a 160 px copy) serialises its calls; everything else
    is pure numpy/OpenCV on local arrays.
    """

    def __init__(self, config: LightingConfig | None = None) -> None:
        self.config = config or LightingConfig()
        self._detector = FaceDetector(full_range=False, min_confidence=self.config.face_detection_confidence)

    def close(self) -> None:
        self._detector.close()

    def correct(self, rgb: Uint8Image, client_score: float | None = None) -> NormalizedImage:
        """Correct white balance and exposure; refuse with POOR_LIGHTING_CONDITION when hopeless.

        `client_score` is the front end's own 0-100 estimate. It can only make the check stricter:
        the server's own score is always computed and must pass too.
        """
        _check_image(rgb)
        if client_score is not None and not (math.isfinite(client_score) and 0.0 <= client_score <= 100.0):
            raise PipelineError(ErrorCode.VALIDATION_ERROR, "lighting_score must be a number from 0 to 100.")
        config = self.config

        small = downscale(rgb, config.stats_max_side)
        illuminant = estimate_illuminant(small, config.white_balance, config.minkowski_p)
        gains = white_balance_gains(illuminant)
        # The detector sees the white-balanced copy: strong casts cost it confidence otherwise.
        balance = correction_table(gains)
        faces = self._detector.detect(_apply_table(small, balance))

        scale = rgb.shape[1] / small.shape[1]
        face_box = _scale_box(_pixel_box(faces[0], small.shape), scale, rgb.shape) if faces else None
        region = face_box or _central_box(rgb.shape)
        report = _measure(
            rgb,
            region,
            small,
            _scale_box(region, 1.0 / scale, small.shape),
            illuminant,
            gains,
            config,
            face_found=face_box is not None,
        )
        if report.score < config.min_score or (client_score is not None and client_score < config.min_score):
            raise _poor_lighting(report, client_score, config.min_score)
        return NormalizedImage(
            original=rgb,
            gains=rgb_triple(gains * 2.0**report.exposure_correction_ev),
            report=report,
            face_box=face_box,
            faces=faces,
        )


def _exposure_correction_ev(face_lightness: float, scene_key: float, config: LightingConfig) -> float:
    """Bring a missed exposure back towards the normal range, but only as far as face AND scene agree.

    Well-exposed portraits keep the face box at L* 53-80 (5th-95th percentile over the 206 photos
    of the seasons calibration set), while their scene key (log-average luminance, Reinhard et al.
    2002) spreads over 3.4 stops because backgrounds differ. So the face says whether exposure was
    missed; but metering on the face alone would push every face to the same lightness and erase
    the difference between light and deep skin, which is what the diagnosis measures. A face darker
    than `face_lightness_min` is therefore raised towards it only as far as the scene is also
    darker than typical (and one brighter than `face_lightness_max` lowered only as far as the
    scene is brighter), which leaves a deep-skinned face in a normal scene alone. The result is
    continuous and monotonic in the input exposure. It cannot restore a bright face's own lightness
    (the astronaut at -1 EV comes back at L* ~61, not 75): that needs a neutral reference such as
    the sclera, which only the landmark stage can find.
    """
    face_y = luminance_of_lightness(face_lightness)
    if face_lightness < config.face_lightness_min:
        face_needed = math.log2(luminance_of_lightness(config.face_lightness_min) / face_y)
    elif face_lightness > config.face_lightness_max:
        face_needed = math.log2(luminance_of_lightness(config.face_lightness_max) / face_y)
    else:
        return 0.0
    scene_needed = math.log2(_TYPICAL_SCENE_KEY / max(scene_key, 1e-6))
    if face_needed > 0:
        ev = min(face_needed, max(scene_needed, 0.0))
    else:
        ev = max(face_needed, min(scene_needed, 0.0))
    return float(np.clip(ev, -config.max_exposure_cut_ev, config.max_exposure_gain_ev))


def correction_table(gains: FloatArray) -> Uint8Image:
    """A (1, 256, 3) table for cv2.LUT: each channel's sRGB level -> level after a linear gain.

    A gain in linear light is a fixed map of the 256 sRGB uint8 levels, so correcting a whole photo
    costs one lookup per pixel instead of a round trip through linear floats.
    """
    return linear_to_uint8(_LEVELS_LINEAR[:, None] * gains).reshape(1, 256, 3)


def _measure(
    rgb: Uint8Image,
    region: Box,
    small: Uint8Image,
    region_small: Box,
    illuminant: FloatArray,
    gains: FloatArray,
    config: LightingConfig,
    *,
    face_found: bool,
) -> LightingReport:
    x, y, w, h = region
    # An evenly strided sample of at most ~8000 face pixels: fractions and medians stay exact to
    # well under a percent, at a fraction of the cost for a large face.
    step = max(1, math.isqrt(w * h // _FACE_SAMPLE_PIXELS))
    face = np.ascontiguousarray(rgb[y : y + h : step, x : x + w : step]).reshape(-1, 3)
    # L* is monotonic in luminance, so order statistics are taken on luminance and converted once.
    exposure = lightness_of_luminance(float(np.median(_balanced_luminance(face, gains))))
    # Washed out = at least two channels blown: lightness and hue are both lost. One clipped
    # channel alone is common under coloured light and still leaves a usable colour.
    blown = face >= CLIP_LEVEL
    two_blown = (blown[:, 0] & blown[:, 1]) | (blown[:, 1] & blown[:, 2]) | (blown[:, 0] & blown[:, 2])
    clipped_highlights = float(np.mean(two_blown))
    clipped_shadows = float(np.mean(channel_max(face) <= DARK_LEVEL))

    luminance = _balanced_luminance(small, gains)
    sx, sy, sw, sh = region_small
    low, high = percentiles(luminance, (1.0, 99.0))
    contrast = lightness_of_luminance(float(high)) - lightness_of_luminance(float(low))
    surround = np.zeros(luminance.shape, dtype=bool)
    surround[max(0, sy - sh) : sy + sh, max(0, sx - sw) : sx + 2 * sw] = True
    surround[sy : sy + sh, sx : sx + sw] = False
    backlight = 0.0
    if surround.any():
        backlight = lightness_of_luminance(float(np.median(luminance[surround]))) - exposure
    cast = angular_error_deg(illuminant, np.ones(3))
    scene_key = float(np.exp(np.mean(np.log(luminance + 1e-4))))  # log-average, as a camera meter
    exposure_ev = _exposure_correction_ev(exposure, scene_key, config)

    # Quality ramps: 1 where fine, 0.5 at the "problem" level, 0 where hopeless. Washed-out faces:
    # on the 206 seasons portraits pushed +0.5 to +1.5 EV, even undoing the known exposure leaves
    # the mid-face colour off by a median CIEDE2000 of 0.9 (under 5% of the face blown), 7.5
    # (10-20%) and 13 (30-40%): beyond ~30% the colour is gone, not shifted, so it is refused.
    # Casts: 4000 K is ~21 degrees from neutral and must pass, also on a photo that is warm
    # already: a tenth of the labelled portraits read 18 degrees or more as taken, and under 4000 K
    # a tenth read 34 or more (ramp 45/32/22 refused 16-19% of them under 4000 K; 52/40/28 4%).
    # 2000 K on a neutral photo (~44) is refused; 2500 K (~39) is scored a problem.
    qualities = {
        "too_dark": min(_ramp(exposure, 10.0, 20.0, 30.0), _ramp(-clipped_shadows, -0.5, -0.3, -0.1)),
        "too_bright": min(
            _ramp(-exposure, -98.0, -93.0, -88.0), _ramp(-clipped_highlights, -0.5, -0.3, -0.1)
        ),
        "color_cast": _ramp(-cast, -52.0, -40.0, -28.0),
        # Without a face, a flat backdrop cannot be told from haze nor a bright wall from backlight;
        # the landmark stage then reports the missing face, which is the advice that helps.
        "backlit": _ramp(-backlight, -55.0, -40.0, -25.0) if face_found else 1.0,
        "low_contrast": _ramp(contrast, 15.0, 30.0, 45.0) if face_found else 1.0,
    }
    score = 100.0 * math.prod(qualities.values())
    problems = tuple(p for p in PROBLEMS if qualities[p] < 0.5)
    if score < config.min_score and not problems:
        # Several moderate issues together: name the worst ones so the person knows what to fix.
        problems = tuple(p for p in PROBLEMS if qualities[p] < 0.8) or (
            min(qualities, key=qualities.__getitem__),
        )
    return LightingReport(
        score=round(score, 1),
        exposure=exposure,
        clipped_highlights=clipped_highlights,
        clipped_shadows=clipped_shadows,
        contrast=contrast,
        cast_strength_deg=cast,
        backlight=backlight,
        problems=problems,
        illuminant=(float(illuminant[0]), float(illuminant[1]), float(illuminant[2])),
        exposure_correction_ev=exposure_ev,
        white_balance=config.white_balance,
        face_found=face_found,
    )


def _apply_table(rgb: Uint8Image, table: Uint8Image) -> Uint8Image:
    """cv2.LUT with `table` (1 x 256 x 3), one plane at a time.

    OpenCV has no vectorised path for a three-channel table; splitting into planes, looking each
    up with its own single-channel table and merging is twice as fast at 640x480 and bit-identical.
    """
    planes = [
        cv2.LUT(plane, np.ascontiguousarray(table[0, :, channel]))
        for channel, plane in enumerate(cv2.split(rgb))
    ]
    return np.asarray(cv2.merge(planes), dtype=np.uint8)


def _ramp(value: float, zero_at: float, half_at: float, one_at: float) -> float:
    """Piecewise-linear quality: 0 at or below `zero_at`, 0.5 at `half_at`, 1 at or above `one_at`."""
    if value >= one_at:
        return 1.0
    if value <= zero_at:
        return 0.0
    if value >= half_at:
        return 0.5 + 0.5 * (value - half_at) / (one_at - half_at)
    return 0.5 * (value - zero_at) / (half_at - zero_at)


def _balanced_luminance(rgb: Uint8Image, gains: FloatArray) -> Float32Array:
    """Luminance Y after white balance, straight from sRGB uint8 through one table per channel.

    cv2.LUT with a float table does the three lookups in one pass, faster than numpy indexing.
    """
    tables = (_LEVELS_LINEAR[:, None] * (LUMINANCE_WEIGHTS * gains)[None, :]).astype(np.float32)
    weighted = np.asarray(cv2.LUT(rgb.reshape(-1, 1, 3), tables.reshape(1, 256, 3)), dtype=np.float32)
    weighted = weighted.reshape(-1, 3)
    y: Float32Array = weighted[:, 0] + weighted[:, 1] + weighted[:, 2]
    return y.reshape(rgb.shape[:-1])


def _poor_lighting(report: LightingReport, client_score: float | None, min_score: float) -> PipelineError:
    problems = list(report.problems)
    details: dict[str, Any] = {"problems": problems, "score": report.score, "min_score": min_score}
    advice = report.advice()
    if report.score >= min_score and client_score is not None:
        details["client_score"] = client_score
        advice = advice or [
            "Your camera reported poor light. Retake the photo in even daylight, facing a window."
        ]
    details["advice"] = advice
    reasons = ", ".join(p.replace("_", " ") for p in problems) or "poor light reported by the camera"
    return PipelineError(
        ErrorCode.POOR_LIGHTING_CONDITION,
        f"The lighting is not good enough for a reliable color analysis ({reasons}). " + " ".join(advice),
        details,
    )


def _check_image(rgb: Uint8Image) -> None:
    if not (isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3):
        raise ValueError("expected an HxWx3 uint8 RGB image")
    if min(rgb.shape[:2]) < 8:
        raise ValueError("image too small to measure")


def downscale(rgb: Uint8Image, max_side: int) -> Uint8Image:
    """The copy the lighting statistics are taken on: at most `max_side` px on its long side.

    INTER_AREA averages the pixels each output pixel covers, so the copy keeps the photo's colour
    statistics; a photo already small enough is returned as it is (made contiguous for OpenCV).
    """
    height, width = rgb.shape[:2]
    factor = max_side / max(height, width)
    if factor >= 1.0:
        return np.ascontiguousarray(rgb)
    size = (max(8, round(width * factor)), max(8, round(height * factor)))
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _central_box(shape: tuple[int, ...]) -> Box:
    """Where a selfie's face usually is: the middle 40% of the width, 50% of the height."""
    height, width = shape[:2]
    return (round(width * 0.3), round(height * 0.2), max(1, round(width * 0.4)), max(1, round(height * 0.5)))


def _pixel_box(face: DetectedFace, shape: tuple[int, ...]) -> Box:
    """The face's box in whole pixels of an image of `shape`, inside the frame."""
    x, y, width, height = face.pixel_box(shape[1], shape[0])
    return _clamp_box((round(x), round(y), round(width), round(height)), shape)


def _scale_box(box: Box, factor: float, shape: tuple[int, ...]) -> Box:
    x, y, w, h = box
    return _clamp_box((round(x * factor), round(y * factor), round(w * factor), round(h * factor)), shape)


def _clamp_box(box: Box, shape: tuple[int, ...]) -> Box:
    height, width = shape[:2]
    x, y, w, h = box
    x0, y0 = min(max(0, x), width - 1), min(max(0, y), height - 1)
    x1, y1 = min(width, max(x0 + 1, x + w)), min(height, max(y0 + 1, y + h))
    return (x0, y0, x1 - x0, y1 - y0)
