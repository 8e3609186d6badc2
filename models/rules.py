"""The documented colour-science rules: a feature vector in, one of the 16 types out.

Three axes are computed as weighted sums of standardised features (weights, reference values and
thresholds all come from ``models/rules.yaml``; this module holds no number that decides a type):

- undertone: skin hue angle first, then iris and hair yellowness, skin b* only weakly;
- value: skin ITA, hair and iris lightness, and (negatively) the skin-hair lightness contrast;
- chroma: skin and iris chroma and the skin-hair/skin-eye lightness contrast.

Undertone x value picks the season, value and chroma inside the season pick the tone
(see ``pipeline.seasons``). The rules label the synthetic training set of ``models.build``; they
are a build-time tool and are never imported by ``pipeline/`` at run time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from pipeline.features import FEATURE_NAMES
from pipeline.seasons import SEASON_TYPE_IDS, Season, Tone

RULES_PATH = Path(__file__).with_name("rules.yaml")
AXES = ("undertone", "value", "chroma")

FloatArray = npt.NDArray[np.float64]


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
        if set(seasons) != set(Season):
            raise ValueError(f"{path}: 'seasons' must list exactly {[s.value for s in Season]}")
        return cls(
            terms=terms,
            undertone_threshold=float(data["axes"]["undertone"]["threshold"]),
            season_value_split=float(data["season_value_split"]),
            seasons=seasons,
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
        self, vectors: npt.ArrayLike, feature_names: tuple[str, ...] = FEATURE_NAMES
    ) -> npt.NDArray[np.int64]:
        """Class index (into SEASON_TYPE_IDS) of each row."""
        axes = self.axis_scores(vectors, feature_names)
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

    def label(self, vector: npt.ArrayLike) -> str:
        """The type id of one feature vector."""
        return SEASON_TYPE_IDS[int(self.label_indices(vector)[0])]
