"""The documented colour-science rules: a feature vector in, one of the 16 types out.

Three axes are computed as weighted sums of standardised features (weights, reference values and
thresholds all come from ``models/rules.yaml``; this module holds no number that decides a type):

- undertone: skin hue angle first, then iris, hair and lip yellowness, lip, skin and hair redness
  (see rules.yaml for the signs), skin b* only weakly;
- value: skin ITA, hair and iris lightness, and (negatively) the skin-hair lightness contrast;
- chroma: skin and iris chroma and the skin-hair/skin-eye lightness contrast.

Undertone x value picks the season, value and chroma inside the season pick the tone
(see ``pipeline.seasons``). The rules label the synthetic training set of ``models.build``; they
are a build-time tool and are never imported by ``pipeline/`` at run time.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from pipeline.arrays import FloatArray
from pipeline.features import FEATURE_NAMES
from pipeline.seasons import SEASON_TYPE_IDS, Season, Tone

RULES_PATH = Path(__file__).with_name("rules.yaml")
_erf = np.frompyfunc(math.erf, 1, 1)
AXES = ("undertone", "value", "chroma")


@dataclass(frozen=True)
class Term:
    feature: str
    weight: float
    ref: float
    scale: float
    needs_hair: bool


@dataclass(frozen=True)
class SeasonSplit:
    value_split: float
    chroma_split: float


@dataclass(frozen=True)
class AxisScores:
    """Per-row axis positions; positive means warmer, lighter, clearer than the reference."""

    undertone: FloatArray
    value: FloatArray
    chroma: FloatArray


@dataclass(frozen=True)
class Rules:
    terms: dict[str, tuple[Term, ...]]
    undertone_threshold: float
    season_value_split: float
    seasons: dict[Season, SeasonSplit]
    axis_noise_sd: float
    sha256: str

    @classmethod
    def load(cls, path: Path = RULES_PATH, feature_names: tuple[str, ...] = FEATURE_NAMES) -> Rules:
        raw = path.read_bytes()
        data: dict[str, Any] = yaml.safe_load(raw)
        terms: dict[str, tuple[Term, ...]] = {}
        for axis in AXES:
            axis_terms = []
            for feature, spec in data["axes"][axis]["terms"].items():
                if feature not in feature_names:
                    raise ValueError(f"{path}: axis {axis!r} uses unknown feature {feature!r}")
                if float(spec["scale"]) <= 0:
                    raise ValueError(f"{path}: scale of {axis}.{feature} must be positive")
                axis_terms.append(
                    Term(
                        feature=feature,
                        weight=float(spec["weight"]),
                        ref=float(spec["ref"]),
                        scale=float(spec["scale"]),
                        needs_hair=bool(spec.get("needs_hair", False)),
                    )
                )
            terms[axis] = tuple(axis_terms)
        seasons = {
            Season(name): SeasonSplit(float(s["value_split"]), float(s["chroma_split"]))
            for name, s in data["seasons"].items()
        }
        if "axis_noise_sd" not in data:
            raise ValueError(f"{path}: needs 'axis_noise_sd' (measurement noise of the axis scores)")
        if set(seasons) != set(Season):
            raise ValueError(f"{path}: 'seasons' must list exactly {[s.value for s in Season]}")
        return cls(
            terms=terms,
            undertone_threshold=float(data["axes"]["undertone"]["threshold"]),
            season_value_split=float(data["season_value_split"]),
            seasons=seasons,
            axis_noise_sd=float(data["axis_noise_sd"]),
            sha256=hashlib.sha256(raw).hexdigest(),
        )

    def axis_scores(
        self, vectors: npt.ArrayLike, feature_names: tuple[str, ...] = FEATURE_NAMES
    ) -> AxisScores:
        """Axis positions of each row of an N x len(feature_names) array."""
        x = np.atleast_2d(np.asarray(vectors, dtype=np.float64))
        column = {name: i for i, name in enumerate(feature_names)}
        hair_present = x[:, column["hair_present"]] > 0.5

        def score(axis: str) -> FloatArray:
            total = np.zeros(len(x))
            weight_all = sum(abs(t.weight) for t in self.terms[axis])
            weight_no_hair = sum(abs(t.weight) for t in self.terms[axis] if not t.needs_hair)
            rescale_no_hair = weight_all / weight_no_hair
            for term in self.terms[axis]:
                contribution = term.weight * (x[:, column[term.feature]] - term.ref) / term.scale
                if term.needs_hair:
                    contribution = np.where(hair_present, contribution, 0.0)
                total += contribution
            result: FloatArray = np.where(hair_present, total, total * rescale_no_hair)
            return result

        return AxisScores(undertone=score("undertone"), value=score("value"), chroma=score("chroma"))

    def label_indices(
        self,
        vectors: npt.ArrayLike,
        feature_names: tuple[str, ...] = FEATURE_NAMES,
        noise: np.random.Generator | None = None,
    ) -> npt.NDArray[np.int64]:
        """Class index (into SEASON_TYPE_IDS) of each row.

        With `noise`, each axis score first gets Gaussian noise of `axis_noise_sd`: a draw from the
        types a measurement this uncertain could belong to (how the training labels are made).
        """
        axes = self.axis_scores(vectors, feature_names)
        if noise is not None:
            axes = AxisScores(
                *(
                    score + noise.normal(0.0, self.axis_noise_sd, size=score.shape)
                    for score in (axes.undertone, axes.value, axes.chroma)
                )
            )
        warm = axes.undertone >= self.undertone_threshold
        light_season = axes.value >= self.season_value_split
        season = np.where(
            warm,
            np.where(light_season, 0, 2),  # spring / autumn
            np.where(light_season, 1, 3),  # summer / winter
        )
        seasons = list(Season)
        value_split = np.array([self.seasons[s].value_split for s in seasons])[season]
        chroma_split = np.array([self.seasons[s].chroma_split for s in seasons])[season]
        lighter = axes.value >= value_split
        clear = axes.chroma >= chroma_split
        tones = list(Tone)
        tone = np.where(
            lighter,
            np.where(clear, tones.index(Tone.BRIGHT), tones.index(Tone.LIGHT)),
            np.where(clear, tones.index(Tone.DEEP), tones.index(Tone.MUTE)),
        )
        # SEASON_TYPES is ordered season-major, tone-minor (see pipeline.seasons).
        return np.asarray(season * len(tones) + tone, dtype=np.int64)

    def probabilities(
        self, vectors: npt.ArrayLike, feature_names: tuple[str, ...] = FEATURE_NAMES
    ) -> FloatArray:
        """N x 16 probability of each type when every axis score carries Gaussian noise of
        `axis_noise_sd` (independent per axis): the soft labels the model is trained on.

        The most probable type is almost always the noise-free `label_indices` type (the model card
        reports how often); it can differ only just beside a boundary of a narrow value band.
        """
        axes = self.axis_scores(vectors, feature_names)
        sd = self.axis_noise_sd

        def above(score: FloatArray, threshold: float) -> FloatArray:
            """P(score + noise >= threshold)."""
            if sd == 0:
                return np.asarray(score >= threshold, dtype=np.float64)
            return np.asarray(0.5 * (1.0 + _erf((score - threshold) / (sd * np.sqrt(2.0)))), dtype=np.float64)

        warm = above(axes.undertone, self.undertone_threshold)
        result = np.zeros((len(axes.value), len(Season) * len(Tone)))
        tones = list(Tone)
        for s, season in enumerate(Season):
            undertone = warm if season in (Season.SPRING, Season.AUTUMN) else 1.0 - warm
            light_season = season in (Season.SPRING, Season.SUMMER)
            low, high = (
                (self.season_value_split, np.inf) if light_season else (-np.inf, self.season_value_split)
            )
            split = min(max(self.seasons[season].value_split, low), high)
            lighter = above(axes.value, split) - above(axes.value, high)
            deeper = above(axes.value, low) - above(axes.value, split)
            clear = above(axes.chroma, self.seasons[season].chroma_split)
            for tone, value_band, chroma_side in (
                (Tone.LIGHT, lighter, 1.0 - clear),
                (Tone.BRIGHT, lighter, clear),
                (Tone.MUTE, deeper, 1.0 - clear),
                (Tone.DEEP, deeper, clear),
            ):
                result[:, s * len(tones) + tones.index(tone)] = undertone * value_band * chroma_side
        return result

    def label(self, vector: npt.ArrayLike) -> str:
        """The type id of one feature vector."""
        return SEASON_TYPE_IDS[int(self.label_indices(vector)[0])]
