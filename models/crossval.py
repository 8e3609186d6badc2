"""Person-grouped cross-validation of season classifiers on the measured labelled sets.

The model build and the accuracy benchmark share this module, so that a model is chosen, and
reported, on the same folds, rows and gates: folds are `StratifiedGroupKFold` over persons
(stratified by the 12 armocromia classes, or the season where a photo has no sub-type) with a
fixed seed; a photo the service would refuse (lighting gate, face gates with the service's own
limits, applied through `models.labelled.face_gate`) is a refusal in every figure and never a
training row. Training rows are the training photos under neutral light and under the
augmentation casts (`models.labelled.AUGMENT`), which are not the casts the benchmark evaluates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from models.candidates import CANDIDATE_NAMES
from models.labelled import AUGMENT, NEUTRAL, SEASONS, Measurement, Photo, face_gate
from pipeline.arrays import FloatArray, IntArray
from pipeline.features import FEATURE_NAMES
from pipeline.landmark import LandmarkConfig

SEED = 20261125
FOLDS = 5
# The columns a fitter sees: the shipped features, then the candidate features.
COLUMN_NAMES: tuple[str, ...] = (*FEATURE_NAMES, *CANDIDATE_NAMES)
TRAINING_LIGHTINGS: tuple[str, ...] = (NEUTRAL.name, *(light.name for light in AUGMENT))


@dataclass(frozen=True)
class Prediction:
    """Seasons (SEASONS order) for some rows, and their season probabilities where the method has them."""

    seasons: list[str]
    probabilities: FloatArray | None = None
    # Index into pipeline.seasons.Tone order (light, bright, mute, deep), where the method decides tones.
    tones: list[int] | None = None


Predictor = Callable[[FloatArray], Prediction]


@dataclass(frozen=True)
class TrainingRows:
    """Rows a classifier is fitted on: COLUMN_NAMES values, season labels, the photo each row was
    measured on (one photo gives a row per lighting) and the lighting."""

    x: FloatArray
    seasons: list[str]
    photos: IntArray
    lightings: npt.NDArray[np.str_]
    # The armocromia class of each row ("autumn deep"; None for a photo with a season label only).
    classes: list[str | None]

    def subset(self, keep: npt.NDArray[np.bool_]) -> TrainingRows:
        return TrainingRows(
            self.x[keep],
            [season for season, kept in zip(self.seasons, keep, strict=True) if kept],
            self.photos[keep],
            self.lightings[keep],
            [label for label, kept in zip(self.classes, keep, strict=True) if kept],
        )


Fitter = Callable[[TrainingRows], Predictor]


def row(m: Measurement, view: str = "service") -> FloatArray:
    """One measurement's vector in a view (NaN where a value is missing): "service", the
    COLUMN_NAMES of the pipeline; "uncorrected", the features without lighting correction (a
    baseline); "whole_image", the mean CIELAB colour of the whole image (a baseline)."""
    if view == "whole_image":
        return m.whole_lab
    if view == "uncorrected":
        return m.uncorrected if m.uncorrected is not None else np.full(len(FEATURE_NAMES), np.nan)
    features = m.features if m.features is not None else np.full(len(FEATURE_NAMES), np.nan)
    candidates = m.candidates if m.candidates is not None else np.full(len(CANDIDATE_NAMES), np.nan)
    return np.concatenate([features, candidates])


@dataclass
class LabelledData:
    """The labelled photos and their measurements per lighting, with the service's face gate.

    `view` (see `row`) says what a fitter sees; the baselines' views are not gated (every photo
    with a measurement is answered), the service's view is gated exactly as the service is.
    """

    photos: list[Photo]
    by_lighting: dict[str, list[Measurement]]
    face_config: LandmarkConfig = field(default_factory=LandmarkConfig)
    view: str = "service"

    @property
    def seasons(self) -> list[str]:
        return [p.season for p in self.photos]

    def status(self, lighting: str, index: int) -> str:
        """What the service answers for this photo under this lighting: "ok" or an error code."""
        m = self.by_lighting[lighting][index]
        if self.view == "whole_image":
            return "ok"
        if self.view == "uncorrected":
            return "ok" if m.uncorrected is not None else m.status
        return face_gate(m, self.face_config)

    def with_view(self, view: str) -> LabelledData:
        return LabelledData(self.photos, self.by_lighting, self.face_config, view)

    def matrix(self, lighting: str, indices: Sequence[int]) -> FloatArray:
        rows = [row(self.by_lighting[lighting][i], self.view) for i in indices]
        return np.asarray(rows, dtype=np.float64)

    def training_rows(
        self, indices: Sequence[int], lightings: Sequence[str] = TRAINING_LIGHTINGS
    ) -> TrainingRows:
        """The given photos under each lighting, where the service would diagnose them."""
        rows, labels, photos, names = [], [], [], []
        for name in lightings:
            for i in indices:
                if self.status(name, i) == "ok":
                    rows.append(row(self.by_lighting[name][i], self.view))
                    labels.append(self.photos[i].season)
                    photos.append(i)
                    names.append(name)
        return TrainingRows(
            np.asarray(rows, dtype=np.float64),
            labels,
            np.asarray(photos, dtype=np.intp),
            np.asarray(names, dtype=np.str_),
            [self.photos[i].label12 for i in photos],
        )

    def subset(self, indices: Sequence[int]) -> LabelledData:
        return LabelledData(
            [self.photos[i] for i in indices],
            {name: [ms[i] for i in indices] for name, ms in self.by_lighting.items()},
            self.face_config,
            self.view,
        )

    def indices(self, keep: Callable[[Photo], bool]) -> list[int]:
        return [i for i, photo in enumerate(self.photos) if keep(photo)]


def stratum(photo: Photo) -> str:
    """What the folds are stratified by: the 12-class label, or the season without one."""
    return photo.label12 or photo.season


def person_folds(
    photos: Sequence[Photo], folds: int = FOLDS, seed: int = SEED
) -> list[tuple[IntArray, IntArray]]:
    """(train, test) photo indices of `folds` person-grouped, stratified folds (fixed seed)."""
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    labels = [stratum(p) for p in photos]
    groups = [p.person for p in photos]
    return [(train, test) for train, test in splitter.split(np.zeros(len(photos)), labels, groups)]


@dataclass
class Outcome:
    """Every photo's answer under each lighting: a season, or the refusal code ("refused:<code>")."""

    answers: dict[str, list[str]]
    probabilities: FloatArray  # neutral light, N x 4 (NaN rows where refused or no probabilities)
    tones: list[int]  # neutral light, -1 where refused or undecided


