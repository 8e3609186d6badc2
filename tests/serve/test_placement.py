"""Replicas land on the nodes that provide the custom resource they ask for; HTTP enters on one node."""

from __future__ import annotations

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


def test_http_enters_through_a_single_proxy_on_the_head_node(service, ray_cluster):
    assert service.config["proxy_location"] == "HeadOnly"
    proxies = [
        actor
        for actor in list_actors(
            address=ray_cluster.dashboard_url, filters=[("state", "=", "ALIVE")], detail=True, limit=10_000
        )
        if actor.class_name == "ProxyActor"
    ]
    head = [
        node.node_id
        for node in list_nodes(address=ray_cluster.dashboard_url, detail=True)
        if node.is_head_node
    ]
    assert [proxy.node_id for proxy in proxies] == head
