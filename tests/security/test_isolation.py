"""Per-user isolation and account deletion on real PostgreSQL.

Every endpoint that takes an id answers only its owner; anyone else gets the same 404 as for an id
that never existed. `DELETE /me` removes every row of that user and nothing of anyone else's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_session_factory
from db.history import HistoryRecord
from db.models import Base, User
from db.tasks import complete_task, create_task, get_task_for_identity
from tests.security.app_support import PASSWORD, bearer, build_app, register

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def client(database_url: str) -> TestClient:
    return TestClient(build_app(database_url))


def a_record(season_type: str = "spring_warm_light") -> HistoryRecord:
    return HistoryRecord(
        season="spring",
        season_type=season_type,
        confidence=0.81,
        thumbnail_color="#E8B89A",
        main_colors=["#FFB07C", "#F4D03F"],
        worst_colors=["#2C3E50"],
        makeup={"lip": ["#E9967A"]},
        hair={"colors": ["#8B5A2B"]},
        measured={"skin": {"hex": "#E0B090", "lab": [72.0, 12.0, 20.0]}},
        explanation={"summary": "warm, light"},
        lighting_score=88.0,
        model_version="test",
    )


def user_id_of(client: TestClient, token: str) -> uuid.UUID:
    return uuid.UUID(client.get("/me", headers=bearer(token)).json()["id"])


def seed_result(sessions: sessionmaker[Session], user_id: Any) -> tuple[Any, Any]:
    with sessions() as session:
        task = create_task(session, user_id)
        session.commit()
        task_id = task.id
        history_id = complete_task(session, task_id, a_record())
        session.commit()
    return task_id, history_id


@pytest.fixture()
def two_users(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, Any]:
    owner, stranger = register(client), register(client)
    owner_id = user_id_of(client, owner["access_token"])
    task_id, history_id = seed_result(sessions, owner_id)
    return {
        "owner": bearer(owner["access_token"]),
        "stranger": bearer(stranger["access_token"]),
        "owner_id": owner_id,
        "stranger_id": user_id_of(client, stranger["access_token"]),
        "task_id": task_id,
        "history_id": history_id,
    }


def test_result_of_another_user_is_404_like_a_missing_one(
    client: TestClient, two_users: dict[str, Any]
) -> None:
    path = f"/analysis/result/{two_users['history_id']}"
    assert client.get(path, headers=two_users["owner"]).status_code == 200
    theirs = client.get(path, headers=two_users["stranger"])
    missing = client.get(f"/analysis/result/{uuid.uuid4()}", headers=two_users["stranger"])
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_deleting_another_users_history_entry_is_404_and_keeps_it(
    client: TestClient, two_users: dict[str, Any]
) -> None:
    path = f"/history/{two_users['history_id']}"
    assert client.delete(path, headers=two_users["stranger"]).status_code == 404
    assert (
        client.get(f"/analysis/result/{two_users['history_id']}", headers=two_users["owner"]).status_code
        == 200
    )
    assert client.delete(path, headers=two_users["owner"]).status_code in (200, 204)


def test_history_and_stats_show_only_the_callers_own_entries(
    client: TestClient, two_users: dict[str, Any]
) -> None:
    mine = client.get("/history", headers=two_users["owner"]).json()["items"]
    theirs = client.get("/history", headers=two_users["stranger"]).json()["items"]
    assert [item["id"] for item in mine] == [str(two_users["history_id"])]
    assert theirs == []
    stranger_stats = client.get("/stats", headers=two_users["stranger"])
    assert stranger_stats.status_code == 200
    assert str(two_users["history_id"]) not in stranger_stats.text


def test_task_of_another_user_is_not_found(
    sessions: sessionmaker[Session], two_users: dict[str, Any]
) -> None:
    # The status route lives on the Ray ingress (checked end to end); this is the query it runs.
    with sessions() as session:
        owner, stranger = (session.get(User, two_users[key]) for key in ("owner_id", "stranger_id"))
        assert owner is not None and stranger is not None
        task_id = two_users["task_id"]
        assert get_task_for_identity(session, task_id, (owner.issuer, owner.subject)) is not None
        assert get_task_for_identity(session, task_id, (stranger.issuer, stranger.subject)) is None


def rows_of(session: Session, user_id: Any) -> dict[str, int]:
    """How many rows of every table belong to this user (every table with a user_id, and users)."""
    counts = {"users": session.scalar(select(func.count()).select_from(User).where(User.id == user_id)) or 0}
    for table in Base.metadata.sorted_tables:
        if "user_id" in table.c:
            counts[table.name] = (
                session.scalar(select(func.count()).select_from(table).where(table.c.user_id == user_id)) or 0
            )
    return counts


def test_deleting_the_account_removes_every_row_of_that_user(
    client: TestClient, sessions: sessionmaker[Session], two_users: dict[str, Any]
) -> None:
    owner_id = two_users["owner_id"]
    seed_result(sessions, owner_id)
    with sessions() as session:
        before = rows_of(session, owner_id)
    assert before["users"] == 1 and before["analysis_history"] >= 2 and before["refresh_tokens"] >= 1
    assert before["local_credentials"] == 1
    stranger_before = rows_of(sessions(), two_users["stranger_id"])

    assert client.delete("/me", headers=two_users["owner"]).status_code == 204

    with sessions() as session:
        assert set(rows_of(session, owner_id).values()) == {0}
        assert rows_of(session, two_users["stranger_id"]) == stranger_before
    # Its unexpired access token no longer works, and does not bring the account back.
    assert client.get("/me", headers=two_users["owner"]).status_code == 401
    with sessions() as session:
        assert rows_of(session, owner_id)["users"] == 0


def test_deleted_account_cannot_refresh_or_log_in(client: TestClient) -> None:
    name = "deleted-" + uuid.uuid4().hex[:8]
    tokens = register(client, name)
    assert client.delete("/me", headers=bearer(tokens["access_token"])).status_code == 204
    assert client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    login = client.post("/auth/login", json={"username": name, "password": PASSWORD})
    assert login.status_code == 401


def test_anonymous_results_are_readable_only_by_id_and_only_when_enabled(
    database_url: str, client: TestClient, sessions: sessionmaker[Session], two_users: dict[str, Any]
) -> None:
    anonymous_task, anonymous_result = seed_result(sessions, None)
    open_client = TestClient(build_app(database_url, allow_anonymous=True))
    assert open_client.get(f"/analysis/result/{anonymous_result}").status_code == 200
    # Without a token, an owned result stays hidden; a signed-in person does not see unowned ones.
    assert open_client.get(f"/analysis/result/{two_users['history_id']}").status_code == 404
    signed_in = open_client.get(f"/analysis/result/{anonymous_result}", headers=two_users["owner"])
    assert signed_in.status_code == 404
    # Anonymous results belong to nobody's history.
    assert str(anonymous_result) not in open_client.get("/history", headers=two_users["owner"]).text
    # With the setting off (the default), a token is required.
    assert client.get(f"/analysis/result/{anonymous_result}").status_code == 401
    with sessions() as session:
        assert get_task_for_identity(session, anonymous_task, None) is not None
        assert get_task_for_identity(session, two_users["task_id"], None) is None
