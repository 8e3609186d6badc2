"""The schema: text only, created by the migrations, and the migrations agree with the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, LargeBinary, PickleType, inspect, make_url, text

import db.auth_models  # noqa: F401  (its tables are part of the metadata)
from db.engine import make_engine
from db.migrate import downgrade_to, upgrade_to_head
from db.models import Base
from tests.support.postgres import temporary_database

# Column names that would suggest image data, whatever their type.
IMAGE_WORDS = ("image", "photo", "picture", "pixel", "blob", "selfie", "png", "jpeg", "bytes")
TABLES = {"users", "analysis_tasks", "analysis_history", "local_credentials", "refresh_tokens"}


def differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_no_column_can_hold_binary_or_image_data() -> None:
    offenders = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            binary = isinstance(column.type, LargeBinary | PickleType)
            for dialect in (make_url(f"{name}://").get_dialect()() for name in ("postgresql", "sqlite")):
                compiled = column.type.compile(dialect=dialect).upper()
                binary = binary or any(word in compiled for word in ("BYTEA", "BLOB", "BINARY"))
            named_like_image = any(word in column.name.lower() for word in IMAGE_WORDS)
            if binary or named_like_image:
                offenders.append(f"{table.name}.{column.name} ({column.type})")
    assert offenders == []
    assert set(Base.metadata.tables) == TABLES  # a new table must be looked at here too


def test_the_migrations_build_exactly_the_mapped_schema(engine: Engine) -> None:
    assert differences(engine) == []
    assert set(inspect(engine).get_table_names()) >= TABLES


@pytest.mark.postgres
def test_the_migrated_postgres_database_has_no_bytea_column(database_url: str, engine: Engine) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's catalogue")
    with engine.connect() as connection:
        binary = connection.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND data_type = 'bytea'"
            )
        ).all()
    assert binary == []


@pytest.fixture
def scratch_postgres(postgres_url: str) -> Iterator[str]:
    """An empty database of its own: the round trip must start from nothing and end with nothing."""
    del postgres_url  # only to skip, or fail under CI, when PostgreSQL is missing
    with temporary_database("migrations") as url:
        yield url


@pytest.mark.postgres
def test_upgrade_downgrade_round_trip_on_postgres(scratch_postgres: str) -> None:
    engine = make_engine(scratch_postgres)
    try:
        upgrade_to_head(scratch_postgres)
        assert set(inspect(engine).get_table_names()) >= TABLES

        downgrade_to(scratch_postgres, "0001")
        assert not {"local_credentials", "refresh_tokens"} & set(inspect(engine).get_table_names())

        downgrade_to(scratch_postgres, "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}

        upgrade_to_head(scratch_postgres)
        upgrade_to_head(scratch_postgres)  # a second upgrade finds nothing to do
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_migrating_works_from_any_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        assert differences(engine) == []
    finally:
        engine.dispose()
