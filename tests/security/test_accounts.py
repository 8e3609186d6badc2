"""Local accounts over HTTP, on real PostgreSQL: register, login limits, refresh rotation, tokens."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient

from serve_app.security.auth import AnalysisUser
from tests.security import keys
from tests.security.app_support import PASSWORD, bearer, build_app, register, unique_name
from tests.security.redis_support import REDIS_URL, redis_prefix

__all__ = ["redis_prefix"]

pytestmark = pytest.mark.postgres

PROVIDER = {
    "provider_issuer": keys.PROVIDER_ISSUER,
    "provider_audience": keys.PROVIDER_AUDIENCE,
    "provider_secret": keys.PROVIDER_SECRET,
    "login_failures_per_name": "3/minute",
}


@pytest.fixture(scope="module")
def client(database_url: str) -> TestClient:
    return TestClient(build_app(database_url, **PROVIDER))


def provider_token(subject: str, **overrides: object) -> str:
    return jwt.encode(keys.claims(subject, **overrides), keys.PROVIDER_SECRET, algorithm="HS256")  # type: ignore[arg-type]


def test_register_returns_tokens_that_sign_in(client: TestClient) -> None:
    tokens = register(client)
    assert tokens["token_type"] == "bearer"
    assert 0 < tokens["expires_in"] <= 15 * 60
    assert tokens["refresh_token"].startswith("rt_")
    me = client.get("/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json()["local_account"] is True


def test_taken_user_name_is_a_conflict_whatever_its_case(client: TestClient) -> None:
    name = unique_name()
    register(client, name)
    again = client.post("/auth/register", json={"username": name.upper(), "password": PASSWORD})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "CONFLICT"


def test_short_password_is_refused_without_echoing_it(client: TestClient) -> None:
    response = client.post("/auth/register", json={"username": unique_name(), "password": "tiny-pw9"})
    assert response.status_code == 422
    assert "tiny-pw9" not in response.text


def test_login_with_the_right_password_works(client: TestClient) -> None:
    name = unique_name()
    register(client, name)
    response = client.post("/auth/login", json={"username": name, "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/me", headers=bearer(response.json()["access_token"])).status_code == 200


def test_wrong_password_is_401_and_repeated_failures_are_limited(client: TestClient) -> None:
    name = unique_name()
    register(client, name)
    for _ in range(3):
        wrong = client.post("/auth/login", json={"username": name, "password": "not the password at all"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "UNAUTHORIZED"
    limited = client.post("/auth/login", json={"username": name, "password": PASSWORD})
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert int(limited.headers["retry-after"]) >= 1


def test_unknown_user_and_wrong_password_look_the_same(client: TestClient) -> None:
    name = unique_name()
    register(client, name)
    unknown = client.post("/auth/login", json={"username": unique_name(), "password": PASSWORD})
    wrong = client.post("/auth/login", json={"username": name, "password": "wrong password here"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_refresh_rotates_and_reuse_revokes_the_family(client: TestClient) -> None:
    first = register(client)
    second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second_tokens = second.json()
    assert second_tokens["refresh_token"] != first["refresh_token"]
    assert client.get("/me", headers=bearer(second_tokens["access_token"])).status_code == 200

    # The first token was stolen and replayed: refused, and the legitimate newer token dies with it.
    replay = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert replay.json()["error"]["details"]["reason"] == "refresh_token_reused"
    after = client.post("/auth/refresh", json={"refresh_token": second_tokens["refresh_token"]})
    assert after.status_code == 401
    # What docs/security.md promises, no more: access tokens already issued live until they expire.
    assert client.get("/me", headers=bearer(second_tokens["access_token"])).status_code == 200


def test_reuse_does_not_touch_other_sign_ins_of_the_same_account(client: TestClient) -> None:
    name = unique_name()
    phone = register(client, name)
    laptop = client.post("/auth/login", json={"username": name, "password": PASSWORD}).json()
    client.post("/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    client.post("/auth/refresh", json={"refresh_token": phone["refresh_token"]})  # reuse on the phone
    assert client.post("/auth/refresh", json={"refresh_token": laptop["refresh_token"]}).status_code == 200


def test_unknown_refresh_token_is_refused(client: TestClient) -> None:
    response = client.post("/auth/refresh", json={"refresh_token": "rt_" + "x" * 43})
    assert response.status_code == 401


def test_logout_ends_the_refresh_token_family(client: TestClient) -> None:
    tokens = register(client)
    assert client.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_missing_token_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    for path in ("/me", "/history", "/stats"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["details"]["reason"] == "missing_token"


@pytest.mark.parametrize(
    ("token_factory", "reason"),
    [
        (lambda: keys.tamper(provider_token("s")), "bad_signature"),
        (lambda: provider_token("s", issued=datetime.now(UTC) - timedelta(hours=2)), "expired"),
        (lambda: provider_token("s", audience="someone-else"), "wrong_audience"),
        (lambda: keys.unsigned_token(keys.claims("s")), "algorithm_not_allowed"),
    ],
)
def test_bad_tokens_are_401_on_the_api(client: TestClient, token_factory, reason: str) -> None:
    response = client.get("/history", headers=bearer(token_factory()))
    assert response.status_code == 401
    assert response.json()["error"]["details"]["reason"] == reason


def test_wrong_issuer_is_401_on_the_api(client: TestClient) -> None:
    token = jwt.encode(
        keys.claims("s", issuer="https://evil.example"), keys.PROVIDER_SECRET, algorithm="HS256"
    )
    assert client.get("/history", headers=bearer(token)).status_code == 401


def test_first_provider_token_creates_the_user_once(client: TestClient) -> None:
    subject = unique_name("oauth")
    first = client.get("/me", headers=bearer(provider_token(subject, name="Kim")))
    assert first.status_code == 200
    assert first.json()["display_name"] == "Kim"
    second = client.get("/me", headers=bearer(provider_token(subject)))
    assert second.json()["id"] == first.json()["id"]
    other = client.get("/me", headers=bearer(provider_token(unique_name("oauth"))))
    assert other.json()["id"] != first.json()["id"]


def test_local_accounts_can_be_switched_off(database_url: str) -> None:
    client = TestClient(build_app(database_url, local_accounts=False, **PROVIDER))
    response = client.post("/auth/register", json={"username": unique_name(), "password": PASSWORD})
    assert response.status_code == 404


def test_no_password_or_token_reaches_any_log_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    name = unique_name()
    secret_password = "a-password-that-must-never-be-logged"
    with caplog.at_level(logging.DEBUG):
        tokens = register(client, name, password=secret_password)
        client.post("/auth/login", json={"username": name, "password": "wrong-password-also-secret"})
        rotated = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).json()
        client.get("/history", headers=bearer(rotated["access_token"]))
        client.get("/history", headers=bearer(keys.tamper(rotated["access_token"])))
        client.post("/auth/logout", json={"refresh_token": rotated["refresh_token"]})
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    for secret in (
        secret_password,
        "wrong-password-also-secret",
        tokens["access_token"],
        tokens["refresh_token"],
        rotated["access_token"],
        rotated["refresh_token"],
        rotated["access_token"].split(".")[2],
    ):
        assert secret not in logged


def test_failed_logins_count_across_two_app_instances_sharing_redis(
    database_url: str, redis_prefix: str
) -> None:
    shared = {"rate_limit_storage": REDIS_URL, "rate_limit_key_prefix": redis_prefix}
    replica_a = TestClient(build_app(database_url, **PROVIDER, **shared))
    replica_b = TestClient(build_app(database_url, **PROVIDER, **shared))
    name = unique_name()
    register(replica_a, name)
    for replica in (replica_a, replica_b, replica_a):
        wrong = replica.post("/auth/login", json={"username": name, "password": "wrong password, again"})
        assert wrong.status_code == 401
    assert replica_b.post("/auth/login", json={"username": name, "password": PASSWORD}).status_code == 429


def probe_app(database_url: str, **security: object) -> TestClient:
    """The service's app plus one route that reports who `AnalysisUser` says is calling."""
    app = build_app(database_url, analyses_per_user="2/minute", **security)

    @app.post("/probe")
    def probe(user: AnalysisUser) -> dict[str, str | None]:
        return {"user": None if user is None else str(user.id)}

    return TestClient(app)


def test_anonymous_analysis_is_off_by_default(database_url: str) -> None:
    assert probe_app(database_url).post("/probe").status_code == 401


def test_anonymous_analysis_when_enabled_has_no_user_and_is_limited_per_address(database_url: str) -> None:
    client = probe_app(database_url, allow_anonymous=True)
    assert [client.post("/probe").json() for _ in range(2)] == [{"user": None}] * 2
    assert client.post("/probe").status_code == 429
    # A signed-in caller is still themselves, with their own allowance.
    tokens = register(client)
    assert client.post("/probe", headers=bearer(tokens["access_token"])).json()["user"] is not None
