"""The labelled photo sets, measured through the real pipeline under chosen lighting.

Used by the model build (``models.calibrate``, ``models.learned``) and the accuracy benchmark
(``bench.accuracy``): each photo is decoded, optionally re-lit with a synthetic cast
(``pipeline.augment``), and run through the same stages as a request (lighting correction and gate,
Face Mesh, regions, features). The head-pose gate is the one stage measured *open*
(`MEASURING_POSE`): the estimated pose is recorded instead, and `face_gate` applies the service's
own limits (`pipeline.landmark.LandmarkConfig`) afterwards, so that one measurement answers both
"what does the service do" and "how do colours degrade with pose". Beside the pipeline's features
it keeps the two baselines of issue 9 (the features measured on the image *without* lighting
correction, and the mean colour of the whole image) and the candidate features of issue 16
(``models.candidates``).

Two sets (``<repo>/../shared/datasets``): `seasons-train` (206 photos, season labels only) and
`armocromia-train` (1940 photos of 873 persons, 12 classes, person ids). The photos are read from
their folders and never copied: only numbers leave this module. Their READMEs ask that figures be
cross-validated, grouped by person; the callers do that.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from models.candidates import measure_candidates
from pipeline.analysis import Analyzer
from pipeline.arrays import FloatArray, Uint8Image
from pipeline.augment import apply_exposure, apply_illuminant, kelvin_to_linear_rgb
from pipeline.color import linear_rgb_to_lab, uint8_to_linear
from pipeline.decode import decode_image
from pipeline.errors import ErrorCode, PipelineError
from pipeline.features import FEATURE_NAMES, extract_features
from pipeline.landmark import LandmarkConfig, pose_error
from pipeline.regions import FaceRegions

REPO_ROOT = Path(__file__).resolve().parent.parent
DATASETS_ROOT = REPO_ROOT.parent / "shared" / "datasets"
DEFAULT_DATASET = DATASETS_ROOT / "seasons-train"
ARMOCROMIA_DATASET = DATASETS_ROOT / "armocromia-train"
LABELLED_SETS: tuple[Path, ...] = (ARMOCROMIA_DATASET, DEFAULT_DATASET)
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
    """One labelled photo. `subtype` is the armocromia sub-type (None: season label only); `person`
    groups the photos of one person for cross-validation (seasons-train names no persons, and each
    of its photos is a person of its own); `source` is where the photo came from, as the set's
    README names it ("celeba-hq", "web", "named" for armocromia-train, "showmethecolor")."""

    path: Path
    season: str
    dataset: str = ""
    person: str = ""
    subtype: str | None = None
    source: str = ""

    @property
    def warm(self) -> bool:
        return self.season in WARM_SEASONS

    @property
    def label12(self) -> str | None:
        """The armocromia class, e.g. 'autumn deep' (None without a sub-type)."""
        return None if self.subtype is None else f"{self.season} {self.subtype}"


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
    # Estimated head pose (yaw, pitch, roll in degrees) and pupil distance (px) of the face found;
    # None when the pipeline stopped before the landmarks.
    pose: tuple[float, float, float] | None = None
    interocular_px: float | None = None
    # models.candidates.CANDIDATE_NAMES (None unless ok).
    candidates: FloatArray | None = None


def load_photos(root: Path = DEFAULT_DATASET) -> list[Photo]:
    """The photos listed in ``labels.csv`` (columns ``file,season`` and optionally
    ``subtype,person,source``), in file order."""
    labels = root / "labels.csv"
    if not labels.is_file():
        raise FileNotFoundError(f"no labelled set at {root} (expected {labels})")
    with labels.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    photos = [
        Photo(
            root / row["file"],
            row["season"].strip(),
            dataset=root.name,
            person=f"{root.name}:{row.get('person') or row['file']}",
            subtype=(row.get("subtype") or "").strip() or None,
            source=photo_source(row.get("source")),
        )
        for row in rows
    ]
    unknown = {p.season for p in photos} - set(SEASONS)
    if unknown:
        raise ValueError(f"{labels}: unknown seasons {sorted(unknown)}")
    return photos


def photo_source(source: str | None) -> str:
    """The kind of photo from armocromia-train's `source` column: CelebA-HQ portraits have numeric
    file names, web downloads are `images-N`, the rest are named public figures; no column:
    seasons-train's ShowMeTheColor photos."""
    if not source:
        return "showmethecolor"
    stem = Path(source).stem
    if stem.isdigit():
        return "celeba-hq"
    return "web" if stem.startswith("images") else "named"


