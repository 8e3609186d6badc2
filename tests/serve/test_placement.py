"""Replicas land on the nodes that provide the custom resource they ask for; HTTP enters on one node,
through HAProxy."""

from __future__ import annotations

from pathlib import Path

import pytest
from ray import serve
from ray.util.state import list_actors, list_nodes

pytestmark = [pytest.mark.ray, pytest.mark.postgres, pytest.mark.slow]

NODE_OF = {
    "Ingress": "web_node",
    "ResultWriter": "web_node",
    "Normalize": "ai_node",
    "Landmark": "ai_node",
    "Classify": "ai_node",
}


def test_replicas_run_on_nodes_providing_their_resource(service, ray_cluster):
    nodes = {node.node_id: node for node in list_nodes(address=ray_cluster.dashboard_url, detail=True)}
    replicas = [
        actor
        for actor in list_actors(
            address=ray_cluster.dashboard_url, filters=[("state", "=", "ALIVE")], detail=True, limit=10_000
        )
        if actor.class_name.startswith(f"ServeReplica:{service.app_name}:")
    ]
    for deployment, resource in NODE_OF.items():
        mine = [actor for actor in replicas if actor.class_name.endswith(f":{deployment}")]
        assert mine, f"no running replica of {deployment}"
        for actor in mine:
            asked = actor.required_resources or {}
            assert 0 < asked.get(resource, 0) < 1, (deployment, asked)
            assert asked.get("CPU", 0) < 1, "replicas take a fractional CPU share"
            assert actor.node_id is not None
            assert (nodes[actor.node_id].resources_total or {}).get(resource, 0) >= 1


def test_every_deployment_is_healthy_and_cpu_budget_fits_two_cores(service, ray_cluster):
    application = serve.status().applications[service.app_name]
    assert {name: d.status.value for name, d in application.deployments.items()} == dict.fromkeys(
        NODE_OF, "HEALTHY"
    )
    deployments = service.config["applications"][0]["deployments"]
    worst_case = sum(
        d["ray_actor_options"]["num_cpus"]
        * (d.get("autoscaling_config", {}).get("max_replicas") or d.get("num_replicas", 1))
        for d in deployments
    )
    assert worst_case <= 2


def test_http_enters_through_a_single_haproxy_on_the_head_node(service, ray_cluster):
    assert service.config["proxy_location"] == "HeadOnly"
    assert ray_cluster.ray_settings.http_entry == "haproxy"
    managers = [
        actor
        for actor in list_actors(
            address=ray_cluster.dashboard_url, filters=[("state", "=", "ALIVE")], detail=True, limit=10_000
        )
        if actor.class_name == "HAProxyManager"
    ]
    head = [
        node.node_id
        for node in list_nodes(address=ray_cluster.dashboard_url, detail=True)
        if node.is_head_node
    ]
    assert [manager.node_id for manager in managers] == head
    # The service's port is HAProxy's own socket (not a Python proxy's).
    port = int(service.base_url.rsplit(":", 1)[1])
    assert process_listening_on(port) == "haproxy"


def process_listening_on(port: int) -> str | None:
    """The command name of the process holding the listening TCP socket on `port` (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(str(fd.readlink()) in inodes for fd in fd_dir.iterdir()):
                return (fd_dir.parent / "comm").read_text().strip()
        except OSError:  # a process that ended, or one we may not look into
            continue
    return None
