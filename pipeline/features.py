"""Measured colours of the face regions, and the feature vector that is the classifier's input.

`ColorFeatures.to_vector()` is a public contract: the ONNX model's metadata names
`FEATURE_VERSION` and `FEATURE_NAMES`, and the loader refuses a model built for another version.
Change the order or meaning of a feature only together with a new version number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from pipeline.arrays import BoolArray, Float32Array, FloatArray, Uint8Image
from pipeline.color import (
    chroma_hue,
    delta_e_2000,
    individual_typology_angle,
    lab_to_hex,
    linear_rgb_to_lab,
    luminance_of_lightness,
)
from pipeline.errors import ErrorCode, PipelineError
from pipeline.highlights import rebuild_clipped
from pipeline.regions import FaceRegions, HairSource
from pipeline.stats import median, percentiles

if TYPE_CHECKING:
    from pipeline.exposure import ExposureReference

# 2: colours are measured at the exposure referenced to the sclera (`pipeline.exposure`).
# 3: ... and under the light referenced to it (the sclera's chromaticity brought to the standard one);
#    skin_h is signed, in (-180, 180]: a pink skin with b* < 0 reads just below 0 degrees, not just
#    below 360 (which the rules' linear hue term took for the most golden skin of all).
# 4: ... measured from the photo as taken at the lighting and sclera gains in floating point (no
#    8-bit corrected copy in between), with clipped channels rebuilt (`pipeline.highlights`); skin
#    from the 10th-70th L* percentile band (was 10th-95th); regions drawn at sub-pixel precision.
# 5: ... and the lips (the ring between their outer edge and the mouth opening): lips_L, lips_a,
#    lips_b, lips_C appended.
# 6: ... the skin from the camera-facing cheek alone when the other is turned away
#    (`pipeline.regions.RegionConfig.far_cheek_max_ratio`).
FEATURE_VERSION = 6

FEATURE_NAMES: tuple[str, ...] = (
    "skin_L",
    "skin_a",
    "skin_b",
    "skin_C",
    "skin_h",
    "skin_ita",
    "eye_L",
    "eye_a",
    "eye_b",
    "eye_C",
    "hair_L",
    "hair_a",
    "hair_b",
    "hair_C",
    "hair_present",
    "contrast_skin_hair_L",
    "contrast_skin_eye_L",
    "lips_L",
    "lips_a",
    "lips_b",
    "lips_C",
)


def signed_hue(hue_deg: float) -> float:
    """A hue angle in (-180, 180]: continuous across 0, where skin hues (about 0-90) never wrap."""
    return 180.0 - (180.0 - hue_deg) % 360.0


@dataclass(frozen=True)
class RegionColor:
    """Robust colour statistics of one region, in CIELAB (D65).

    `spread` is the median CIEDE2000 distance of the region's kept pixels from its median colour:
    a small spread means a uniform, trustworthy sample.
    """

    L: float
    a: float
    b: float
    chroma: float
    hue_deg: float
    spread: float
    pixel_count: int
    hex: str

    @classmethod
    def from_lab(cls, lab: npt.ArrayLike, spread: float, pixel_count: int) -> RegionColor:
        """A region's colour from its median L*, a*, b*: chroma, hue and hex derived from them."""
        median = np.asarray(lab, dtype=np.float64)
        chroma, hue = chroma_hue(median)
        return cls(
            L=float(median[0]),
            a=float(median[1]),
            b=float(median[2]),
            chroma=float(chroma),
            hue_deg=float(hue),
            spread=spread,
            pixel_count=pixel_count,
            hex=lab_to_hex(median),
        )

    @property
    def lab(self) -> tuple[float, float, float]:
        return (self.L, self.a, self.b)


