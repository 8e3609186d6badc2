"""Writers racing on the embedded SQLite default as on PostgreSQL: nobody gets "database is locked".

In WAL mode a SQLite transaction that has read and then writes fails at once when another
connection committed in between; the busy timeout does not help it. These are real read-then-write
units of the service (deleting a history entry, migrating at start-up) racing other writers; the
first-sign-in race is in test_tasks.py. The same tests run on PostgreSQL, where they must hold too.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from db.engine import make_engine, make_session_factory
from db.history import delete_history_entry
from db.models import AnalysisHistory, User
from db.tasks import complete_task, create_task
from tests.db.conftest import a_record
from tests.support.postgres import postgres_url, temporary_database  # noqa: F401 (fixture)

THREADS = 20
REPO = Path(__file__).resolve().parents[2]


def run_at_once(database_url: str, work: list[Callable[[Session], object]]) -> list[object]:
    """Run every unit of work on its own connection, all released at the same moment."""
    engine = make_engine(database_url, pool_size=len(work), max_overflow=0)
    sessions = make_session_factory(engine)
    start = threading.Barrier(len(work))

    def run(unit: Callable[[Session], object]) -> object:
        start.wait()
        with sessions() as session:
            return unit(session)

    try:
        with ThreadPoolExecutor(max_workers=len(work)) as pool:
            return [future.result() for future in [pool.submit(run, unit) for unit in work]]
    finally:
        engine.dispose()


def test_deleting_history_while_other_analyses_finish_succeeds(
    database_url: str, session: Session, user: User
) -> None:
    stored = [complete_task(session, create_task(session, user.id).id, a_record()) for _ in range(THREADS)]
    running = [create_task(session, user.id).id for _ in range(THREADS)]
    work: list[Callable[[Session], object]] = []
    for entry, task in zip(stored, running, strict=True):
        work += [partial(delete_history_entry, history_id=entry, user_id=user.id)]
        work += [partial(complete_task, task_id=task, record=a_record())]

    outcomes = run_at_once(database_url, work)

    assert outcomes[0::2] == [True] * THREADS
    session.expire_all()
    remaining = session.scalars(select(AnalysisHistory.task_id).where(AnalysisHistory.user_id == user.id))
    assert sorted(remaining) == sorted(running)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips, or fails under CI=true, without a server
    with temporary_database("migrate_race") as url:
        yield url


def test_replicas_migrating_one_fresh_database_at_once_all_succeed(empty_database: str) -> None:
    """Several ingress replicas start together, each running `upgrade_to_head` (auto_migrate)."""
    code = f"from db.migrate import upgrade_to_head; upgrade_to_head({empty_database!r})"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    errors = [process.communicate(timeout=120)[1] for process in processes]
    failures = [error for process, error in zip(processes, errors, strict=True) if process.returncode]

    assert failures == []
    engine = make_engine(empty_database)
    try:
        with engine.connect() as connection:
            assert {"users", "analysis_tasks", "analysis_history"} <= set(
                inspect(connection).get_table_names()
            )
    finally:
        engine.dispose()
