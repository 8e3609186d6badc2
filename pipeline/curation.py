"""Palettes, makeup and hair advice and explanation texts for the 16 types, read from data.

Everything a person reads lives in ``pipeline/data/palettes.yaml`` (Korean and English), not in
code. The file is validated when it is loaded: all 16 types present with complete texts in both
languages, every colour a valid ``#rrggbb`` code, 8-12 main and 4-6 worst colours, and no colour
both recommended and advised against. A broken file stops the service at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.seasons import SEASON_TYPE_IDS

DEFAULT_CURATION_PATH = Path(__file__).with_name("data") / "palettes.yaml"
LANGUAGES = ("ko", "en")
MAKEUP_PARTS = ("lip", "blush", "eyeshadow")
MAIN_COLORS = (8, 12)
WORST_COLORS = (4, 6)
_HEX = re.compile(r"^#[0-9a-f]{6}$")


class CurationDataError(ValueError):
    """The curation data file is incomplete or inconsistent."""


@dataclass(frozen=True)
class Text:
    ko: str
    en: str

    def get(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en


@dataclass(frozen=True)
class MakeupAdvice:
    colors: tuple[str, ...]
    advice: Text


@dataclass(frozen=True)
class HairColor:
    hex: str
    name: Text


@dataclass(frozen=True)
class TypeCuration:
    type_id: str
    thumbnail: str
    summary: Text
    main: tuple[str, ...]
    worst: tuple[str, ...]
    worst_advice: Text
    makeup: dict[str, MakeupAdvice]
    hair_colors: tuple[HairColor, ...]
    hair_advice: Text


@dataclass(frozen=True)
class Curation:
    types: dict[str, TypeCuration]
    explanations: dict[str, dict[str, Text]]

    def for_type(self, type_id: str) -> TypeCuration:
        return self.types[type_id]

    def explanation(self, axis: str, key: str) -> Text:
        return self.explanations[axis][key]

    @classmethod
    def load(cls, path: Path = DEFAULT_CURATION_PATH) -> Curation:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CurationDataError(f"cannot read curation data {path}: {exc}") from exc
        return parse_curation(data, str(path))


# The explanation keys the diagnosis uses; each needs a ko and an en template.
EXPLANATION_KEYS: dict[str, tuple[str, ...]] = {
    # warm/cool: the rules decided the season; *_learned: a head learned from labelled photos did.
    "undertone": ("warm", "cool", "warm_learned", "cool_learned"),
    "value": ("very_light", "light", "medium", "deep"),
    "chroma": ("clear", "soft"),
    "hair": ("measured", "missing"),
    "ita_category": ("very_light", "light", "intermediate", "tan", "brown", "dark"),
}


def _color(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _HEX.match(value):
        raise CurationDataError(f"{where}: {value!r} is not a lower-case #rrggbb colour")
    return value


def _colors(value: Any, where: str, count: tuple[int, int] | None = None) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise CurationDataError(f"{where}: expected a list of colours")
    colors = tuple(_color(v, f"{where}[{i}]") for i, v in enumerate(value))
    if count and not count[0] <= len(colors) <= count[1]:
        raise CurationDataError(f"{where}: {len(colors)} colours, expected {count[0]}-{count[1]}")
    if len(set(colors)) != len(colors):
        raise CurationDataError(f"{where}: repeated colour")
    return colors


def _text(value: Any, where: str) -> Text:
    if not isinstance(value, dict) or any(
        not isinstance(value.get(lang), str) or not value[lang].strip() for lang in LANGUAGES
    ):
        raise CurationDataError(f"{where}: needs non-empty 'ko' and 'en' texts")
    return Text(ko=value["ko"], en=value["en"])


def _type(type_id: str, raw: Any, where: str) -> TypeCuration:
    if not isinstance(raw, dict):
        raise CurationDataError(f"{where}: expected a mapping")
    try:
        main = _colors(raw["main"], f"{where}.main", MAIN_COLORS)
        worst = _colors(raw["worst"], f"{where}.worst", WORST_COLORS)
        both = sorted(set(main) & set(worst))
        if both:
            raise CurationDataError(f"{where}: {both} listed both as main and worst colours")
        makeup = {
            part: MakeupAdvice(
                colors=_colors(raw["makeup"][part]["colors"], f"{where}.makeup.{part}.colors"),
                advice=_text(raw["makeup"][part]["advice"], f"{where}.makeup.{part}.advice"),
            )
            for part in MAKEUP_PARTS
        }
        hair_colors = tuple(
            HairColor(
                hex=_color(h["hex"], f"{where}.hair.colors[{i}]"), name=_text(h, f"{where}.hair.colors[{i}]")
            )
            for i, h in enumerate(raw["hair"]["colors"])
        )
        if not hair_colors:
            raise CurationDataError(f"{where}.hair.colors: needs at least one colour")
        return TypeCuration(
            type_id=type_id,
            thumbnail=_color(raw["thumbnail"], f"{where}.thumbnail"),
            summary=_text(raw["summary"], f"{where}.summary"),
            main=main,
            worst=worst,
            worst_advice=_text(raw["worst_advice"], f"{where}.worst_advice"),
            makeup=makeup,
            hair_colors=hair_colors,
            hair_advice=_text(raw["hair"]["advice"], f"{where}.hair.advice"),
        )
    except (KeyError, TypeError) as exc:
        raise CurationDataError(f"{where}: missing or malformed entry {exc}") from exc


def parse_curation(data: Any, source: str = "curation data") -> Curation:
    """Validate and type the parsed YAML; raises CurationDataError naming the first problem."""
    if not isinstance(data, dict) or not isinstance(data.get("types"), dict):
        raise CurationDataError(f"{source}: expected a mapping with 'types'")
    raw_types: dict[str, Any] = data["types"]
    missing = [t for t in SEASON_TYPE_IDS if t not in raw_types]
    unknown = [t for t in raw_types if t not in SEASON_TYPE_IDS]
    if missing or unknown:
        raise CurationDataError(f"{source}: types missing {missing}, unknown {unknown}")
    types = {t: _type(t, raw_types[t], f"{source}: types.{t}") for t in SEASON_TYPE_IDS}
    raw_explanations = data.get("explanations")
    if not isinstance(raw_explanations, dict):
        raise CurationDataError(f"{source}: expected an 'explanations' mapping")
    explanations: dict[str, dict[str, Text]] = {}
    for axis, keys in EXPLANATION_KEYS.items():
        section = raw_explanations.get(axis)
        if not isinstance(section, dict):
            raise CurationDataError(f"{source}: explanations.{axis} is missing")
        explanations[axis] = {
            key: _text(section.get(key), f"{source}: explanations.{axis}.{key}") for key in keys
        }
    return Curation(types=types, explanations=explanations)
