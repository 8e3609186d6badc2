"""How the 12 armocromia classes and our 16 types (4 seasons x 4 tones) relate.

The two systems split a season differently. Ours (``pipeline.seasons``) splits each season by
value (lighter / deeper half) and chroma (clear / soft) into the PCCS tone families light, bright,
mute and deep. Armocromia gives each season three of six sub-types: its "dominant" characteristic
(deep, soft, warm, cool, bright, light). The mapping:

| armocromia sub-type | our tone | why |
|---|---|---|
| light  (spring, summer) | light  | the lighter, softer half of a light season |
| bright (spring, winter) | bright | clear, high-chroma colouring |
| soft   (summer, autumn) | mute   | low chroma: the muted tones |
| deep   (autumn, winter) | deep   | the darker, clear half of a deep season |
| warm   (spring, autumn) | none   | the season's own centre ("true" spring / autumn): no tone of ours |
| cool   (summer, winter) | none   | the season's own centre ("true" summer / winter): no tone of ours |

So a sub-type can be checked on the eight classes with a counterpart (about two thirds of the
armocromia photos), and only together with the season; for the "true" classes only the season is
meaningful. Coarser, the value half is comparable too: light and bright are our lighter tones,
mute and deep the deeper ones, but armocromia's soft is lighter in summer than in autumn, so the
benchmark reports the exact tone only.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.crossval import LabelledData, Outcome
from models.labelled import NEUTRAL
from pipeline.seasons import Tone

TONE_ORDER: tuple[Tone, ...] = tuple(Tone)
SUBTYPE_TONE: dict[str, Tone | None] = {
    "light": Tone.LIGHT,
    "bright": Tone.BRIGHT,
    "soft": Tone.MUTE,
    "deep": Tone.DEEP,
    "warm": None,
    "cool": None,
}


@dataclass(frozen=True)
class SubtypeFigures:
    photos: int  # armocromia photos whose sub-type has a tone of ours
    type_all: float  # season and tone both right, refusals wrong
    tone_given_season: float  # tone right among those whose season is right


def subtype_figures(data: LabelledData, outcome: Outcome) -> SubtypeFigures:
    """How often a method's 16-type answer matches the armocromia class, where it can."""
    mappable = [
        i for i, photo in enumerate(data.photos) if photo.subtype is not None and SUBTYPE_TONE[photo.subtype]
    ]
    answers = outcome.answers[NEUTRAL.name]
    season_right = [i for i in mappable if answers[i] == data.photos[i].season]
    both = [
        i
        for i in season_right
        if outcome.tones[i] >= 0
        and TONE_ORDER[outcome.tones[i]] == SUBTYPE_TONE[data.photos[i].subtype or ""]
    ]
    return SubtypeFigures(
        photos=len(mappable),
        type_all=len(both) / len(mappable) if mappable else float("nan"),
        tone_given_season=len(both) / len(season_right) if season_right else float("nan"),
    )
