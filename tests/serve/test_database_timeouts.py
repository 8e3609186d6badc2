"""A database that stops answering fails requests fast with 503 instead of hanging them.

PostgreSQL is reached through a loopback TCP proxy (bench.tcp_proxy) that can refuse connections
or black-hole them (accept, never relay), the outage a silent network path causes. Every call
under test runs on a thread that is given a fixed time to finish: a call still waiting then is a
hang, which is the defect.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text
from sqlalchemy.exc import OperationalError

from bench.tcp_proxy import Mode, TcpProxy
from db.engine import Timeouts, make_engine
from serve_app.database import DatabaseProbe, SessionDep, attach_database
from serve_app.errors import install_error_handlers
from tests.support.postgres import postgres_url  # noqa: F401 (fixture)

SHORT = Timeouts(connect_s=1.0, statement_s=1.0, socket_s=1.5, pool_s=1.0, sqlite_busy_s=0.5)
# Far beyond every bound above, far short of the 20 s outage that used to hang requests.
HANG_S = 12.0


def finishes_within(seconds: float, call: Callable[[], Any]) -> Any:
    """`call()`'s result or exception, or a test failure if it is still running after `seconds`."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except Exception as error:
            outcome["error"] = error

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still waiting after {seconds} s"
    return outcome.get("value", outcome.get("error"))


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with TcpProxy(("127.0.0.1", 5432)) as running:
        yield running


@pytest.fixture
def proxied_url(postgres_url: str, proxy: TcpProxy) -> str:  # noqa: F811
    url = make_url(postgres_url).set(host=proxy.host, port=proxy.port)
    return url.render_as_string(hide_password=False)


def api(url: str) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    attach_database(app, url, SHORT)

    @app.get("/probe")
    def probe(session: SessionDep) -> dict[str, int]:
        return {"one": int(session.execute(text("SELECT 1")).scalar_one())}

    return app


@pytest.mark.postgres
@pytest.mark.parametrize("mode", [Mode.BLACK_HOLE, Mode.REFUSE])
def test_requests_get_503_fast_while_postgres_is_cut(proxied_url: str, proxy: TcpProxy, mode: Mode) -> None:
    client = TestClient(api(proxied_url))
    assert client.get("/probe").json() == {"one": 1}  # a pooled connection now exists
    with proxy.cut(mode):
        for _ in range(3):  # the pooled connection, then new ones
            response = finishes_within(HANG_S, lambda: client.get("/probe"))
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert finishes_within(HANG_S, lambda: client.get("/probe")).json() == {"one": 1}


@pytest.mark.postgres
def test_a_black_holed_pooled_connection_is_given_up_after_the_socket_timeout(
    proxied_url: str, proxy: TcpProxy
) -> None:
    engine = make_engine(proxied_url, timeouts=SHORT)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        proxy.black_hole()
        raised = finishes_within(HANG_S, lambda: connection.execute(text("SELECT 1")))
    assert isinstance(raised, OperationalError)
    assert "no answer within 1.5 s" in str(raised)  # tcp_user_timeout, read back by the wait callback
    engine.dispose()


@pytest.mark.postgres
def test_a_slow_statement_is_ended_by_the_server(postgres_url: str) -> None:  # noqa: F811
    engine = make_engine(postgres_url, timeouts=SHORT)
    with engine.connect() as connection:
        raised = finishes_within(HANG_S, lambda: connection.execute(text("SELECT pg_sleep(30)")))
    assert isinstance(raised, OperationalError)
    assert "statement timeout" in str(raised)
    engine.dispose()


@pytest.mark.postgres
def test_readiness_answers_within_a_second_while_postgres_is_black_holed(
    proxied_url: str, proxy: TcpProxy
) -> None:
    probe = DatabaseProbe(make_engine(proxied_url, timeouts=SHORT))
    assert probe.reachable()
    with proxy.cut(Mode.BLACK_HOLE):
        for _ in range(3):  # the stuck check is waited on again, never piled up
            started = time.monotonic()
            assert finishes_within(HANG_S, probe.reachable) is False
            assert time.monotonic() - started < 1.0
    deadline = time.monotonic() + HANG_S
    while not probe.reachable():  # the stuck check ends by the socket timeout, then succeeds
        assert time.monotonic() < deadline, "still unreachable after the outage"


def test_sqlite_waits_for_a_locked_database_as_long_as_the_busy_timeout_says(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock and does not let go
    engine = make_engine(f"sqlite:///{path}", timeouts=SHORT)
    try:
        with engine.connect() as connection:
            started = time.monotonic()
            raised = finishes_within(HANG_S, lambda: connection.execute(text("INSERT INTO t VALUES (1)")))
            waited = time.monotonic() - started
        assert isinstance(raised, OperationalError)
        assert "locked" in str(raised)
        assert 0.4 <= waited < 3.0  # the configured 0.5 s, not the 5 s default
    finally:
        holder.close()
        engine.dispose()
