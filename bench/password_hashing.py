"""What password hashing costs, and what a wave of sign-ups does to everyone else.

`python -m bench.password_hashing [-c 32] [-n 96]` prints, in one run:

- the cost of one Argon2id hash with pwdlib's default parameters (m = 64 MiB, t = 3, p = 4) and
  with the shipped ones (serve_app.security.auth.passwords), side by side;
- `-n` registrations through the API, `-c` at a time (the issue's 32 clients), p50/p99 latency;
- during that wave, `GET /me` polled back to back by one more client, p50/p99: what a person
  waiting for an analysis would feel, since status polls share `/me`'s thread pool.

The API runs in process (httpx's ASGI transport, the same app pieces as the ingress) on a
throwaway SQLite database, so the figures are the hashing and the request handling, not a network.
Wall-clock figures on a shared machine: the load average is printed alongside.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from fastapi import FastAPI
from pwdlib.hashers.argon2 import Argon2Hasher

from db.migrate import upgrade_to_head
from serve_app.database import attach_database
from serve_app.errors import install_error_handlers
from serve_app.security.auth.passwords import HASHER
from serve_app.security.install import install_security
from serve_app.security.settings import SecuritySettings

PASSWORD = "a long passphrase for the bench"  # noqa: S105 (throwaway accounts)


def _api(database_url: str) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    attach_database(app, database_url)
    install_security(app, SecuritySettings(requests_per_address="1000000/minute"))
    return app


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _hash_ms(repeats: int = 5) -> tuple[float, float]:
    default = Argon2Hasher()
    timings: dict[str, list[float]] = {"default": [], "shipped": []}
    for _ in range(repeats):  # interleaved, so both see the same machine
        for name, hash_once in (("default", default.hash), ("shipped", HASHER.hash)):
            started = time.perf_counter()
            hash_once(PASSWORD)
            timings[name].append((time.perf_counter() - started) * 1000)
    return statistics.median(timings["default"]), statistics.median(timings["shipped"])


async def _wave(database_url: str, concurrency: int, total: int) -> tuple[list[float], list[float], int]:
    transport = httpx.ASGITransport(app=_api(database_url))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as client:
        first = await client.post("/auth/register", json={"username": "poller", "password": PASSWORD})
        token = first.json()["access_token"]
        registrations: list[float] = []
        refused = 0
        queue = list(range(total))
        done = asyncio.Event()

        async def registrant() -> None:
            nonlocal refused
            while queue:
                queue.pop()
                started = time.perf_counter()
                response = await client.post(
                    "/auth/register", json={"username": f"u-{uuid.uuid4().hex[:12]}", "password": PASSWORD}
                )
                registrations.append((time.perf_counter() - started) * 1000)
                refused += response.status_code != 201

        polls: list[float] = []

        async def poller() -> None:
            while not done.is_set():
                started = time.perf_counter()
                await client.get("/me", headers={"Authorization": f"Bearer {token}"})
                polls.append((time.perf_counter() - started) * 1000)

        polling = asyncio.create_task(poller())
        await asyncio.gather(*(registrant() for _ in range(concurrency)))
        done.set()
        await polling
        return registrations, polls, refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("-n", "--registrations", type=int, default=96)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine: noisy)")
    default_ms, shipped_ms = _hash_ms()
    print(f"one hash, median: pwdlib default {default_ms:.0f} ms, shipped {shipped_ms:.0f} ms")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade_to_head(url)
        started = time.perf_counter()
        registrations, polls, refused = asyncio.run(_wave(url, args.concurrency, args.registrations))
        elapsed = time.perf_counter() - started
    print(
        f"{len(registrations)} registrations, {args.concurrency} at a time, in {elapsed:.1f} s "
        f"({refused} refused): p50 {_percentile(registrations, 0.5):.0f} ms, "
        f"p99 {_percentile(registrations, 0.99):.0f} ms"
    )
    print(
        f"GET /me during the wave ({len(polls)} polls): p50 {_percentile(polls, 0.5):.1f} ms, "
        f"p99 {_percentile(polls, 0.99):.1f} ms"
    )


if __name__ == "__main__":
    main()
