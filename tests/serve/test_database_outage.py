"""A finished analysis survives a database outage: the result writer retries until PostgreSQL is back."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.serve.conftest import submit, wait_until_final
from tests.support import faces
from tests.support.postgres import admin_url

pytestmark = [pytest.mark.ray, pytest.mark.postgres, pytest.mark.slow]

OUTAGE_S = 45.0  # inside the range that lost finished diagnoses (issue 19: 20 s-2 min)


def set_connections(database: str, allowed: bool) -> None:
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(
                text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}')
            )
            if not allowed:
                connection.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                    {"name": database},
                )
    finally:
        admin.dispose()


def writer_retries_logged(session_dir) -> int:
    logs = (session_dir / "logs" / "serve").glob("replica_*ResultWriter*.log")
    return sum(path.read_text(errors="replace").count("Database unavailable while") for path in logs)


def test_analysis_finished_during_an_outage_is_stored_when_the_database_returns(
    service, ray_cluster, http, auth
):
    database = make_url(service.database_url).database
    assert database
    retries_before = writer_retries_logged(ray_cluster.session_dir)

    accepted = submit(http, auth, faces.encode_jpeg(faces.astronaut()))
    assert accepted.status_code == 202, accepted.text
    set_connections(database, allowed=False)  # the analysis is now running with no database
    try:
        time.sleep(OUTAGE_S)
    finally:
        set_connections(database, allowed=True)

    status = wait_until_final(http, auth, accepted.json()["status_url"])
    assert status["status"] == "completed", status
    assert http.get(f"/analysis/result/{status['result_id']}", headers=auth).status_code == 200
    assert writer_retries_logged(ray_cluster.session_dir) > retries_before, "the outage was not noticed"


def test_while_the_database_is_down_uploads_get_503_and_readiness_fails(service, http, auth):
    database = make_url(service.database_url).database
    assert database
    set_connections(database, allowed=False)
    try:
        refused = submit(http, auth, faces.encode_jpeg(faces.astronaut()))
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "unreachable"
    finally:
        set_connections(database, allowed=True)
    assert http.get("/readyz").status_code == 200
