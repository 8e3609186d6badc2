"""The same face under another lamp must get the same diagnosis: the astronaut photo through the
whole pipeline (lighting correction, Face Mesh, regions, colours, classifier) under every cast and
exposure of the shared test variants that passes the lighting check."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from pipeline.analysis import Analyzer
from pipeline.arrays import Uint8Image
from pipeline.diagnosis import Diagnoser, Diagnosis
from pipeline.errors import ErrorCode, PipelineError
from tests.support import faces

VARIANTS: dict[str, Callable[[], Uint8Image]] = {
    "warm 4000 K": lambda: faces.warm_cast(4000.0),
    "cool 8000 K": lambda: faces.cool_cast(8000.0),
    "warm 3000 K": lambda: faces.warm_cast(3000.0),
    "cool 10000 K": lambda: faces.cool_cast(10000.0),
    "green tint": faces.green_cast,
    "+1 EV": lambda: faces.exposed(1.0),
    "-1 EV": lambda: faces.exposed(-1.0),
    "4000 K, -1 EV": lambda: faces.exposed(-1.0, faces.warm_cast(4000.0)),
    "8000 K, +1 EV": lambda: faces.exposed(1.0, faces.cool_cast(8000.0)),
    "-2 EV": faces.underexposed,
    "+1.5 EV": faces.overexposed,
}


@pytest.fixture(scope="module")
def analyzer() -> Iterator[Analyzer]:
    analyzer = Analyzer(diagnoser=Diagnoser.load())
    yield analyzer
    analyzer.close()


def diagnose(analyzer: Analyzer, image: Uint8Image) -> Diagnosis | None:
    """The diagnosis, or None when the lighting check rejects the photo (an allowed outcome)."""
    try:
        diagnosis = analyzer.analyze_rgb(image, lang="en").diagnosis
    except PipelineError as error:
        assert error.code is ErrorCode.POOR_LIGHTING_CONDITION, error.to_dict()
        return None
    assert isinstance(diagnosis, Diagnosis)
    return diagnosis


@pytest.fixture(scope="module")
def diagnoses(analyzer: Analyzer) -> tuple[Diagnosis, dict[str, Diagnosis]]:
    """The neutral diagnosis and those of every variant the lighting check accepts."""
    neutral = diagnose(analyzer, faces.astronaut())
    assert neutral is not None
    accepted = {name: d for name, make in VARIANTS.items() if (d := diagnose(analyzer, make())) is not None}
    assert len(accepted) >= 6, f"too few variants passed the lighting check: {sorted(accepted)}"
    return neutral, accepted


CASTS = ("warm 4000 K", "cool 8000 K", "warm 3000 K", "cool 10000 K", "green tint")


def test_season_and_sub_type_are_the_same_under_every_accepted_cast(diagnoses):
    neutral, accepted = diagnoses
    seasons = {name: d.season for name, d in accepted.items() if name in CASTS}
    assert len(seasons) >= 3, f"too few casts passed the lighting check: {sorted(seasons)}"
    assert set(seasons.values()) == {neutral.season}, seasons
    types = {name: d.season_type for name, d in accepted.items() if name in CASTS}
    same_type = [name for name, type_id in types.items() if type_id == neutral.season_type]
    assert len(same_type) >= 0.9 * len(types), types


def test_season_is_the_same_under_every_accepted_exposure(diagnoses):
    neutral, accepted = diagnoses
    seasons = {name: d.season for name, d in accepted.items()}
    assert set(seasons.values()) == {neutral.season}, seasons


def test_sub_type_is_the_same_under_at_least_90_percent_of_them(diagnoses):
    neutral, accepted = diagnoses
    same_type = [name for name, d in accepted.items() if d.season_type == neutral.season_type]
    assert len(same_type) >= 0.9 * len(accepted), {name: d.season_type for name, d in accepted.items()}
