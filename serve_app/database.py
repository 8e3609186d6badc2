"""The ingress's view of the database: one engine per replica, one session per request."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from db.engine import Timeouts, make_engine, make_session_factory

# A readiness probe must answer within a second (Kubernetes' default probe timeout) even while
# the database is black-holed, so the check waits this long and no longer.
READINESS_TIMEOUT_S = 0.8


def ensure_sqlite_directory(url: str) -> None:
    """SQLite creates its file but not the folder; PostgreSQL URLs pass through untouched."""
    database = make_url(url).database
    if make_url(url).get_backend_name() == "sqlite" and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def attach_database(app: FastAPI, url: str, timeouts: Timeouts | None = None) -> sessionmaker[Session]:
    """Create the engine and session factory once and keep them on the app for `SessionDep`."""
    engine = make_engine(url, timeouts=timeouts or Timeouts())
    sessions = make_session_factory(engine)
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.database_probe = DatabaseProbe(engine)
    return sessions


def get_session(request: Request) -> Iterator[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def database_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


class DatabaseProbe:
    """`SELECT 1` with an answer within `timeout_s`, whatever the database does.

    The check runs on one thread of its own; a check still stuck in a dead connection is waited on
    again rather than joined by another, so probes every few seconds never pile up threads or take
    the request pool's connections (the engine's own timeouts end the stuck one).
    """

    def __init__(self, engine: Engine, timeout_s: float = READINESS_TIMEOUT_S) -> None:
        self._engine = engine
        self._timeout_s = timeout_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database-probe")
        self._lock = threading.Lock()
        self._pending: Future[bool] | None = None

    def reachable(self) -> bool:
        with self._lock:
            if self._pending is None or self._pending.done():
                self._pending = self._executor.submit(database_reachable, self._engine)
            pending = self._pending
        try:
            return pending.result(timeout=self._timeout_s)
        except FutureTimeout:
            return False
