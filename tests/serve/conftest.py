"""Fixtures of the serving tests: the session's Ray, the deployed service on PostgreSQL, a signed-in user."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.postgres import postgres_url  # noqa: F401 (fixture)
from tests.support.ray_cluster import ServedApp, deploy_service, ray_cluster  # noqa: F401 (fixture)

FINAL = {"completed", "failed"}
_users = itertools.count()


@pytest.fixture(scope="session")
def service(ray_cluster, postgres_url) -> ServedApp:  # noqa: F811
    return deploy_service(postgres_url)


@pytest.fixture
def http(service) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.base_url, timeout=60) as client:
        yield client


def sign_up(client: httpx.Client) -> dict[str, str]:
    """A fresh local account; returns the Authorization header of its access token."""
    username = f"user{next(_users)}-{uuid.uuid4().hex[:8]}"
    response = client.post("/auth/register", json={"username": username, "password": "correct horse battery"})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def auth(http) -> dict[str, str]:
    return sign_up(http)


def submit(
    client: httpx.Client,
    headers: dict[str, str],
    image: bytes,
    *,
    content_type: str = "image/jpeg",
    fields: dict[str, str] | None = None,
) -> httpx.Response:
    return client.post(
        "/analysis/start", headers=headers, files={"image": ("photo", image, content_type)}, data=fields or {}
    )


def wait_until_final(
    client: httpx.Client, headers: dict[str, str], status_url: str, timeout_s: float = 180
) -> Any:
    """Poll like the front end does (every 0.5 s) until the task completes or fails."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get(status_url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"] in FINAL:
            return body
        assert time.monotonic() < deadline, f"task still {body} after {timeout_s} s"
        time.sleep(0.5)