def predict_photos(
    data: LabelledData, predictor: Predictor, indices: Sequence[int], outcome: Outcome
) -> None:
    """Fill `outcome` for the given photos with `predictor`'s answers (refusals where the service refuses)."""
    for name in outcome.answers:
        diagnosed = [i for i in indices if data.status(name, i) == "ok"]
        answered = set(diagnosed)
        for i in indices:
            if i not in answered:
                outcome.answers[name][i] = f"refused:{data.status(name, i)}"
        if not diagnosed:
            continue
        prediction = predictor(data.matrix(name, diagnosed))
        for k, i in enumerate(diagnosed):
            outcome.answers[name][i] = prediction.seasons[k]
        if name == NEUTRAL.name:
            if prediction.probabilities is not None:
                outcome.probabilities[diagnosed] = prediction.probabilities
            if prediction.tones is not None:
                for k, i in enumerate(diagnosed):
                    outcome.tones[i] = prediction.tones[k]


def empty_outcome(data: LabelledData, lightings: Sequence[str]) -> Outcome:
    n = len(data.photos)
    return Outcome(
        answers={name: ["refused:none"] * n for name in lightings},
        probabilities=np.full((n, len(SEASONS)), np.nan),
        tones=[-1] * n,
    )


def cross_validate(
    data: LabelledData,
    fitter: Fitter,
    lightings: Sequence[str],
    folds: Sequence[tuple[IntArray, IntArray]] | None = None,
    person_share: float = 1.0,
    training_lightings: Sequence[str] = TRAINING_LIGHTINGS,
) -> Outcome:
    """Out-of-fold answers of `fitter` for every photo under each lighting. `person_share` < 1 fits
    each fold on that share of its training persons (drawn with the fixed seed): the learning curve."""
    outcome = empty_outcome(data, lightings)
    for fold, (train, test) in enumerate(folds if folds is not None else person_folds(data.photos)):
        chosen = _share_of_persons(data, train, person_share, SEED + fold)
        predictor = fitter(data.training_rows(chosen, training_lightings))
        predict_photos(data, predictor, list(test), outcome)
    return outcome


def _share_of_persons(data: LabelledData, indices: IntArray, share: float, seed: int) -> list[int]:
    if share >= 1.0:
        return list(indices)
    persons = sorted({data.photos[i].person for i in indices})
    rng = np.random.default_rng(seed)
    kept = set(rng.choice(persons, size=max(1, round(share * len(persons))), replace=False))
    return [int(i) for i in indices if data.photos[i].person in kept]


def train_and_test(
    train: LabelledData,
    test: LabelledData,
    fitter: Fitter,
    lightings: Sequence[str],
    training_lightings: Sequence[str] = TRAINING_LIGHTINGS,
) -> Outcome:
    """`fitter` fitted on every photo of `train`, answering for every photo of `test` (cross-source)."""
    predictor = fitter(train.training_rows(range(len(train.photos)), training_lightings))
    outcome = empty_outcome(test, lightings)
    predict_photos(test, predictor, range(len(test.photos)), outcome)
    return outcome
