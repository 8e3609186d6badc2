"""Fixtures of the database tests: a migrated database on PostgreSQL and on SQLite, and row factories.

The data-access tests run once per backend through the parametrized `database_url`. Each test makes
its own users, so tests stay independent without sharing or resetting tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_session_factory
from db.history import HistoryRecord
from db.migrate import upgrade_to_head
from db.models import User
from db.tasks import create_task, get_or_create_user
from tests.support.postgres import postgres_url  # noqa: F401 (fixture)


@pytest.fixture(
    scope="session",
    params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"],
)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head, on each backend in turn."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


def a_record(season: str = "spring", season_type: str = "spring_warm_light") -> HistoryRecord:
    return HistoryRecord(
        season=season,
        season_type=season_type,
        confidence=0.81,
        thumbnail_color="#E8B89A",
        main_colors=["#FFB07C", "#F4D03F", "#98D8C8"],
        worst_colors=["#2C3E50", "#000000"],
        makeup={"lip": {"colors": ["#E9967A"], "text": "코랄 립"}},
        hair={"colors": ["#8B5A2B"], "text": "warm brown"},
        measured={"skin": {"hex": "#E0B090", "lab": [72.0, 12.0, 20.0]}, "ita": 41.5},
        explanation={"undertone": {"verdict": "warm", "numbers": {"skin_b": 20.0}}},
        lighting_score=88.5,
        model_version="test-1",
    )


@pytest.fixture
def make_user(session: Session) -> Callable[[], User]:
    def make() -> User:
        user = get_or_create_user(session, "https://issuer.test", uuid.uuid4().hex, "Test person")
        session.commit()
        return user

    return make


@pytest.fixture
def user(make_user: Callable[[], User]) -> User:
    return make_user()


@pytest.fixture
def make_task(session: Session) -> Callable[[User | None], uuid.UUID]:
    def make(owner: User | None) -> uuid.UUID:
        return create_task(session, owner.id if owner else None).id

    return make
