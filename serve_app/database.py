"""The ingress's view of the database: one engine per replica, one session per request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_session_factory


def ensure_sqlite_directory(url: str) -> None:
    """SQLite creates its file but not the folder; PostgreSQL URLs pass through untouched."""
    database = make_url(url).database
    if make_url(url).get_backend_name() == "sqlite" and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def attach_database(app: FastAPI, url: str) -> sessionmaker[Session]:
    """Create the engine and session factory once and keep them on the app for `SessionDep`."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    app.state.engine = engine
    app.state.sessions = sessions
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
