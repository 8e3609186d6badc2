"""Where the season's instability under coloured light comes from (issue 9), in one run.

    python -m bench.invariance [--data DIR] [--markdown]

Issue 9 asks that the season stay the same under moderate casts (4000 K, 8000 K, +-1 EV) for at
least 95% of the labelled photos, and `bench.accuracy` shows the shipped method keeping it for only
about 80% under 4000 K and 8000 K. A diagnosis changes under a cast for one of two reasons: the
white balance / exposure step does not follow the cast (its estimate of the light is not
equivariant), or the region statistics change even when the light is undone exactly (clipping,
quantisation). This benchmark separates the two by crossing white-balance / exposure variants
with two region statistics and scoring every combination with the same cross-validated classifier
on the same folds as `bench.accuracy`:

- *shipped*: the pipeline's `LightingCorrector` run on the cast photo (gray edge and gray pixels,
  then its exposure correction), and the colours measured at the sclera reference of the corrected
  photo (`pipeline.exposure`), i.e. what a request gets today;
- *oracle*: the shipped correction of the neutral photo (sclera reference included) followed by
  the exact inverse of the applied cast (colour and exposure): the best any estimator could do, so
  what remains is the statistics' own instability;
- *green-rank gray edge*: gray edge (p=6) on the pixels whose green level lies between the 5th and
  70th percentile of the frame. A diagonal cast keeps the order of green levels, so the pixel set
  does not move with the light the way the shipped clip/dark thresholds do;
- *green-rank gray edge + scene exposure*: the same, then the balanced luminance of the green-rank
  5-50% band scaled to the set's typical level, which undoes exposure as well;

and the statistics *pipeline* (`pipeline.features.measure_region` on the corrected pixels, exactly
what the service measures) or *ratio* (per-channel medians of R/G and B/G over unclipped pixels,
times the median G, pixels chosen by green rank: invariant to a diagonal gain up to clipping).

Every photo is decoded and run through the real pipeline once under neutral light (lighting
correction with the gate off, Face Mesh with the relaxed head-pose limits of `bench.accuracy`,
regions); each cast is then applied to the decoded photo in memory and the white balance and the
statistics are recomputed on it, with the face regions held at their neutral position. That keeps
landmark jitter out of the comparison, and nothing is gated, so the figures are close to, not equal
to, the end-to-end ones of `bench.accuracy`. The classifier is the shipped one, rules
calibrated on the training folds under neutral light plus `models.labelled.AUGMENT` casts
(`models.calibrate`); a logistic regression on the same features is printed beside it, to show the
instability is not the classifier's. Pixels stay in memory; only numbers are printed. About five
minutes (three of CPU) on a 2-core machine; results in docs/invariance.md.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from bench.accuracy import format_table
from models import calibrate, crossval, fitters
from models.crossval import FOLDS, SEED, TrainingRows
from models.figures import pct
from models.labelled import (
    AUGMENT,
    DEFAULT_DATASET,
    MODERATE,
    NEUTRAL,
    SEASONS,
    WARM_SEASONS,
    Lighting,
    load_photos,
)
from pipeline.analysis import Analyzer
from pipeline.arrays import BoolArray, FloatArray, Uint8Image
from pipeline.augment import illuminant_gains, kelvin_to_linear_rgb
from pipeline.color import (
    LUMINANCE_WEIGHTS,
    angular_error_deg,
    individual_typology_angle,
    linear_rgb_to_lab,
    rgb_triple,
    uint8_to_linear,
)
from pipeline.decode import decode_image
from pipeline.errors import PipelineError
from pipeline.exposure import ExposureReference, sclera_exposure
from pipeline.features import (
    EYE_TRIM,
    FEATURE_NAMES,
    HAIR_TRIM,
    LIPS_TRIM,
    SKIN_TRIM,
    STATS_SAMPLE,
    ColorFeatures,
    Gains,
    RegionColor,
    Trim,
    measure_region,
    within_skin_ceiling,
)
from pipeline.landmark import LandmarkConfig
from pipeline.normalize import LightingConfig, LightingCorrector, downscale
from pipeline.regions import HairSource
from pipeline.white_balance import gray_edge, white_balance_gains

Predictor = Callable[[FloatArray], list[str]]
Fitter = Callable[[TrainingRows], Predictor]
# The labelled portraits are often turned a little more than a selfie; this benchmark looks at the
# lighting alone, so it measures them with wide head-pose limits.
RELAXED_POSE = LandmarkConfig(max_yaw_deg=60.0, max_pitch_deg=45.0)

# The default gate's threshold: scores below it would be refused (reported, never applied here).
GATE_MIN_SCORE = LightingConfig().min_score
RANK_LOW_PCT = 5.0
RANK_HIGH_PCT = 70.0
GRAY_EDGE_P = 6.0
SCENE_BAND_PCT = (5.0, 50.0)
# Median balanced luminance Y of the green-rank 5-50% band over the 206 labelled photos under
# neutral light, white-balanced by the green-rank gray edge (measured 2026-11-25). Scaling every
# photo's band to it keeps the typical photo at its own exposure, so the value axis of the rules
# (documented, not calibrated) sees lightness on its usual scale.
SCENE_TARGET_Y = 0.084
# Ratio statistics: any channel at or above this level is clipped (as in pipeline.features); a
# green level below _RATIO_DARK is too noisy to divide by.
_CLIPPED = 250
_RATIO_DARK = 8
_RATIO_MIN_PIXELS = 10
_LEVELS_LINEAR = uint8_to_linear(np.arange(256, dtype=np.uint8))

STATISTICS = ("pipeline", "ratio")
CORRECTIONS = ("shipped", "oracle", "green-rank gray edge", "green-rank gray edge + scene exposure")
EQUIVARIANT_ESTIMATORS = ("shipped", "green-rank gray edge")


def green_rank_mask(
    small: Uint8Image, low_pct: float = RANK_LOW_PCT, high_pct: float = RANK_HIGH_PCT, min_level: int = 1
) -> BoolArray:
    """Pixels whose green level lies between two percentiles of the frame's green levels.

    A diagonal cast maps each channel's levels through one increasing table, so the order of the
    green levels, and with it this set, stays put: unlike a fixed clip/dark threshold, which a cast
    moves pixels across. (Exact when the green gain is at least 1; a gain below 1 merges adjacent
    levels, which moves a few pixels at the band's edges.) Levels below `min_level` are left out:
    black carries no colour, so the estimator skips it, while the exposure reference keeps it.
    """
    green = small[..., 1]
    low, high = np.percentile(green, (low_pct, high_pct))
    mask: BoolArray = (green >= max(float(low), min_level)) & (green <= high)
    return mask


def green_rank_gray_edge(small: Uint8Image, p: float = GRAY_EDGE_P) -> FloatArray:
    """The shipped gray edge, restricted to the green-rank pixels instead of the unclipped ones."""
    linear = uint8_to_linear(small).astype(np.float32)
    estimate = np.maximum(gray_edge(linear, green_rank_mask(small), p), 1e-9)
    return np.asarray(estimate / estimate.sum(), dtype=np.float64)


def scene_luminance(small: Uint8Image, gains: FloatArray) -> float:
    """Mean balanced luminance of the green-rank band: scales exactly with the light's brightness."""
    band = green_rank_mask(small, *SCENE_BAND_PCT, min_level=0)
    luminance = uint8_to_linear(small[band]) @ (LUMINANCE_WEIGHTS * gains)
    return float(luminance.mean()) if luminance.size else float("nan")


def ratio_color(pixels: Uint8Image, trim: Trim) -> FloatArray | None:
    """Linear RGB of a region from channel ratios, robust to clipping and exact under diagonal gains.

    Pixels are trimmed by green rank (which a cast does not change), the green median is kept, and
    red and blue come from the medians of R/G and B/G over pixels where neither channel is clipped,
    so a channel clipped by the cast drops out of its ratio instead of biasing it. None when the
    region is mostly clipped.
    """
    green = pixels[:, 1]
    low, high = np.percentile(green, (trim.low_pct, trim.high_pct))
    kept = pixels[(green >= low) & (green <= high)]
    if len(kept) < _RATIO_MIN_PIXELS or np.mean(kept[:, 1] >= _CLIPPED) > 0.5:
        return None
    linear = _LEVELS_LINEAR[kept]
    median_green = float(np.median(linear[:, 1]))
    out = np.array([0.0, median_green, 0.0])
    for channel in (0, 2):
        ok = (
            (kept[:, channel] < _CLIPPED)
            & (kept[:, 1] < _CLIPPED)
            & (kept[:, 1] > _RATIO_DARK)
            & (kept[:, channel] > 2)
        )
        if ok.sum() < _RATIO_MIN_PIXELS:
            return None
        out[channel] = median_green * float(np.median(linear[ok, channel] / linear[ok, 1]))
    return out


TRIMS = {"skin": SKIN_TRIM, "eyes": EYE_TRIM, "lips": LIPS_TRIM, "hair": HAIR_TRIM}


@dataclass
class Regions:
    """Raw (uncorrected) pixels of one photo's regions under one lighting, N x 3 uint8.

    The ratio colour does not depend on the correction (its gains multiply it afterwards), so it is
    computed once per region and lighting and shared by every correction.
    """

    pixels: dict[str, Uint8Image]
    _ratios: dict[str, FloatArray | None] = field(default_factory=dict)

    def ratio(self, name: str) -> FloatArray | None:
        if name not in self._ratios:
            pixels = self.pixels[name]
            # The pipeline's stride sample; the stride depends on the count only, not on the light.
            self._ratios[name] = ratio_color(pixels[:: max(1, len(pixels) // STATS_SAMPLE)], TRIMS[name])
        return self._ratios[name]


def measure(regions: Regions, name: str, statistic: str, gains: Gains) -> RegionColor | None:
    """One region's colour from its raw pixels measured at `gains` (linear RGB: the correction's
    times the sclera reference's, as the pipeline measures since feature version 4)."""
    pixels = regions.pixels[name]
    if statistic == "pipeline":
        everything = np.ones((len(pixels), 1), dtype=bool)
        try:
            return measure_region(pixels[:, None, :], everything, TRIMS[name], gains)
        except ValueError:  # every pixel clipped: the pipeline refuses skin/eyes, drops hair
            return None
    color = regions.ratio(name)
    if color is None:
        return None
    lab = linear_rgb_to_lab(color * gains)
    return RegionColor.from_lab(lab, spread=float("nan"), pixel_count=len(pixels))


def feature_vector(regions: Regions, statistic: str, reference: ExposureReference) -> FloatArray:
    """The classifier's input (`ColorFeatures.to_vector` order); NaN when skin, eyes or lips are lost.

    Measured at the `reference`'s gains (its lighting correction, and the sclera's exposure and
    white when it has them), lowered as the pipeline lowers them where the skin would become
    implausibly light (`pipeline.features.within_skin_ceiling`).
    """
    skin = measure(regions, "skin", statistic, reference.channel_gains)
    if skin is not None:
        reference = within_skin_ceiling(reference, skin.L)
        skin = measure(regions, "skin", statistic, reference.channel_gains)
    gains = reference.channel_gains
    eyes = measure(regions, "eyes", statistic, gains)
    lips = measure(regions, "lips", statistic, gains)
    if skin is None or eyes is None or lips is None:
        return np.full(len(FEATURE_NAMES), np.nan)
    hair = measure(regions, "hair", statistic, gains) if "hair" in regions.pixels else None
    features = ColorFeatures(
        skin=skin,
        skin_ita=individual_typology_angle(skin.L, skin.b),
        eyes=eyes,
        lips=lips,
        hair=hair,
        hair_source=HairSource.SEGMENTATION if hair is not None else HairSource.NONE,
    )
    return features.to_vector().astype(np.float64)


def unreferenced(gains: FloatArray) -> ExposureReference:
    """A reference that measures at a correction's `gains` alone, with no sclera reading."""
    return ExposureReference(
        gain=1.0, sclera_luminance=None, sclera_pixels=0, lighting_gains=rgb_triple(gains)
    )


def cast_gains(light: Lighting) -> FloatArray:
    """The linear-RGB gains `light.apply` multiplies every pixel by (before clipping)."""
    gains = np.ones(3) if light.kelvin is None else illuminant_gains(kelvin_to_linear_rgb(light.kelvin))
    return np.asarray(gains * 2.0**light.ev, dtype=np.float64)


@dataclass
class Collected:
    """Everything measured, as numbers: features[(correction, statistic)][light] is photos x 17."""

    seasons: list[str]
    lights: list[str]
    features: dict[tuple[str, str], dict[str, FloatArray]]
    # estimator -> light -> angle (degrees) between its estimate under the light and its neutral
    # estimate times the cast's gains, one per measured photo
    equivariance: dict[str, dict[str, list[float]]]
    gate_refused: dict[str, int]
    failed: dict[str, int]
    pipeline_agreement: list[float]
    measured: BoolArray
    seconds: float = 0.0
    scene_luminance: list[float] = field(default_factory=list)


def collect(root: Path, progress: bool = True) -> Collected:
    """Run each photo through the pipeline once, then re-measure it under every lighting."""
    photos = load_photos(root)
    lights = [NEUTRAL, *MODERATE, *AUGMENT]
    n = len(photos)
    features = {
        (c, s): {light.name: np.full((n, len(FEATURE_NAMES)), np.nan) for light in lights}
        for c in CORRECTIONS
        for s in STATISTICS
    }
    equivariance: dict[str, dict[str, list[float]]] = {
        e: {light.name: [] for light in MODERATE} for e in EQUIVARIANT_ESTIMATORS
    }
    gate_refused = {light.name: 0 for light in lights}
    failed: dict[str, int] = {}
    agreement: list[float] = []
    scene: list[float] = []
    measured = np.zeros(n, dtype=bool)
    config = LightingConfig(min_score=0.0)  # measure every photo; the gate's verdict is counted
    analyzer = Analyzer(lighting=config, landmarks=RELAXED_POSE)
    corrector = LightingCorrector(config)
    started = time.perf_counter()
    try:
        for index, photo in enumerate(photos):
            rgb = decode_image(photo.path.read_bytes())
            try:
                analysis = analyzer.analyze_rgb(rgb)
            except PipelineError as error:
                failed[str(error.code)] = failed.get(str(error.code), 0) + 1
                continue
            measured[index] = True
            masks = analysis.regions
            neutral_reference = analysis.features.exposure
            assert neutral_reference is not None  # the Analyzer always measures at a reference
            neutral_gains = np.asarray(neutral_reference.lighting_gains)
            neutral_estimates: dict[str, FloatArray] = {}
            for light in lights:
                lit = light.apply(rgb)
                named = {"skin": masks.skin, "eyes": masks.eyes, "lips": masks.lips, "hair": masks.hair}
                regions = Regions({name: lit[mask] for name, mask in named.items() if mask is not None})
                normalized = corrector.correct(lit)
                report = normalized.report
                gate_refused[light.name] += report.score < GATE_MIN_SCORE
                small = downscale(lit, config.stats_max_side)
                green_rank = green_rank_gray_edge(small)
                green_rank_gains = white_balance_gains(green_rank)
                scene_y = max(scene_luminance(small, green_rank_gains), 1e-4)
                if light is NEUTRAL:
                    scene.append(scene_y)
                gains = {
                    "shipped": np.asarray(normalized.gains),
                    "oracle": neutral_gains / cast_gains(light),
                    "green-rank gray edge": green_rank_gains,
                    "green-rank gray edge + scene exposure": green_rank_gains * (SCENE_TARGET_Y / scene_y),
                }
                # The shipped features are measured at the sclera reference of the cast photo; the
                # oracle's corrected photo is the neutral one, so it takes the neutral reference with
                # the cast undone. The green-rank rows are alternatives without a sclera reference.
                references = {
                    "shipped": sclera_exposure(lit, analysis.landmarks, lighting_gains=normalized.gains),
                    "oracle": replace(neutral_reference, lighting_gains=rgb_triple(gains["oracle"])),
                }
                for (correction, statistic), by_light in features.items():
                    reference = references.get(correction) or unreferenced(gains[correction])
                    by_light[light.name][index] = feature_vector(regions, statistic, reference)
                estimates = {"shipped": np.asarray(report.illuminant), "green-rank gray edge": green_rank}
                if light is NEUTRAL:
                    neutral_estimates = estimates
                    shipped = analysis.features.to_vector().astype(np.float64)
                    agreement.append(
                        float(np.max(np.abs(features["shipped", "pipeline"][light.name][index] - shipped)))
                    )
                elif light in MODERATE:
                    for name, estimate in estimates.items():
                        expected = neutral_estimates[name] * cast_gains(light)
                        equivariance[name][light.name].append(angular_error_deg(estimate, expected))
            if progress and ((index + 1) % 25 == 0 or index + 1 == n):
                elapsed = time.perf_counter() - started
                print(
                    f"  measured {index + 1}/{n} photos x {len(lights)} lightings ({elapsed:.0f} s)",
                    file=sys.stderr,
                )
    finally:
        analyzer.close()
        corrector.close()
    return Collected(
        seasons=[p.season for p in photos],
        lights=[light.name for light in lights],
        features=features,
        equivariance=equivariance,
        gate_refused=gate_refused,
        failed=failed,
        pipeline_agreement=agreement,
        measured=measured,
        seconds=time.perf_counter() - started,
        scene_luminance=scene,
    )


@dataclass
class Scores:
    accuracy: float
    warm_cool: float
    same: dict[str, float]
    # share of the diagnosed photos given the most frequent season: a classifier that says the same
    # season for everyone is "stable" for free, so `same` is only comparable between rows with a
    # similar spread
    top_share: float


def _seasons(fitter: crossval.Fitter) -> Fitter:
    """A models.crossval fitter answering season names only, as this benchmark scores them."""

    def fit(rows: TrainingRows) -> Predictor:
        predictor = fitter(rows)
        return lambda x: predictor(x).seasons

    return fit


def cross_validate(matrices: dict[str, FloatArray], seasons: Sequence[str], fit: Fitter) -> Scores:
    """Fit on the training folds (neutral + augmentation casts), score neutral accuracy and how
    often the season predicted under each moderate cast equals the one predicted under neutral."""
    from sklearn.model_selection import StratifiedKFold

    truth = np.asarray(seasons)
    n = len(truth)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(np.zeros(n), truth)
    evaluated = [NEUTRAL.name, *(light.name for light in MODERATE)]
    training = [NEUTRAL.name, *(light.name for light in AUGMENT)]
    predicted = {name: np.full(n, "none", dtype=object) for name in evaluated}
    for train, test in folds:
        x = np.vstack([matrices[name][train] for name in training])
        y = np.concatenate([truth[train]] * len(training))
        photos = np.tile(train, len(training))
        keep = ~np.isnan(x).any(axis=1)
        names = np.repeat(np.array(training), len(train))
        rows = TrainingRows(
            x[keep], [str(s) for s in y[keep]], photos[keep], names[keep], [None] * int(keep.sum())
        )
        predict = fit(rows)
        for name in evaluated:
            predicted[name][test] = predict(matrices[name][test])
    neutral = predicted[NEUTRAL.name]
    warm = np.array([s in WARM_SEASONS for s in truth])
    diagnosed = np.array([p in SEASONS for p in neutral])
    warm_predicted = np.array([p in WARM_SEASONS for p in neutral])
    same = {}
    for light in MODERATE:
        under = predicted[light.name]
        both = diagnosed & np.array([p in SEASONS for p in under])
        same[light.name] = float(np.mean(under[both] == neutral[both])) if both.any() else 0.0
    return Scores(
        accuracy=float(np.mean(neutral == truth)),
        warm_cool=float(np.mean(diagnosed & (warm_predicted == warm))),
        same=same,
        top_share=max(float(np.mean(neutral[diagnosed] == s)) for s in SEASONS) if diagnosed.any() else 0.0,
    )


def report_lines(collected: Collected, markdown: bool = False) -> list[str]:
    seasons = collected.seasons
    n = len(seasons)
    moderate = [light.name for light in MODERATE]
    measured = len(collected.pipeline_agreement)
    reproduced = sum(d < 1e-3 for d in collected.pipeline_agreement)
    lines = [
        f"{n} photos; measured under neutral light: {measured}; failed: {collected.failed or 'none'}",
        f"{FOLDS}-fold stratified cross-validation, seed {SEED} (the folds of bench.accuracy); "
        f"chance is 25% (season) and 50% (warm/cool).",
        f"Check: shipped correction + pipeline statistics reproduce the pipeline's own features for "
        f"{reproduced}/{measured} photos.",
        "same <cast>: share of the photos diagnosed under both lights whose season under the cast is the "
        "one predicted under neutral light; accuracies count undiagnosed photos as wrong; not measured: "
        f"of the {measured} photos the pipeline measured, those whose skin or eye colour the statistic "
        "could not measure under that light (left out of 'same'); top season share: the share of "
        "diagnosed photos given the most frequent season under neutral light (a classifier that "
        "answers one season for everyone is stable for free).",
        "",
    ]
    header = [
        "white balance / exposure",
        "statistics",
        "season acc.",
        "warm/cool acc.",
        *(f"same {c}" for c in moderate),
        "top season share",
        "skin L* p50 / p95",
        "not measured: " + " / ".join([NEUTRAL.name, *moderate]),
    ]
    classifiers: list[tuple[str, Fitter]] = [
        ("calibrated rules (the shipped classifier)", _seasons(calibrate.fit_calibrated_rules)),
        ("logistic regression on the same features", _seasons(fitters.sklearn_fitter(fitters.logistic))),
    ]
    for title, fit in classifiers:
        rows = []
        for (correction, statistic), matrices in collected.features.items():
            scores = cross_validate(matrices, seasons, fit)
            skin_lightness = matrices[NEUTRAL.name][:, 0]
            p50, p95 = np.nanpercentile(skin_lightness, [50, 95])
            lost = [
                int(np.sum(collected.measured & np.isnan(matrices[light]).any(axis=1)))
                for light in [NEUTRAL.name, *moderate]
            ]
            rows.append(
                [
                    correction,
                    statistic,
                    pct(scores.accuracy),
                    pct(scores.warm_cool),
                    *(pct(scores.same[c]) for c in moderate),
                    pct(scores.top_share),
                    f"{p50:.1f} / {p95:.1f}",
                    " / ".join(map(str, lost)) if any(lost) else "0",
                ]
            )
        lines.append(f"Classifier: {title}")
        lines += format_table(header, rows, markdown)
        lines.append("")
    lines.append(
        "Equivariance of the illuminant estimate: angle (degrees) between the estimate on the cast "
        "photo and the neutral estimate times the cast's gains (0 for an exactly equivariant "
        "estimator; the oracle is 0 by construction), p50 / p90 / max over the photos:"
    )
    rows = [
        [name]
        + [
            "{:.2f} / {:.2f} / {:.2f}".format(*np.percentile(collected.equivariance[name][c], [50, 90, 100]))
            for c in moderate
        ]
        for name in EQUIVARIANT_ESTIMATORS
    ]
    lines += format_table(["estimator", *moderate], rows, markdown)
    lines.append("")
    refused = ", ".join(
        f"{c} {pct(collected.gate_refused[c] / max(measured, 1))}" for c in [NEUTRAL.name, *moderate]
    )
    lines.append(f"The shipped lighting gate (not applied above) would refuse: {refused}.")
    lines.append(f"Measured in {collected.seconds:.0f} s.")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Where the season's instability under coloured light comes from."
    )
    parser.add_argument(
        "--data", type=Path, default=None, help=f"labelled set folder (default {DEFAULT_DATASET})"
    )
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)
    collected = collect(args.data or DEFAULT_DATASET)
    print("\n".join(report_lines(collected, markdown=args.markdown)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
