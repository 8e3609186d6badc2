"""The service on a real multi-node Ray cluster shaped like the rendered RayService (dev environment).

Three raylets, as KubeRay would start the dev pods: the head (GCS, dashboard, Serve controller and the
only HTTP proxy; no CPUs), one `web-workers` pod declaring `web_node` and one `ai-workers` pod declaring
`ai_node`. The head and the web workers are the web machine's pods; the AI workers are the AI machine.
`serve_config.yaml` is deployed through Serve's REST API; placement is read from Ray's state API.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from db.models import UNFINISHED_STATUSES, AnalysisTask
from serve_app.settings import Settings
from tests.serve.conftest import sign_up, submit, wait_until_final
from tests.support import faces
from tests.support.ray_pods import HEAD, LocalRayCluster

pytestmark = [pytest.mark.ray, pytest.mark.postgres, pytest.mark.slow]

WEB_GROUP = "web-workers"
AI_GROUP = "ai-workers"
GROUP_OF_DEPLOYMENT = {
    "Ingress": WEB_GROUP,
    "ResultWriter": WEB_GROUP,
    "Normalize": AI_GROUP,
    "Landmark": AI_GROUP,
    "Classify": AI_GROUP,
}
WEB_DEPLOYMENTS = [name for name, group in GROUP_OF_DEPLOYMENT.items() if group == WEB_GROUP]
# Codes that tell the client the failure was ours and a retry may succeed.
RETRYABLE = {"TIMEOUT", "SERVICE_UNAVAILABLE", "INTERRUPTED"}
DETECT_TIMEOUT_S = 60.0
RECOVER_TIMEOUT_S = 300.0


def group_of_node(cluster: LocalRayCluster) -> dict[str, str]:
    """node id -> the Ray group whose pod it is: the head, or the group declaring its custom resources."""
    declared = {pod.group: set(pod.resources) for pod in cluster.pods if pod.group != HEAD}
    groups = {}
    for node_id, node in cluster.nodes().items():
        have = set(node.resources_total or {})
        (group,) = [HEAD] if node.is_head_node else [g for g, names in declared.items() if names <= have]
        groups[node_id] = group
    return groups


def replica_groups(cluster: LocalRayCluster, app_name: str) -> dict[str, list[str]]:
    """deployment -> the group of the node each of its running replicas is on."""
    groups = group_of_node(cluster)
    placed: dict[str, list[str]] = {}
    for actor in cluster.alive_actors():
        prefix = f"ServeReplica:{app_name}:"
        if actor.class_name.startswith(prefix):
            placed.setdefault(actor.class_name.removeprefix(prefix), []).append(groups[actor.node_id])
    return placed


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Seconds until `condition()` held, polling every 0.25 s; fails after `timeout_s`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, f"{what} not within {timeout_s:.0f} s"
        time.sleep(0.25)
    return time.monotonic() - started


def unfinished_tasks(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = select(func.count()).where(AnalysisTask.status.in_(UNFINISHED_STATUSES))
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def test_replicas_run_on_their_nodes_and_http_enters_on_the_head(cluster_service):
    cluster = cluster_service.cluster
    assert replica_groups(cluster, cluster_service.app_name).keys() == GROUP_OF_DEPLOYMENT.keys()
    for deployment, groups in replica_groups(cluster, cluster_service.app_name).items():
        assert set(groups) == {GROUP_OF_DEPLOYMENT[deployment]}, deployment

    node_groups = group_of_node(cluster)
    system = [a for a in cluster.alive_actors() if a.class_name in {"ServeController", "ProxyActor"}]
    assert sorted((a.class_name, node_groups[a.node_id]) for a in system) == [
        ("ProxyActor", HEAD),
        ("ServeController", HEAD),
    ]
    (head,) = [node for node in cluster.nodes().values() if node.is_head_node]
    assert (head.resources_total or {}).get("CPU", 0) == 0, "the head must not offer CPUs to replicas"


def test_analyses_complete_through_http(cluster_service):
    photos = [faces.astronaut(), faces.warm_cast(), faces.cool_cast()]
    with httpx.Client(base_url=cluster_service.base_url, timeout=60) as http:
        auth = sign_up(http)
        assert http.get("/readyz").status_code == 200
        accepted = [submit(http, auth, faces.encode_jpeg(photo)) for photo in photos]
        assert [a.status_code for a in accepted] == [202] * len(photos), [a.text for a in accepted]
        with ThreadPoolExecutor(len(accepted)) as pool:
            finals = list(
                pool.map(lambda a: wait_until_final(http, auth, a.json()["status_url"], 120), accepted)
            )
        assert [f["status"] for f in finals] == ["completed"] * len(photos), finals
        for final in finals:
            result = http.get(f"/analysis/result/{final['result_id']}", headers=auth)
            assert result.status_code == 200
            assert result.json()["season"] in {"spring", "summer", "autumn", "winter"}


def test_losing_the_ai_node_is_noticed_and_the_service_recovers_when_it_returns(
    cluster_service, record_figure
):
    cluster = cluster_service.cluster
    analysis_timeout_s = Settings().pipeline.analysis_timeout_s
    photo = faces.encode_jpeg(faces.astronaut())
    with httpx.Client(base_url=cluster_service.base_url, timeout=60) as http:
        auth = sign_up(http)
        assert http.get("/readyz").status_code == 200

        # Analyses in flight when the node goes, then the node lost without notice (SIGKILL).
        in_flight = [submit(http, auth, photo) for _ in range(3)]
        cluster.stop_group(AI_GROUP)
        detect_s = wait_for(lambda: http.get("/readyz").status_code == 503, DETECT_TIMEOUT_S, "/readyz 503")
        checks = http.get("/readyz").json()["checks"]
        # Not ready because of the AI side: the database and the web node's deployments are fine.
        assert {name: checks[name] for name in ["database", *WEB_DEPLOYMENTS]} == {
            "database": "ok",
            **dict.fromkeys(WEB_DEPLOYMENTS, "healthy"),
        }

        # An upload while the AI node is away is accepted and ends failed with a retryable code.
        during = submit(http, auth, photo)
        assert during.status_code == 202, during.text
        outcomes = [
            wait_until_final(http, auth, a.json()["status_url"], analysis_timeout_s + 60)
            for a in [*in_flight, during]
        ]
        for outcome in outcomes:
            assert outcome["status"] == "completed" or outcome["error"]["code"] in RETRYABLE, outcome
        assert outcomes[-1]["status"] == "failed", outcomes[-1]
        assert unfinished_tasks(cluster_service.database_url) == 0

        # The AI node comes back: Serve places the replicas again without a redeploy.
        returned = time.monotonic()
        cluster.start_group(AI_GROUP)
        joined_s = time.monotonic() - returned
        wait_for(lambda: http.get("/readyz").status_code == 200, RECOVER_TIMEOUT_S, "/readyz 200")
        ready_s = time.monotonic() - returned
        after = wait_until_final(http, auth, submit(http, auth, photo).json()["status_url"], 120)
        assert after["status"] == "completed", after
        recover_s = time.monotonic() - returned

    for deployment, groups in replica_groups(cluster, cluster_service.app_name).items():
        assert set(groups) == {GROUP_OF_DEPLOYMENT[deployment]}, deployment
    assert unfinished_tasks(cluster_service.database_url) == 0
    in_flight_ends = Counter(o["error"]["code"] if o["error"] else o["status"] for o in outcomes[:-1])
    record_figure(
        f"AI node lost (SIGKILL): /readyz 503 after {detect_s:.1f} s; analyses in flight ended "
        f"{dict(in_flight_ends)}, the upload during the loss {outcomes[-1]['error']['code']}; "
        f"AI node started again: joined after {joined_s:.1f} s, /readyz 200 after {ready_s:.1f} s, "
        f"first analysis completed after {recover_s:.1f} s"
    )
