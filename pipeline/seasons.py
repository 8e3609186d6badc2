"""The 16 personal-color types: four seasons, each split in four by value and chroma.

The system follows the three axes of seasonal colour analysis. Temperature (undertone) is the
trunk: spring and autumn are warm, summer and winter cool. Value splits the seasons in two: spring
and summer are the light seasons, autumn and winter the deep ones. Inside each season, value and
chroma split once more into the four PCCS tone families used by Korean personal-color consultants:

- ``light``  - the lighter half of the season, softer chroma (PCCS "light"/"pale" tones);
- ``bright`` - the lighter half, clear chroma (PCCS "bright");
- ``mute``   - the deeper half, soft chroma (PCCS "soft"/"dull"; Korean 뮤트);
- ``deep``   - the deeper half, clear chroma (PCCS "deep").

Ids are ``<season>_<warm|cool>_<tone>`` and are part of the public contract (stored in the history
and named in the ONNX model's class list): never rename one. The thresholds that place a person on
these axes live in ``models/rules.yaml`` (see ``models/MODEL_CARD.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Season(StrEnum):
    SPRING = "spring"
    SUMMER = "summer"
    AUTUMN = "autumn"
    WINTER = "winter"


class Undertone(StrEnum):
    WARM = "warm"
    COOL = "cool"


class Tone(StrEnum):
    LIGHT = "light"
    BRIGHT = "bright"
    MUTE = "mute"
    DEEP = "deep"


SEASON_UNDERTONE: dict[Season, Undertone] = {
    Season.SPRING: Undertone.WARM,
    Season.SUMMER: Undertone.COOL,
    Season.AUTUMN: Undertone.WARM,
    Season.WINTER: Undertone.COOL,
}
LIGHT_SEASONS = frozenset({Season.SPRING, Season.SUMMER})
LIGHTER_TONES = frozenset({Tone.LIGHT, Tone.BRIGHT})
CLEAR_TONES = frozenset({Tone.BRIGHT, Tone.DEEP})

_SEASON_NAMES = {
    Season.SPRING: ("봄", "Spring"),
    Season.SUMMER: ("여름", "Summer"),
    Season.AUTUMN: ("가을", "Autumn"),
    Season.WINTER: ("겨울", "Winter"),
}
_UNDERTONE_NAMES = {Undertone.WARM: ("웜", "Warm"), Undertone.COOL: ("쿨", "Cool")}
_TONE_NAMES = {
    Tone.LIGHT: ("라이트", "Light"),
    Tone.BRIGHT: ("브라이트", "Bright"),
    Tone.MUTE: ("뮤트", "Mute"),
    Tone.DEEP: ("딥", "Deep"),
}


@dataclass(frozen=True)
class SeasonType:
    """One of the 16 types, with its place on the three axes and its display names."""

    id: str
    season: Season
    undertone: Undertone
    tone: Tone
    name_ko: str
    name_en: str
    season_name_ko: str
    season_name_en: str

    @property
    def is_warm(self) -> bool:
        return self.undertone is Undertone.WARM

    @property
    def is_light_season(self) -> bool:
        return self.season in LIGHT_SEASONS

    @property
    def is_lighter_tone(self) -> bool:
        return self.tone in LIGHTER_TONES

    @property
    def is_clear(self) -> bool:
        return self.tone in CLEAR_TONES

    def name(self, lang: str) -> str:
        return self.name_ko if lang == "ko" else self.name_en

    def season_name(self, lang: str) -> str:
        return self.season_name_ko if lang == "ko" else self.season_name_en


def _make(season: Season, tone: Tone) -> SeasonType:
    undertone = SEASON_UNDERTONE[season]
    s_ko, s_en = _SEASON_NAMES[season]
    u_ko, u_en = _UNDERTONE_NAMES[undertone]
    t_ko, t_en = _TONE_NAMES[tone]
    return SeasonType(
        id=f"{season.value}_{undertone.value}_{tone.value}",
        season=season,
        undertone=undertone,
        tone=tone,
        name_ko=f"{s_ko} {u_ko} {t_ko}",
        name_en=f"{s_en} {u_en} {t_en}",
        season_name_ko=s_ko,
        season_name_en=s_en,
    )


# The canonical order: the model's class list and every table use it.
SEASON_TYPES: tuple[SeasonType, ...] = tuple(_make(season, tone) for season in Season for tone in Tone)
SEASON_TYPE_IDS: tuple[str, ...] = tuple(t.id for t in SEASON_TYPES)
_BY_ID = {t.id: t for t in SEASON_TYPES}


def season_type(type_id: str) -> SeasonType:
    """Look a type up by id; raises KeyError naming the valid ids for an unknown one."""
    try:
        return _BY_ID[type_id]
    except KeyError:
        raise KeyError(f"unknown season type {type_id!r}; known: {', '.join(SEASON_TYPE_IDS)}") from None
