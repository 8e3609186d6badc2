"""The probes of the chaos bench, each a bounded loop against the deployed service over loopback.

- `fuzz`: hostile uploads and ids (bench.chaos.fuzz); counts 5xx answers and error answers whose
  body is not the API's JSON error shape, and follows every accepted upload to its end.
- `stream_with_fault`: a few clients submit analyses back to back while a fault happens (a replica
  process killed, the database cut); every `202` is followed until it ends or is declared lost (not
  `completed`/`failed` 60 s after the later of its upload and the end of the fault).
- `load`: many clients, each uploading and polling every 0.5 s, for a fixed time.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import ray

from bench import serving
from bench.chaos.fuzz import Case, astronaut_photo, cases, multipart

LOST_AFTER_S = 60.0
POLL_S = 0.5


def sign_up(client: httpx.Client) -> dict[str, str]:
    """`bench.serving.sign_up`, retried: the service may be restarting."""
    for _ in range(60):  # bounded
        with contextlib.suppress(httpx.HTTPError):
            return serving.sign_up(client)
        time.sleep(1)
    raise RuntimeError("could not register a chaos user")


def is_error_shape(response: httpx.Response) -> bool:
    try:
        error = response.json()["error"]
        return isinstance(error["code"], str) and isinstance(error["message"], str)
    except (ValueError, KeyError, TypeError):
        return False


@dataclass
class Answers:
    """What a set of requests got back."""

    total: int = 0
    server_errors: int = 0  # 5xx
    not_error_shape: int = 0  # >= 400 without the JSON error shape
    transport_errors: int = 0  # no HTTP answer at all (connection refused or reset, timeout)
    by_status: collections.Counter[int] = field(default_factory=collections.Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def record(self, response: httpx.Response, label: str) -> None:
        self.total += 1
        self.by_status[response.status_code] += 1
        if response.status_code >= 500:
            self.server_errors += 1
            self.examples.setdefault(f"{response.status_code} {label}", response.text[:120])
        if response.status_code >= 400 and not is_error_shape(response):
            self.not_error_shape += 1
            self.examples.setdefault(f"non-JSON {response.status_code} {label}", response.text[:120])

    def record_transport_error(self, error: Exception, label: str) -> None:
        self.total += 1
        self.transport_errors += 1
        self.examples.setdefault(f"transport {label}", type(error).__name__)


@dataclass
class Outcomes:
    """How the accepted analyses (`202`) ended."""

    accepted: int = 0
    completed: int = 0
    failed: collections.Counter[str] = field(default_factory=collections.Counter)
    lost: int = 0

    def record(self, final: dict[str, object] | None) -> None:
        self.accepted += 1
        if final is None:
            self.lost += 1
        elif final.get("status") == "completed":
            self.completed += 1
        else:
            error = final.get("error")
            code = error.get("code") if isinstance(error, dict) else None
            self.failed[str(code)] += 1

    def line(self) -> str:
        failed = ", ".join(f"{code} {n}" for code, n in self.failed.most_common()) or "none"
        return f"{self.accepted} accepted: {self.completed} completed, failed [{failed}], lost {self.lost}"


def follow(
    client: httpx.Client, headers: dict[str, str], task_id: str, until: Callable[[], float]
) -> dict[str, object] | None:
    """The task's final status, or None if it has not ended by `until()` (monotonic; asked again
    on every poll, so a deadline can move while a fault lasts)."""
    while time.monotonic() < until():
        with contextlib.suppress(httpx.HTTPError, ValueError):
            response = client.get(f"/analysis/status/{task_id}", headers=headers)
            if response.status_code == 200:
                body: dict[str, object] = response.json()
                if body.get("status") in ("completed", "failed"):
                    return body
        time.sleep(POLL_S)
    return None


def _fixed(deadline: float) -> Callable[[], float]:
    return lambda: deadline


def _send(client: httpx.Client, case: Case, headers: dict[str, str]) -> httpx.Response:
    return client.request(case.method, case.path, content=case.body, headers={**case.headers, **headers})


def fuzz(base_url: str, count: int) -> tuple[Answers, Outcomes]:
    answers, outcomes = Answers(), Outcomes()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        auth = sign_up(client)
        accepted: list[str] = []
        for case in cases(count):
            try:
                response = _send(client, case, auth)
            except httpx.HTTPError as error:
                answers.record_transport_error(error, case.kind)
                continue
            answers.record(response, case.kind)
            if response.status_code == 202:
                accepted.append(response.json()["task_id"])
        for task_id in accepted:
            outcomes.record(follow(client, auth, task_id, _fixed(time.monotonic() + LOST_AFTER_S)))
    return answers, outcomes


@dataclass
class StreamFigures:
    uploads: Answers
    outcomes: Outcomes
    # From the fault's start to the first upload after it that was accepted and completed.
    recovered_after_s: float | None
    slowest_answer_s: float  # the longest any upload waited for its answer


def stream_with_fault(
    base_url: str,
    fault: Callable[[], None],
    *,
    clients: int = 3,
    every_s: float = 1.0,
    before_s: float = 5.0,
    after_s: float = 30.0,
) -> StreamFigures:
    """Each of `clients` threads uploads a photo every `every_s` (never waiting for the analysis,
    so uploads go on during the fault); `fault()` runs `before_s` in and returns when it is over;
    uploads go on `after_s` longer. Then every accepted analysis is followed to its end."""
    photo = astronaut_photo()
    uploads = Answers()
    lock = threading.Lock()
    stop = threading.Event()
    accepted: list[tuple[float, dict[str, str], str]] = []  # (upload time, auth, task id)
    slowest = [0.0]

    def client_loop(auth: dict[str, str]) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    response = _send(client, multipart(photo, {"lang": "en"}), auth)
                except httpx.HTTPError as error:
                    with lock:
                        uploads.record_transport_error(error, "upload")
                else:
                    with lock:
                        uploads.record(response, "upload")
                        slowest[0] = max(slowest[0], time.monotonic() - started)
                        if response.status_code == 202:
                            accepted.append((started, auth, response.json()["task_id"]))
                stop.wait(max(0.0, every_s - (time.monotonic() - started)))

    with httpx.Client(base_url=base_url, timeout=30) as client:
        users = [sign_up(client) for _ in range(clients)]
    threads = [threading.Thread(target=client_loop, args=(auth,), daemon=True) for auth in users]
    for thread in threads:
        thread.start()
    time.sleep(before_s)
    fault_start = time.monotonic()
    fault()
    fault_end = time.monotonic()
    time.sleep(after_s)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    outcomes = Outcomes()
    recovered: float | None = None
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for started, auth, task_id in sorted(accepted):
            final = follow(client, auth, task_id, _fixed(max(started, fault_end) + LOST_AFTER_S))
            outcomes.record(final)
            if recovered is None and started > fault_start and final and final.get("status") == "completed":
                recovered = started - fault_start
    return StreamFigures(uploads, outcomes, recovered, slowest[0])


def kill_replicas(app_name: str, deployment: str) -> Callable[[], None]:
    """A fault: the process of every replica of `deployment` killed at once (SIGKILL), as a crash
    would; the bench runs on the same machine as its Ray."""

    def kill() -> None:
        prefix = f"SERVE_REPLICA::{app_name}#{deployment}#"
        replicas: list[Any] = [
            ray.get_actor(actor["name"], namespace="serve")
            for actor in ray.util.list_named_actors(all_namespaces=True)
            if actor["namespace"] == "serve" and str(actor["name"]).startswith(prefix)
        ]
        pids = [int(ray.get(replica.__ray_call__.remote(lambda _: os.getpid()))) for replica in replicas]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)

    return kill


@dataclass
class LoadFigures:
    uploads: Answers
    outcomes: Outcomes
    seconds_to_result_p50: float | None
    seconds_to_result_p99: float | None


def load(base_url: str, clients: int, seconds: float) -> LoadFigures:
    photo = astronaut_photo()
    uploads, outcomes = Answers(), Outcomes()
    durations: list[float] = []
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def client_loop() -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            auth = sign_up(client)
            while time.monotonic() < end:
                started = time.monotonic()
                try:
                    response = _send(client, multipart(photo), auth)
                except httpx.HTTPError as error:
                    with lock:
                        uploads.record_transport_error(error, "upload")
                    continue
                with lock:
                    uploads.record(response, "upload")
                if response.status_code != 202:
                    time.sleep(POLL_S)
                    continue
                final = follow(client, auth, response.json()["task_id"], _fixed(started + LOST_AFTER_S))
                with lock:
                    outcomes.record(final)
                    if final and final.get("status") == "completed":
                        durations.append(time.monotonic() - started)

    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 2 * LOST_AFTER_S)
    ordered = sorted(durations)
    p50 = statistics.median(ordered) if ordered else None
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] if ordered else None
    return LoadFigures(uploads, outcomes, p50, p99)
