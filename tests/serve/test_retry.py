"""Result writes survive a real PostgreSQL outage: the database refuses connections, then comes back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import IntegrityError, OperationalError

from serve_app.deployments.retry import with_retry
from serve_app.settings import DatabaseSettings
from tests.support.postgres import admin_url, postgres_unavailable, temporary_database

pytestmark = pytest.mark.postgres

FAST_RETRIES = DatabaseSettings(write_retry_s=30, retry_initial_s=0.05, retry_max_s=0.3)


@pytest.fixture
def admin() -> Iterator[Engine]:
    engine = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        engine.dispose()
        postgres_unavailable(str(error))
    yield engine
    engine.dispose()


@pytest.fixture
def scratch_database(admin) -> Iterator[tuple[str, str]]:
    """A throwaway database (name, url) with one table, dropped afterwards."""
    with temporary_database("retry") as url:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE results (id text PRIMARY KEY)"))
        engine.dispose()
        name = make_url(url).database
        assert name is not None
        yield name, url
        set_connections(admin, name, allowed=True)  # so the drop can terminate what is left


def set_connections(admin: Engine, name: str, allowed: bool) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}'))
        if not allowed:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                {"name": name},
            )


def test_a_write_during_an_outage_lands_when_the_database_returns(admin, scratch_database):
    name, url = scratch_database
    engine = create_engine(url, pool_pre_ping=True)
    with engine.connect() as connection:  # a pooled connection that the outage will kill
        connection.execute(text("SELECT 1"))
    failures: list[str] = []
    first_failure = threading.Event()

    def write() -> None:
        try:
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO results VALUES ('finished-analysis')"))
        except Exception as error:
            failures.append(type(error).__name__)
            first_failure.set()
            raise

    def database_comes_back() -> None:
        first_failure.wait(timeout=60)
        set_connections(admin, name, allowed=True)

    set_connections(admin, name, allowed=False)
    restorer = threading.Thread(target=database_comes_back)
    restorer.start()
    asyncio.run(with_retry(write, FAST_RETRIES, "saving a result"))
    restorer.join()

    assert failures and set(failures) == {"OperationalError"}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id FROM results")).scalars().all() == ["finished-analysis"]
    engine.dispose()


def test_a_permanent_error_is_not_retried(scratch_database):
    _, url = scratch_database
    engine = create_engine(url)
    calls = 0

    def duplicate() -> None:
        nonlocal calls
        calls += 1
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO results VALUES ('same'), ('same')"))

    with pytest.raises(IntegrityError):
        asyncio.run(with_retry(duplicate, FAST_RETRIES, "saving a result"))
    assert calls == 1
    engine.dispose()


def test_retries_give_up_after_the_configured_time(admin, scratch_database):
    name, url = scratch_database
    engine = create_engine(url)
    calls = 0

    def write() -> None:
        nonlocal calls
        calls += 1
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO results VALUES ('x')"))

    set_connections(admin, name, allowed=False)
    policy = DatabaseSettings(write_retry_s=0.1, retry_initial_s=0.01, retry_max_s=0.02)
    with pytest.raises(OperationalError):
        asyncio.run(with_retry(write, policy, "saving a result"))
    assert calls >= 3
    engine.dispose()