@dataclass(frozen=True)
class ColorFeatures:
    """Skin, eye and (optional) hair colour of one face: everything the classifier sees.

    `exposure` is the reference the colours were measured at (None: the photo's own exposure).
    """

    skin: RegionColor
    skin_ita: float
    eyes: RegionColor
    lips: RegionColor
    hair: RegionColor | None
    hair_source: HairSource
    exposure: ExposureReference | None = None

    def to_vector(self) -> Float32Array:
        """The classifier input, in `FEATURE_NAMES` order.

        Missing hair is encoded as `hair_present = 0` with the hair colour taken from the eyes
        (the closest pigment proxy we measured), so the vector is always complete and a model can
        learn to discount it.
        """
        hair = self.hair if self.hair is not None else self.eyes
        values = (
            self.skin.L,
            self.skin.a,
            self.skin.b,
            self.skin.chroma,
            signed_hue(self.skin.hue_deg),
            self.skin_ita,
            self.eyes.L,
            self.eyes.a,
            self.eyes.b,
            self.eyes.chroma,
            hair.L,
            hair.a,
            hair.b,
            hair.chroma,
            0.0 if self.hair is None else 1.0,
            self.skin.L - hair.L,
            self.skin.L - self.eyes.L,
            self.lips.L,
            self.lips.a,
            self.lips.b,
            self.lips.chroma,
        )
        return np.asarray(values, dtype=np.float32)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Trim:
    """Which pixels of a region count, as L* percentiles of the pixels not blown out.

    Skin loses its darkest 10% (pores, shadow under the cheekbone) and brightest 30% (sheen, and
    the lit part, where a warm lamp clips red first: with the rebuilt channels there left out, the
    skin's a* moved 2.0 instead of 3.4 RMS under 4000 K on the labelled portraits); eyes
    their brightest 10% (catch-light remains, sclera bleed) and darkest 10% (pupil edge, lashes);
    lips their darkest 10% (the crease where they meet, the mouth) and brightest 10% (sheen,
    teeth); hair only the extremes, because its real spread is large.
    """

    low_pct: float
    high_pct: float


SKIN_TRIM = Trim(10.0, 70.0)
EYE_TRIM = Trim(10.0, 90.0)
LIPS_TRIM = Trim(10.0, 90.0)
HAIR_TRIM = Trim(5.0, 95.0)
# The lightest skin a sclera-referenced brightening may produce: about the 95th percentile of skin
# L* over the labelled portraits at their own (professional) exposure, 88.6, rounded up.
MAX_REFERENCED_SKIN_LIGHTNESS = 90.0
# Medians of a few thousand pixels are as stable as those of all of them (the standard error of a
# median shrinks with the square root of the count: about 3% of the spread at 2000 pixels), so large
# regions (hair at full working size has 20 000+) are sampled with a fixed stride: deterministic,
# and spread evenly over the region.
STATS_SAMPLE = 2000
_SPREAD_SAMPLE = 400
# Linear-light gains a region is measured at: one for every channel, or R, G, B.
Gains = float | FloatArray


def measure_region(rgb: Uint8Image, mask: BoolArray, trim: Trim, gains: Gains = 1.0) -> RegionColor:
    """Robust CIELAB statistics of the masked pixels of `rgb` (sRGB uint8), in linear light times
    `gains` (one for all channels or one per channel: the sclera reference's; unclipped: a
    brightened colour may exceed the display's white, which only the hex code, not the
    measurement, has to respect).

    `pixel_count` is the number of region pixels the statistics stand for: unclipped and inside the
    trim band (counted on the sample and scaled up when the region was sampled).
    """
    return _region_colors([_trimmed_sample(rgb, mask, trim, gains)])[0]


@dataclass(frozen=True)
class _Sample:
    """A region's kept pixels in CIELAB, one row per channel (L, a, b), before their spread is known.

    Channel rows keep each channel contiguous for the partial sorts of the median and percentiles.
    """

    kept: FloatArray
    median: FloatArray
    pixel_count: int


