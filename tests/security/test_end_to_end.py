"""The deployed service on the session's Ray: isolation on the ingress routes, limits, headers.

These run through Ray Serve's HTTP proxy, so they also prove that the security middleware, the
per-user limit and the 404-for-strangers rule hold in the real deployment, not only in-process.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import faces
from tests.support.ray_cluster import RayCluster, ServedApp, deploy_service, ray_cluster

__all__ = ["ray_cluster"]

pytestmark = [pytest.mark.ray, pytest.mark.postgres, pytest.mark.slow]

PASSWORD = "end to end password 1"


@pytest.fixture(scope="module")
def service(ray_cluster: RayCluster, database_url: str) -> ServedApp:
    return deploy_service(database_url)


@pytest.fixture()
def http(service: ServedApp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.base_url, timeout=60) as client:
        yield client


def sign_up(client: httpx.Client) -> tuple[dict[str, str], dict[str, str]]:
    response = client.post(
        "/auth/register", json={"username": f"e2e-{uuid.uuid4().hex[:12]}", "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    tokens = response.json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}, tokens


def submit(client: httpx.Client, headers: dict[str, str], image: bytes) -> httpx.Response:
    return client.post("/analysis/start", headers=headers, files={"image": ("photo", image, "image/jpeg")})


def wait_until_final(client: httpx.Client, headers: dict[str, str], task_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 180
    while True:
        body: dict[str, object] = client.get(f"/analysis/status/{task_id}", headers=headers).json()
        if body.get("status") in ("completed", "failed"):
            return body
        assert time.monotonic() < deadline, f"task still {body}"
        time.sleep(0.5)


def test_every_id_endpoint_answers_only_its_owner(http: httpx.Client) -> None:
    owner, _ = sign_up(http)
    stranger, _ = sign_up(http)
    accepted = submit(http, owner, faces.encode_jpeg(faces.astronaut()))
    assert accepted.status_code == 202, accepted.text
    task_id = accepted.json()["task_id"]

    # While it runs and after it finished, the stranger sees nothing.
    assert http.get(f"/analysis/status/{task_id}", headers=stranger).status_code == 404
    status = wait_until_final(http, owner, task_id)
    assert status["status"] == "completed", status
    result_id = status["result_id"]

    missing = http.get(f"/analysis/status/{uuid.uuid4()}", headers=stranger)
    theirs = http.get(f"/analysis/status/{task_id}", headers=stranger)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert http.get(f"/analysis/result/{result_id}", headers=stranger).status_code == 404
    assert http.delete(f"/history/{result_id}", headers=stranger).status_code == 404
    assert http.get("/history", headers=stranger).json()["items"] == []
    assert http.get(f"/analysis/result/{result_id}", headers=owner).status_code == 200


def test_analysis_without_a_token_is_401(http: httpx.Client) -> None:
    response = submit(http, {}, faces.encode_jpeg(faces.astronaut()))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert http.get(f"/analysis/status/{uuid.uuid4()}").status_code == 401


def test_per_user_analysis_limit_is_429_with_retry_after(http: httpx.Client) -> None:
    # Bodies that are not images cost no pipeline work but still count as analysis requests.
    headers, _ = sign_up(http)
    codes = [submit(http, headers, b"not an image").status_code for _ in range(10)]
    assert 429 not in codes
    limited = submit(http, headers, b"not an image")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    other, _ = sign_up(http)
    assert submit(http, other, b"not an image").status_code != 429


def test_security_headers_and_cors_through_ray_serve(http: httpx.Client) -> None:
    response = http.get("/healthz", headers={"Origin": "https://evil.example"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "access-control-allow-origin" not in response.headers
    allowed = http.get("/healthz", headers={"Origin": "http://localhost:3000"})
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_a_spoofed_forwarded_for_does_not_escape_the_per_address_login_limit(http: httpx.Client) -> None:
    # The service trusts no proxy hop here (SECURITY__TRUSTED_PROXY_HOPS=0): each attempt names a
    # new address, but all come from 127.0.0.1, whose limit is 20 failed logins per 15 minutes.
    answers = []
    for attempt in range(22):
        response = http.post(
            "/auth/login",
            json={"username": f"nobody-{uuid.uuid4().hex[:12]}", "password": "wrong password"},
            headers={"X-Forwarded-For": f"198.51.100.{attempt + 1}"},
        )
        answers.append(response.status_code)
    assert answers[:20] == [401] * 20
    assert answers[20:] == [429, 429]


def test_no_token_or_password_in_the_service_logs(http: httpx.Client, ray_cluster: RayCluster) -> None:
    headers, tokens = sign_up(http)
    http.get("/history", headers=headers)
    http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    http.get("/history", headers={"Authorization": headers["Authorization"] + "x"})
    secrets = [
        PASSWORD,
        tokens["access_token"],
        tokens["refresh_token"],
        tokens["access_token"].split(".")[2],
    ]
    hits = []
    for path in Path(ray_cluster.session_dir, "logs").rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            hits += [f"{path.name}: {secret[:8]}..." for secret in secrets if secret in text]
    assert hits == []
