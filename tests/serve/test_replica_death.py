"""An ingress replica that dies with analyses in flight: each ends `failed` with INTERRUPTED within
seconds, through the lease its replica no longer renews (the photo went with it; it is never stored)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import ray
from ray.util.state import list_actors

from tests.serve.conftest import FINAL, sign_up, submit
from tests.support import faces

pytestmark = [pytest.mark.ray, pytest.mark.postgres, pytest.mark.slow]

IN_FLIGHT = 12  # from two people: the per-user analysis limit is 10 a minute
ENDED_WITHIN_S = 30  # issue target: ended `failed` with a retryable code within 30 s


def kill_ingress(service, ray_cluster) -> None:
    (ingress,) = [
        actor
        for actor in list_actors(
            address=ray_cluster.dashboard_url, filters=[("state", "=", "ALIVE")], detail=True, limit=10_000
        )
        if actor.class_name == f"ServeReplica:{service.app_name}:Ingress"
    ]
    assert ingress.name
    ray.kill(ray.get_actor(ingress.name, namespace=ingress.ray_namespace))


def final_status(
    client: httpx.Client, headers: dict[str, str], status_url: str, deadline: float
) -> dict[str, Any]:
    """Poll every 0.5 s until final; answers during the replica's restart (503s) are retried."""
    while time.monotonic() < deadline:
        try:
            response = client.get(status_url, headers=headers)
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code == 200 and response.json()["status"] in FINAL:
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.5)
    raise AssertionError(f"{status_url} not final within {ENDED_WITHIN_S} s of the kill")


def test_analyses_of_a_killed_ingress_end_interrupted(service, ray_cluster, http):
    people = [sign_up(http), sign_up(http)]
    # Large photos keep the AI stages busy, so most are still in flight when the ingress dies.
    photo = faces.encode_jpeg(faces.resized(faces.astronaut(), 2048))
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        accepted = list(pool.map(lambda i: submit(http, people[i % 2], photo), range(IN_FLIGHT)))
    assert all(response.status_code == 202 for response in accepted), [r.text for r in accepted]

    kill_ingress(service, ray_cluster)
    deadline = time.monotonic() + ENDED_WITHIN_S
    with httpx.Client(base_url=service.base_url, timeout=10) as client:
        outcomes = [
            final_status(client, people[i % 2], response.json()["status_url"], deadline)
            for i, response in enumerate(accepted)
        ]

    codes = [outcome["error"]["code"] for outcome in outcomes if outcome["status"] == "failed"]
    assert codes, f"every analysis finished before the kill: {outcomes}"
    assert set(codes) == {"INTERRUPTED"}, outcomes
    assert all(
        "photo" in outcome["error"]["message"] for outcome in outcomes if outcome["status"] == "failed"
    )
