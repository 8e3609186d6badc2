"""Answers the API gives outside its routes still carry the one JSON error shape.

A body that trickles in past the deadline (408), and a CORS preflight from a foreign origin (400),
used to be plain text from Serve's proxy and Starlette. docs/security.md lists what is still
answered by the proxy or uvicorn before the app sees the request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from serve_app.api.upload import read_upload_form
from tests.security.app_support import build_app

pytestmark = pytest.mark.postgres


def assert_error_shape(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


async def trickle(first: bytes, pause_s: float) -> AsyncIterator[bytes]:
    yield first
    await asyncio.sleep(pause_s)
    yield b"}"


async def _slow_post(app: object, path: str, headers: dict[str, str], first: bytes) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post(path, content=trickle(first, 2.0), headers=headers)


def test_a_json_body_that_arrives_too_slowly_is_a_json_408(database_url: str) -> None:
    app = build_app(database_url, body_timeout_s=0.3)
    response = asyncio.run(
        _slow_post(app, "/auth/login", {"content-type": "application/json"}, b'{"username": "a", ')
    )
    assert_error_shape(response, 408, "REQUEST_TIMEOUT")


def test_an_upload_that_arrives_too_slowly_is_a_json_408(database_url: str) -> None:
    # The upload route lives on the Ray ingress; this one reads its body the same way.
    app = build_app(database_url, body_timeout_s=0.3)

    @app.post("/slow-upload")
    async def upload(request: Request) -> dict[str, str]:
        await read_upload_form(
            request.headers.get("content-type"),
            None,
            request.stream(),
            image_field="image",
            max_image_bytes=1000,
        )
        return {}

    headers = {"content-type": "multipart/form-data; boundary=abc"}
    first = b'--abc\r\nContent-Disposition: form-data; name="image"; filename="x"\r\n\r\n\xff\xd8\xff'
    response = asyncio.run(_slow_post(app, "/slow-upload", headers, first))
    assert_error_shape(response, 408, "REQUEST_TIMEOUT")


def test_a_cors_preflight_from_a_foreign_origin_is_a_json_400(database_url: str) -> None:
    client = TestClient(build_app(database_url))
    response = client.options(
        "/history",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert_error_shape(response, 400, "VALIDATION_ERROR")
    assert response.json()["error"]["details"] == {"disallowed": ["origin"]}
    allowed = client.options(
        "/history",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
