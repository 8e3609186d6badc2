"""Password hashing never holds the request thread pool: a wave of sign-ups cannot starve polling.

Sync routes (status polls, `/me`, history) share one thread pool; here it is shrunk to 4 threads so
that 8 concurrent registrations would fill it twice over if each held a thread while hashing.
"""

from __future__ import annotations

import asyncio
import time

import anyio.to_thread
import httpx
import pytest

from tests.security.app_support import PASSWORD, bearer, build_app, unique_name

pytestmark = pytest.mark.postgres

REGISTRATIONS = 8


async def _register(client: httpx.AsyncClient) -> float:
    response = await client.post("/auth/register", json={"username": unique_name(), "password": PASSWORD})
    assert response.status_code == 201, response.text
    return time.monotonic()


async def _wave(database_url: str) -> tuple[float, list[float]]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = 4
    transport = httpx.ASGITransport(app=build_app(database_url))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        first = await client.post("/auth/register", json={"username": unique_name(), "password": PASSWORD})
        token = first.json()["access_token"]
        registrations = [asyncio.create_task(_register(client)) for _ in range(REGISTRATIONS)]
        await asyncio.sleep(0.02)  # every registration has started and is hashing or queued
        me = await client.get("/me", headers=bearer(token))
        assert me.status_code == 200
        answered = time.monotonic()
        return answered, list(await asyncio.gather(*registrations))


def test_a_wave_of_registrations_does_not_hold_up_other_requests(database_url: str) -> None:
    me_answered, registered = asyncio.run(_wave(database_url))
    # One hash takes a fifth of a second or more; `/me` needs a thread for a few milliseconds.
    assert me_answered < min(registered)
