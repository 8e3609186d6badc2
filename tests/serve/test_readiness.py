"""`/readyz` on the deployed service notices a stage that lost its only replica within 2 s.

Serve's status keeps saying HEALTHY for about 10 s after a replica's process dies (a crash, here
SIGKILL; `ray.kill` goes through Ray and Serve learns of it at once); readiness also checks
that each deployment has a live replica actor (serve_app.api.readiness).
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import httpx
import pytest
import ray

from serve_app.api.readiness import NO_LIVE_REPLICA

pytestmark = [pytest.mark.ray, pytest.mark.postgres, pytest.mark.slow]

NOTICE_WITHIN_S = 2.0
RECOVER_WITHIN_S = 180.0


def replica_actors(app_name: str, deployment: str) -> list[ray.actor.ActorHandle[object]]:
    prefix = f"SERVE_REPLICA::{app_name}#{deployment}#"
    return [
        ray.get_actor(actor["name"], namespace="serve")
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["namespace"] == "serve" and str(actor["name"]).startswith(prefix)
    ]


def replica_pid(replica: Any) -> int:
    """The process id of a replica actor (the test runs on the same machine)."""
    return int(ray.get(replica.__ray_call__.remote(lambda _: os.getpid())))


def wait_ready(http: httpx.Client, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while (response := http.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, response.text
        time.sleep(0.5)


def test_readiness_fails_within_2_s_of_a_stage_losing_every_replica(service, http):
    wait_ready(http, RECOVER_WITHIN_S)
    replicas = replica_actors(service.app_name, "Landmark")
    assert replicas
    pids = [replica_pid(replica) for replica in replicas]
    for pid in pids:  # a crash (SIGKILL), not ray.kill, which tells Serve at once
        os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    while True:
        response = http.get("/readyz", timeout=5)
        if response.status_code == 503:
            break
        assert time.monotonic() - killed < NOTICE_WITHIN_S, f"still ready: {response.json()}"
        time.sleep(0.1)
    assert response.json()["checks"]["Landmark"] != "healthy"
    wait_ready(http, RECOVER_WITHIN_S)  # Serve starts a new replica; later tests find the stage back
    assert response.json()["checks"].get("Landmark") in (NO_LIVE_REPLICA, "unhealthy", "updating")