def load_labelled_sets(roots: Iterable[Path] = LABELLED_SETS) -> list[Photo]:
    """Every photo of the given labelled sets, set after set."""
    return [photo for root in roots for photo in load_photos(root)]


def dataset_fingerprint(root: Path = DEFAULT_DATASET) -> str:
    """sha256 of ``labels.csv``: names the exact labelled set a model was calibrated on."""
    return hashlib.sha256((root / "labels.csv").read_bytes()).hexdigest()


def whole_image_lab(rgb: Uint8Image) -> FloatArray:
    """Mean colour of every pixel (averaged in linear RGB), as CIELAB: the no-face baseline."""
    mean_linear = uint8_to_linear(rgb).reshape(-1, 3).mean(axis=0)
    return np.asarray(linear_rgb_to_lab(mean_linear), dtype=np.float64)


def measuring_landmarks(service: LandmarkConfig | None = None) -> LandmarkConfig:
    """The service's face settings with the head-pose limits open (`MEASURING_POSE`)."""
    config = service or LandmarkConfig()
    return replace(config, max_yaw_deg=MEASURING_POSE, max_pitch_deg=MEASURING_POSE)


def measuring_analyzer(service: LandmarkConfig | None = None) -> Analyzer:
    """An Analyzer with the service's settings but the head-pose limits open: the pose is
    recorded and `face_gate` applies `service`'s limits afterwards."""
    return Analyzer(landmarks=measuring_landmarks(service))


# Wide enough that Face Mesh's estimate never reaches it (it saturates near 35 degrees of yaw).
MEASURING_POSE = 90.0


def face_gate(measurement: Measurement, config: LandmarkConfig) -> str:
    """What the service would answer for this measurement under `config`'s pose limits: "ok" or
    its error code (FACE_NOT_FRONTAL where the recorded pose exceeds the limits)."""
    if measurement.status == "rejected":
        return str(ErrorCode.POOR_LIGHTING_CONDITION)
    if measurement.status != "ok" or measurement.pose is None:
        return measurement.status
    yaw, pitch, _ = measurement.pose
    if pose_error(config, yaw, pitch) is not None:
        return str(ErrorCode.FACE_NOT_FRONTAL)
    return "ok"


class LabelledSetMeasurer:
    """Runs photos through the pipeline under synthetic lighting. Build once; not thread-safe."""

    def __init__(self, analyzer: Analyzer | None = None) -> None:
        self.analyzer = analyzer or measuring_analyzer()

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
        landmarks = analysis.landmarks
        return Measurement(
            status="ok",
            features=analysis.features.to_vector().astype(np.float64),
            uncorrected=_features_or_none(lit, analysis.regions),
            whole_lab=whole,
            lighting_score=analysis.lighting.score,
            problems=analysis.lighting.problems,
            pose=(landmarks.yaw_deg, landmarks.pitch_deg, landmarks.roll_deg),
            interocular_px=landmarks.interocular_px,
            candidates=measure_candidates(lit, landmarks, analysis.regions, analysis.features),
        )

    def measure_photo(self, photo: Photo, lightings: Iterable[Lighting]) -> dict[str, Measurement]:
        """One photo under each lighting (decoded once)."""
        rgb = decode_image(photo.path.read_bytes())
        return {light.name: self.measure(rgb, light) for light in lightings}

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
