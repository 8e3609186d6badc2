"""From measured colours to a person's diagnosis: type, palette, advice and the reasons behind it.

`Diagnoser` joins the ONNX classifier (`pipeline.classify`) with the curation data
(`pipeline.curation`). The `Diagnosis` it returns holds only text and numbers, so it can be stored
and sent as JSON as it is; it never carries image data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from pipeline.classify import SeasonClassifier, TypeProbabilities
from pipeline.curation import Curation
from pipeline.features import ColorFeatures, RegionColor
from pipeline.seasons import season_type

LANGUAGES = ("ko", "en")

# Chardon, Cretois and Hourseau (1991): lower bounds of the ITA skin categories, lightest first.
ITA_CATEGORIES = (
    (55.0, "very_light"),
    (41.0, "light"),
    (28.0, "intermediate"),
    (10.0, "tan"),
    (-30.0, "brown"),
)


class LightingSummary(Protocol):
    """What the diagnosis needs of the lighting report (pipeline.normalize.LightingReport)."""

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Diagnosis:
    """The result a person sees. `to_dict()` is JSON-safe: only strings, numbers, lists, dicts."""

    season: str
    season_type: str
    season_name: dict[str, str]
    type_name: dict[str, str]
    language: str
    confidence: float
    runner_up: dict[str, Any] | None
    summary: str
    main_colors: list[str]
    worst_colors: list[str]
    worst_advice: str
    thumbnail_color: str
    makeup: dict[str, dict[str, Any]]
    hair: dict[str, Any]
    measured: dict[str, Any]
    explanation: dict[str, dict[str, Any]]
    lighting: dict[str, Any] | None
    probabilities: dict[str, float]
    model_version: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ita_category(ita: float) -> str:
    for lower_bound, name in ITA_CATEGORIES:
        if ita > lower_bound:
            return name
    return "dark"


def _region(color: RegionColor) -> dict[str, Any]:
    return {
        "hex": color.hex,
        "lab": [round(color.L, 2), round(color.a, 2), round(color.b, 2)],
        "chroma": round(color.chroma, 2),
        "hue_deg": round(color.hue_deg, 2),
    }


def _measured(features: ColorFeatures) -> dict[str, Any]:
    return {
        "skin": _region(features.skin),
        "skin_ita": round(features.skin_ita, 2),
        "eyes": _region(features.eyes),
        "lips": _region(features.lips),
        "hair": _region(features.hair) if features.hair is not None else None,
        "hair_source": features.hair_source.value,
    }


def _json_safe(value: Any) -> Any:
    """Make lighting reports from any stage plain JSON (numpy scalars and tuples included)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [_json_safe(v) for v in value.tolist()]
    return value


