"""The figures of issue 16 from out-of-fold answers: accuracy with refusals counted as wrong and
over diagnosed photos, refusals by code, stability under casts, confusion, calibration.

Shared by the calibration's provenance (``models.calibrate``), the model build and the accuracy
benchmark, so that the model card and the benchmark quote the same definitions:

- *all photos*: a refusal is a wrong answer (what a person sending that photo gets);
- *diagnosed*: over the photos the service answers;
- a cast's *kept*: of the photos diagnosed both under neutral light and under the cast, the share
  with the same season; its *refused*: of the photos diagnosed under neutral light, the share
  refused under the cast.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from models.crossval import Outcome
from models.labelled import MODERATE, NEUTRAL, SEASONS, WARM_SEASONS, Photo
from pipeline.arrays import FloatArray


@dataclass(frozen=True)
class CastFigures:
    kept: float
    refused: float


@dataclass(frozen=True)
class Figures:
    photos: int
    season_all: float
    season_diagnosed: float
    warm_cool_all: float
    warm_cool_diagnosed: float
    refused: float
    refused_by_code: dict[str, float]
    casts: dict[str, CastFigures] = field(default_factory=dict)


def pct(value: float) -> str:
    """A share as a table cell: one decimal, "-" for NaN (nothing to count)."""
    return "-" if value != value else f"{100 * value:.1f}%"


def _share(hits: int, total: int) -> float:
    return hits / total if total else float("nan")


def refused(answer: str) -> bool:
    return answer.startswith("refused:")


def figures(photos: Sequence[Photo], outcome: Outcome, indices: Sequence[int] | None = None) -> Figures:
    """The figures of `outcome` over the given photos (all: None)."""
    chosen = list(range(len(photos))) if indices is None else list(indices)
    neutral = outcome.answers[NEUTRAL.name]
    answered = [i for i in chosen if not refused(neutral[i])]
    season_hits = sum(neutral[i] == photos[i].season for i in answered)
    warm_hits = sum((neutral[i] in WARM_SEASONS) == photos[i].warm for i in answered)
    codes = Counter(neutral[i].removeprefix("refused:") for i in chosen if refused(neutral[i]))
    casts = {}
    for light in MODERATE:
        if light.name not in outcome.answers:
            continue
        cast = outcome.answers[light.name]
        both = [i for i in answered if not refused(cast[i])]
        casts[light.name] = CastFigures(
            kept=_share(sum(cast[i] == neutral[i] for i in both), len(both)),
            refused=_share(len(answered) - len(both), len(answered)),
        )
    return Figures(
        photos=len(chosen),
        season_all=_share(season_hits, len(chosen)),
        season_diagnosed=_share(season_hits, len(answered)),
        warm_cool_all=_share(warm_hits, len(chosen)),
        warm_cool_diagnosed=_share(warm_hits, len(answered)),
        refused=_share(len(chosen) - len(answered), len(chosen)),
        refused_by_code={code: count / len(chosen) for code, count in codes.most_common()},
        casts=casts,
    )


def class_accuracy(
    photos: Sequence[Photo], answers: Sequence[str], indices: Sequence[int]
) -> tuple[float, float]:
    """(over all, over diagnosed) accuracy of answers that are armocromia classes ("autumn deep")."""
    answered = [i for i in indices if not refused(answers[i])]
    hits = sum(answers[i] == photos[i].label12 for i in answered)
    return _share(hits, len(indices)), _share(hits, len(answered))


def confusion(photos: Sequence[Photo], answers: Sequence[str], indices: Sequence[int]) -> FloatArray:
    """Rows: labelled season; columns: predicted season, then refused (SEASONS order)."""
    table = np.zeros((len(SEASONS), len(SEASONS) + 1))
    for i in indices:
        column = len(SEASONS) if refused(answers[i]) else SEASONS.index(answers[i])
        table[SEASONS.index(photos[i].season), column] += 1
    return table


@dataclass(frozen=True)
class Calibration:
    ece: float
    above: dict[float, tuple[float, float]]  # threshold -> (share of diagnosed photos, accuracy)


CONFIDENCE_THRESHOLDS = (0.5, 0.7)


def calibration(
    photos: Sequence[Photo], outcome: Outcome, indices: Sequence[int], bins: int = 10
) -> Calibration | None:
    """Expected calibration error of the season probability (the top season's, 10 equal-width
    bins) over diagnosed photos, and the accuracy above each CONFIDENCE_THRESHOLDS; None when the
    method states no probabilities."""
    rows = [i for i in indices if not np.isnan(outcome.probabilities[i]).any()]
    if not rows:
        return None
    probabilities = outcome.probabilities[rows]
    confidence = probabilities.max(axis=1)
    correct = np.array(
        [SEASONS[int(k)] == photos[i].season for k, i in zip(probabilities.argmax(axis=1), rows, strict=True)]
    )
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    ece = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            ece += members.mean() * abs(float(correct[members].mean()) - float(confidence[members].mean()))
    above = {}
    for threshold in CONFIDENCE_THRESHOLDS:
        members = confidence > threshold
        above[threshold] = (
            float(members.mean()),
            float(correct[members].mean()) if members.any() else float("nan"),
        )
    return Calibration(ece=ece, above=above)
