"""The season-labelled photo set, measured through the real pipeline under chosen lighting.

Used by the calibration (``models.calibrate``) and the accuracy benchmark (``bench.accuracy``): each
photo is decoded, optionally re-lit with a synthetic cast (``pipeline.augment``), and run through
the same stages as a request (lighting correction and gate, Face Mesh, regions, features). Beside
the pipeline's features it keeps the two baselines of issue 9: the features measured on the image
*without* lighting correction, and the mean colour of the whole image (no face at all).

The photos are read from their folder (by default ``<repo>/../shared/datasets/seasons-train``)
and never copied: only numbers leave this module. Its README asks that figures measured on it be
cross-validated; the callers do that.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.analysis import Analyzer
from pipeline.arrays import FloatArray, Uint8Image
from pipeline.augment import apply_exposure, apply_illuminant, kelvin_to_linear_rgb
from pipeline.color import linear_rgb_to_lab, uint8_to_linear
from pipeline.decode import decode_image
from pipeline.errors import ErrorCode, PipelineError
from pipeline.features import FEATURE_NAMES, extract_features
from pipeline.regions import FaceRegions

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATASET = REPO_ROOT.parent / "shared" / "datasets" / "seasons-train"
SEASONS: tuple[str, ...] = ("spring", "summer", "autumn", "winter")
WARM_SEASONS = frozenset({"spring", "autumn"})


@dataclass(frozen=True)
class Lighting:
    """A synthetic change of light: a colour temperature (None: unchanged) and an exposure in EV."""

    name: str
    kelvin: float | None = None
    ev: float = 0.0

    def apply(self, rgb: Uint8Image) -> Uint8Image:
        out = rgb
        if self.kelvin is not None:
            out = apply_illuminant(out, kelvin_to_linear_rgb(self.kelvin))
        if self.ev:
            out = apply_exposure(out, self.ev)
        return out


NEUTRAL = Lighting("neutral")
# Issue 9's moderate casts: ~4000 K and ~8000 K in linear RGB, and +-1 EV. They must pass the
# lighting gate and keep the season.
MODERATE: tuple[Lighting, ...] = (
    Lighting("4000K", kelvin=4000.0),
    Lighting("8000K", kelvin=8000.0),
    Lighting("+1EV", ev=1.0),
    Lighting("-1EV", ev=-1.0),
)
# Both at once: reported beside the moderate set, not part of the constraint.
COMBINED: tuple[Lighting, ...] = (
    Lighting("4000K+1EV", kelvin=4000.0, ev=1.0),
    Lighting("4000K-1EV", kelvin=4000.0, ev=-1.0),
    Lighting("8000K+1EV", kelvin=8000.0, ev=1.0),
    Lighting("8000K-1EV", kelvin=8000.0, ev=-1.0),
)
# Training-only casts for augmentation: deliberately not the evaluation casts.
AUGMENT: tuple[Lighting, ...] = (
    Lighting("3300K", kelvin=3300.0),
    Lighting("5000K", kelvin=5000.0),
    Lighting("10000K", kelvin=10000.0),
    Lighting("+0.5EV", ev=0.5),
    Lighting("-0.7EV", ev=-0.7),
)


@dataclass(frozen=True)
class Photo:
    path: Path
    season: str

    @property
    def warm(self) -> bool:
        return self.season in WARM_SEASONS


@dataclass(frozen=True)
class Measurement:
    """One photo under one lighting.

    `status` is "ok", "rejected" (the lighting gate refused it: POOR_LIGHTING_CONDITION) or the error
    code that stopped the pipeline. `features` are the pipeline's (after correction; None unless ok);
    `uncorrected` the same regions measured on the image without correction; `whole_lab` the mean
    CIELAB colour of the whole uncorrected image.
    """

    status: str
    features: FloatArray | None
    uncorrected: FloatArray | None
    whole_lab: FloatArray
    lighting_score: float | None
    problems: tuple[str, ...]


def load_photos(root: Path = DEFAULT_DATASET) -> list[Photo]:
    """The photos listed in ``labels.csv`` (columns ``file,season``), in file order."""
    labels = root / "labels.csv"
    if not labels.is_file():
        raise FileNotFoundError(f"no labelled set at {root} (expected {labels})")
    with labels.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    photos = [Photo(root / row["file"], row["season"].strip()) for row in rows]
    unknown = {p.season for p in photos} - set(SEASONS)
    if unknown:
        raise ValueError(f"{labels}: unknown seasons {sorted(unknown)}")
    return photos


def dataset_fingerprint(root: Path = DEFAULT_DATASET) -> str:
    """sha256 of ``labels.csv``: names the exact labelled set a model was calibrated on."""
    return hashlib.sha256((root / "labels.csv").read_bytes()).hexdigest()


def whole_image_lab(rgb: Uint8Image) -> FloatArray:
    """Mean colour of every pixel (averaged in linear RGB), as CIELAB: the no-face baseline."""
    mean_linear = uint8_to_linear(rgb).reshape(-1, 3).mean(axis=0)
    return np.asarray(linear_rgb_to_lab(mean_linear), dtype=np.float64)


class LabelledSetMeasurer:
    """Runs photos through the pipeline under synthetic lighting. Build once; not thread-safe."""

    def __init__(self, analyzer: Analyzer | None = None) -> None:
        self.analyzer = analyzer or Analyzer()

    def close(self) -> None:
        self.analyzer.close()

    def measure(self, rgb: Uint8Image, lighting: Lighting) -> Measurement:
        lit = lighting.apply(rgb)
        whole = whole_image_lab(lit)
        try:
            analysis = self.analyzer.analyze_rgb(lit)
        except PipelineError as error:
            status = "rejected" if error.code == ErrorCode.POOR_LIGHTING_CONDITION else str(error.code)
            details = error.details or {}
            return Measurement(
                status=status,
                features=None,
                uncorrected=self._uncorrected_alone(lit),
                whole_lab=whole,
                lighting_score=details.get("score"),
                problems=tuple(details.get("problems", ())),
            )
        return Measurement(
            status="ok",
            features=analysis.features.to_vector().astype(np.float64),
            uncorrected=_features_or_none(lit, analysis.regions),
            whole_lab=whole,
            lighting_score=analysis.lighting.score,
            problems=analysis.lighting.problems,
        )

    def measure_set(
        self,
        photos: Iterable[Photo],
        lightings: Iterable[Lighting],
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, list[Measurement]]:
        """Measurements per lighting name, each list in photo order. Decodes every photo once."""
        lights = list(lightings)
        results: dict[str, list[Measurement]] = {light.name: [] for light in lights}
        for index, photo in enumerate(photos):
            rgb = decode_image(photo.path.read_bytes())
            for light in lights:
                results[light.name].append(self.measure(rgb, light))
            if progress is not None:
                progress(index + 1)
        return results

    def _uncorrected_alone(self, rgb: Uint8Image) -> FloatArray | None:
        """The baseline's features when the gate refused the photo: no gate, no correction."""
        try:
            landmarks = self.analyzer.detector.detect(rgb)
            regions = self.analyzer.extractor.extract(rgb, landmarks)
        except PipelineError:
            return None
        return _features_or_none(rgb, regions)


def _features_or_none(rgb: Uint8Image, regions: FaceRegions) -> FloatArray | None:
    """Features of the regions in `rgb`, or None when a region is entirely clipped there."""
    try:
        return extract_features(rgb, regions).to_vector().astype(np.float64)
    except PipelineError:
        return None


def feature_matrix(measurements: list[Measurement], attribute: str = "features") -> FloatArray:
    """Rows of one attribute (NaN rows where it is missing), len(FEATURE_NAMES) columns."""
    width = 3 if attribute == "whole_lab" else len(FEATURE_NAMES)
    rows = []
    for m in measurements:
        value = getattr(m, attribute)
        rows.append(np.full(width, np.nan) if value is None else value)
    return np.asarray(rows, dtype=np.float64)