class Diagnoser:
    """Classifier plus curation data; both loaded (and validated) once, then shared by all requests."""

    def __init__(self, classifier: SeasonClassifier, curation: Curation) -> None:
        self.classifier = classifier
        self.curation = curation

    @classmethod
    def load(cls, classifier: SeasonClassifier | None = None, curation: Curation | None = None) -> Diagnoser:
        return cls(classifier or SeasonClassifier.from_path(), curation or Curation.load())

    @property
    def model_version(self) -> str:
        return self.classifier.model_version

    def diagnose(
        self, features: ColorFeatures, lighting: LightingSummary | None = None, lang: str = "ko"
    ) -> Diagnosis:
        return self.diagnose_batch([(features, lighting)], lang=lang)[0]

    def diagnose_batch(
        self, items: list[tuple[ColorFeatures, LightingSummary | None]], lang: str = "ko"
    ) -> list[Diagnosis]:
        """One classifier call for the whole batch (the serving layer batches across requests)."""
        if lang not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}, got {lang!r}")
        if not items:
            return []
        vectors = np.stack([features.to_vector() for features, _ in items])
        results = self.classifier.predict_batch(vectors)
        return [
            self._diagnosis(features, lighting, probabilities, lang)
            for (features, lighting), probabilities in zip(items, results, strict=True)
        ]

    def _diagnosis(
        self, features: ColorFeatures, lighting: LightingSummary | None, result: TypeProbabilities, lang: str
    ) -> Diagnosis:
        (type_id, confidence), (runner_id, runner_confidence) = result.ranked()[:2]
        kind = season_type(type_id)
        runner = season_type(runner_id)
        curation = self.curation.for_type(type_id)
        return Diagnosis(
            season=kind.season.value,
            season_type=type_id,
            season_name={"ko": kind.season_name_ko, "en": kind.season_name_en},
            type_name={"ko": kind.name_ko, "en": kind.name_en},
            language=lang,
            confidence=round(confidence, 4),
            runner_up={
                "season_type": runner.id,
                "type_name": {"ko": runner.name_ko, "en": runner.name_en},
                "confidence": round(runner_confidence, 4),
            },
            summary=curation.summary.get(lang),
            main_colors=list(curation.main),
            worst_colors=list(curation.worst),
            worst_advice=curation.worst_advice.get(lang),
            thumbnail_color=curation.thumbnail,
            makeup={
                part: {"colors": list(advice.colors), "advice": advice.advice.get(lang)}
                for part, advice in curation.makeup.items()
            },
            hair={
                "colors": [{"hex": c.hex, "name": c.name.get(lang)} for c in curation.hair_colors],
                "advice": curation.hair_advice.get(lang),
            },
            measured=_measured(features),
            explanation=self._explain(features, type_id, lang),
            lighting=_json_safe(lighting.to_dict()) if lighting is not None else None,
            probabilities={k: round(v, 4) for k, v in result.as_dict().items()},
            model_version=self.model_version,
        )

    def _explain(self, features: ColorFeatures, type_id: str, lang: str) -> dict[str, dict[str, Any]]:
        """The model's verdict on each axis, in words, with the measured numbers behind it."""
        kind = season_type(type_id)
        skin, eyes, hair = features.skin, features.eyes, features.hair
        category = ita_category(features.skin_ita)
        numbers: dict[str, float] = {
            "skin_L": skin.L,
            "skin_a": skin.a,
            "skin_b": skin.b,
            "skin_C": skin.chroma,
            "skin_h": skin.hue_deg,
            "ita": features.skin_ita,
            "eye_L": eyes.L,
            "eye_b": eyes.b,
            "eye_C": eyes.chroma,
            "contrast_eye": skin.L - eyes.L,
            "lips_a": features.lips.a,
            "lips_b": features.lips.b,
        }
        hair_numbers: dict[str, float] = (
            {"hair_L": hair.L, "hair_a": hair.a, "hair_b": hair.b, "contrast_hair": skin.L - hair.L}
            if hair is not None
            else {}
        )
        measured = {**numbers, **hair_numbers}
        fields: dict[str, Any] = {
            **numbers,
            **hair_numbers,
            "ita_category": self.curation.explanation("ita_category", category).get(lang),
        }
        undertone = kind.undertone.value
        value = {
            (True, True): "very_light",
            (True, False): "light",
            (False, True): "medium",
            (False, False): "deep",
        }[(kind.is_light_season, kind.is_lighter_tone)]
        chroma = "clear" if kind.is_clear else "soft"

        def item(
            axis: str, verdict: str, keys: tuple[str, ...], template: str | None = None
        ) -> dict[str, Any]:
            return {
                "verdict": verdict,
                "text": self.curation.explanation(axis, template or verdict).get(lang).format(**fields),
                "numbers": {k: round(float(measured[k]), 2) for k in keys if k in measured},
            }

        # The season (hence the undertone) is the learned head's when the model says so: its text
        # then shows the measured cues without crediting them with the decision.
        learned = self.classifier.season_decision == "learned"
        undertone_item = item(
            "undertone",
            undertone,
            ("skin_h", "skin_a", "skin_b", "eye_b", "hair_a", "hair_b", "lips_a", "lips_b"),
            f"{undertone}_learned" if learned else None,
        )
        undertone_item["decided_by"] = "learned_season_model" if learned else "rules"
        return {
            "undertone": undertone_item,
            "value": item("value", value, ("skin_L", "ita", "eye_L", "hair_L", "contrast_hair")),
            "chroma": item("chroma", chroma, ("skin_C", "eye_C", "contrast_eye", "contrast_hair")),
            "hair": item(
                "hair", "measured" if hair is not None else "missing", ("hair_L", "hair_b", "contrast_hair")
            ),
        }


_LABELS = {
    "ko": {
        "type": "진단",
        "confidence": "확신도",
        "runner_up": "차선",
        "best": "베스트 컬러",
        "worst": "워스트 컬러",
        "lip": "립",
        "blush": "블러셔",
        "eyeshadow": "아이섀도",
        "hair": "헤어",
        "why": "근거",
        "model": "모델",
    },
    "en": {
        "type": "Type",
        "confidence": "confidence",
        "runner_up": "runner-up",
        "best": "Best colours",
        "worst": "Worst colours",
        "lip": "Lip",
        "blush": "Blush",
        "eyeshadow": "Eyeshadow",
        "hair": "Hair",
        "why": "Why",
        "model": "Model",
    },
}


def render_diagnosis(body: dict[str, Any]) -> str:
    """A plain-text rendering of `Diagnosis.to_dict()` in its own language (for the CLI)."""
    lang = body["language"]
    label = _LABELS[lang]
    runner = body["runner_up"]
    lines = [
        f"{label['type']:<10}{body['type_name'][lang]} ({body['season_type']}), "
        f"{label['confidence']} {body['confidence']:.0%}"
        + (
            f"; {label['runner_up']} {runner['type_name'][lang]} {runner['confidence']:.0%}" if runner else ""
        ),
        f"          {body['summary']}",
        f"{label['best']}: {' '.join(body['main_colors'])}",
        f"{label['worst']}: {' '.join(body['worst_colors'])}",
        f"          {body['worst_advice']}",
    ]
    for part in ("lip", "blush", "eyeshadow"):
        makeup = body["makeup"][part]
        lines.append(f"{label[part]}: {' '.join(makeup['colors'])} - {makeup['advice']}")
    hair = body["hair"]
    colors = ", ".join(f"{c['name']} {c['hex']}" for c in hair["colors"])
    lines += [f"{label['hair']}: {colors} - {hair['advice']}", f"{label['why']}:"]
    lines += [f"  - {body['explanation'][axis]['text']}" for axis in ("undertone", "value", "chroma", "hair")]
    lines.append(f"{label['model']}: {body['model_version']}")
    return "\n".join(lines)