def _trimmed_sample(rgb: Uint8Image, mask: BoolArray, trim: Trim, gains: Gains) -> _Sample:
    """The statistics of `measure_region` up to the median. Only the sampled pixels are gathered:
    indexing every masked pixel of a three-channel image costs several times more than the rest.
    """
    positions = np.flatnonzero(mask)
    sampled = positions[:: max(1, len(positions) // STATS_SAMPLE)]
    sample = rgb.reshape(-1, 3)[sampled]
    channel_gains = np.broadcast_to(np.asarray(gains, dtype=np.float64), (3,))
    linear, blown = rebuild_clipped(sample, 1.0 / channel_gains)
    if blown.all():
        raise ValueError("the region has no unclipped pixels")
    lab = np.ascontiguousarray(linear_rgb_to_lab(linear[~blown] * channel_gains).T)
    low, high = percentiles(lab[0], (trim.low_pct, trim.high_pct))
    in_band = (lab[0] >= low) & (lab[0] <= high)
    # A handful of pixels can fall entirely outside an interpolated band (two pixels: the 10th and
    # 90th percentiles lie strictly between them); with no extremes to trim, keep them all.
    kept = lab[:, in_band] if in_band.any() else lab
    centre = np.array([median(channel) for channel in kept])
    pixel_count = round(len(positions) * kept.shape[1] / len(sample))
    return _Sample(kept=kept, median=centre, pixel_count=pixel_count)


def _region_colors(samples: list[_Sample]) -> list[RegionColor]:
    """The regions' colours, with their spreads from one CIEDE2000 call for all of them: its seventy
    array operations cost nearly as much for 30 pixels as for 400, so one call instead of three
    saves most of the stage's spread time (per pixel the arithmetic is the same, so are the results).
    """
    spread_pixels = [sample.kept[:, :: max(1, sample.kept.shape[1] // _SPREAD_SAMPLE)] for sample in samples]
    counts = [pixels.shape[1] for pixels in spread_pixels]
    medians = np.repeat(np.array([sample.median for sample in samples]), counts, axis=0)
    distances = delta_e_2000(np.concatenate(spread_pixels, axis=1).T, medians)
    return [
        RegionColor.from_lab(sample.median, median(region_distances), sample.pixel_count)
        for sample, region_distances in zip(samples, np.split(distances, np.cumsum(counts)[:-1]), strict=True)
    ]


def within_skin_ceiling(exposure: ExposureReference, skin_lightness: float) -> ExposureReference:
    """Lower a brightening gain that would lift the skin median above MAX_REFERENCED_SKIN_LIGHTNESS.

    The sclera reference misreads when the whites of the eyes are small or shaded: on about one in
    ten of the labelled studio portraits it lifted already bright skin above L* 95, brighter than
    any skin photographed at a normal exposure. The gain is then lowered so the skin lands on the
    ceiling, never below the photo's own exposure (gain 1): the reference may darken a photo freely,
    but brighten it only as far as the skin stays plausible.
    """
    if exposure.gain <= 1.0 or skin_lightness <= MAX_REFERENCED_SKIN_LIGHTNESS:
        return exposure
    ceiling = luminance_of_lightness(MAX_REFERENCED_SKIN_LIGHTNESS)
    gain = max(1.0, exposure.gain * ceiling / luminance_of_lightness(skin_lightness))
    return replace(exposure, gain=gain, limited_by_skin=True)


def extract_features(
    rgb: Uint8Image, regions: FaceRegions, exposure: ExposureReference | None = None
) -> ColorFeatures:
    """Measure skin, eyes, lips and hair of the photo as taken (the regions' image, before any
    8-bit correction), at the `exposure` reference's gains (`pipeline.exposure.sclera_exposure`:
    the lighting stage's correction, then exposure and white; None: as photographed).

    A skin, eye or lip region with a channel clipped on every pixel cannot be measured: that is a
    lighting problem the person can fix, so it is reported as POOR_LIGHTING_CONDITION. Hair that is
    all clipped counts as missing.
    """
    x, y, w, h = regions.window
    window = rgb[y : y + h, x : x + w]
    gains: Gains = 1.0 if exposure is None else exposure.channel_gains

    def sampled(name: str, mask: BoolArray, trim: Trim) -> _Sample:
        region = mask[y : y + h, x : x + w]
        if not region.any():
            raise ValueError(f"the {name} region is empty")
        try:
            return _trimmed_sample(window, region, trim, gains)
        except ValueError:
            raise PipelineError(
                ErrorCode.POOR_LIGHTING_CONDITION,
                f"Your {name} {'are' if name.endswith('s') else 'is'} washed out in the photo. "
                "Step out of direct sun or away from the lamp, "
                "or turn off the flash.",
                details={"problems": ["too_bright"], "region": name},
            ) from None

    skin_sample = sampled("skin", regions.skin, SKIN_TRIM)
    if exposure is not None:
        ceiled = within_skin_ceiling(exposure, float(skin_sample.median[0]))
        if ceiled.gain != exposure.gain:
            gains = ceiled.channel_gains
            skin_sample = sampled("skin", regions.skin, SKIN_TRIM)
        exposure = ceiled
    samples = [skin_sample, sampled("eyes", regions.eyes, EYE_TRIM), sampled("lips", regions.lips, LIPS_TRIM)]
    hair_source = regions.hair_source
    if regions.hair is not None:
        try:
            samples.append(_trimmed_sample(window, regions.hair[y : y + h, x : x + w], HAIR_TRIM, gains))
        except ValueError:
            hair_source = HairSource.NONE
    skin, eyes, lips, *hair_measured = _region_colors(samples)
    hair = hair_measured[0] if hair_measured else None
    return ColorFeatures(
        skin=skin,
        skin_ita=individual_typology_angle(skin.L, skin.b),
        eyes=eyes,
        lips=lips,
        hair=hair,
        hair_source=hair_source,
        exposure=exposure,
    )
