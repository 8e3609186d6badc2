"""Placement, read back from the rendered manifests and checked against cluster.yaml: every Serve
deployment's resource is declared by a Ray group that Kubernetes can only schedule on the node owning
that resource, and no pod can land on the other side's node. The renderer refuses configs it
cannot place, with a message that names the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kuberay.errors import RenderError
from kuberay.rayservice import parse_ray_resources_param
from kuberay.render import render_environment
from kuberay.topology import Node, Topology
from tests.kuberay.conftest import REPO_ROOT, find, ray_pod_templates, the

HARD_EFFECTS = {"NoSchedule", "NoExecute"}


def tolerates(tolerations: list[dict[str, Any]], taint) -> bool:
    for toleration in tolerations:
        if toleration.get("effect") not in (None, "", taint.effect):
            continue
        if toleration.get("operator", "Equal") == "Exists":
            if toleration.get("key") in (None, "", taint.key):
                return True
        elif toleration.get("key") == taint.key and toleration.get("value") == taint.value:
            return True
    return False


def schedulable_nodes(pod_spec: dict[str, Any], topology: Topology) -> set[str]:
    """Nodes the scheduler could put this pod on: nodeSelector matches and hard taints tolerated."""
    selector = pod_spec.get("nodeSelector") or {}
    tolerations = pod_spec.get("tolerations") or []
    return {
        node.name
        for node in topology.nodes
        if all(node.labels.get(k) == v for k, v in selector.items())
        and all(tolerates(tolerations, t) for t in node.taints if t.effect in HARD_EFFECTS)
    }


def node_declaring(topology: Topology, resource: str) -> Node:
    (node,) = [n for n in topology.nodes if resource in n.ray_resources]
    return node


def test_serve_config_v2_is_serve_config_yaml_verbatim(rendered, serve_config_text):
    assert the(rendered, "RayService")["spec"]["serveConfigV2"] == serve_config_text


def test_every_deployment_resource_is_declared_by_a_group_confined_to_its_node(
    rendered, topology, serve_config
):
    rayservice = the(rendered, "RayService")
    groups = rayservice["spec"]["rayClusterConfig"]["workerGroupSpecs"]
    deployments = [d for app in serve_config["applications"] for d in app["deployments"]]
    assert {d["name"] for d in deployments} >= {
        "Ingress",
        "Normalize",
        "Landmark",
        "Classify",
        "ResultWriter",
    }
    for deployment in deployments:
        options = deployment["ray_actor_options"]
        assert options.get("resources"), f"{deployment['name']} has no node resource"
        for resource, amount in options["resources"].items():
            providers = [
                g
                for g in groups
                if resource in parse_ray_resources_param(g["rayStartParams"].get("resources", "{}"))
            ]
            assert providers, f"{deployment['name']}: no worker group declares {resource}"
            owner = node_declaring(topology, resource)
            for group in providers:
                declared = parse_ray_resources_param(group["rayStartParams"]["resources"])
                assert isinstance(declared[resource], int) and declared[resource] >= amount
                assert float(group["rayStartParams"]["num-cpus"]) >= options.get("num_cpus", 1)
                spec = group["template"]["spec"]
                assert schedulable_nodes(spec, topology) == {owner.name}, group["groupName"]
                assert all(tolerates(spec["tolerations"], t) for t in owner.taints)


def test_head_runs_no_replicas_and_sits_on_the_web_node(rendered, topology):
    head = the(rendered, "RayService")["spec"]["rayClusterConfig"]["headGroupSpec"]
    assert head["rayStartParams"]["num-cpus"] == "0"
    assert "resources" not in head["rayStartParams"]
    assert schedulable_nodes(head["template"]["spec"], topology) == {topology.placement["ray_head"]}


def test_no_pod_can_cross_between_the_web_and_ai_nodes(rendered, topology):
    rayservice = the(rendered, "RayService")
    expected = {"head": topology.placement["ray_head"]}
    for group in rayservice["spec"]["rayClusterConfig"]["workerGroupSpecs"]:
        (resource,) = parse_ray_resources_param(group["rayStartParams"]["resources"])
        expected[group["groupName"]] = node_declaring(topology, resource).name
    for name, template in ray_pod_templates(rayservice).items():
        assert schedulable_nodes(template["spec"], topology) == {expected[name]}, name
    for statefulset in find(rendered, "StatefulSet"):
        spec = statefulset["spec"]["template"]["spec"]
        assert schedulable_nodes(spec, topology) == {topology.placement["postgres"]}
    assert {expected["web-workers"], expected["ai-workers"]} == {"web", "ai"}


def test_tolerations_are_exact_never_wildcards(rendered):
    rayservice = the(rendered, "RayService")
    specs = [t["spec"] for t in ray_pod_templates(rayservice).values()]
    specs += [s["spec"]["template"]["spec"] for s in find(rendered, "StatefulSet")]
    for spec in specs:
        for toleration in spec.get("tolerations", []):
            assert toleration["operator"] == "Equal" and toleration["key"] and toleration["value"]


def test_ray_groups_autoscale_within_bounds(rendered):
    cluster = the(rendered, "RayService")["spec"]["rayClusterConfig"]
    assert cluster["enableInTreeAutoscaling"] is True
    for group in cluster["workerGroupSpecs"]:
        assert 0 <= group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]


# --- the renderer refuses what it cannot place -------------------------------------------------


def _serve_config_variant(tmp_path: Path, mutate: Any) -> Path:
    config = yaml.safe_load((REPO_ROOT / "serve_config.yaml").read_text(encoding="utf-8"))
    mutate(config)
    path = tmp_path / "serve_config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _deployment(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(d for app in config["applications"] for d in app["deployments"] if d["name"] == name)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda c: _deployment(c, "Classify")["ray_actor_options"].update(resources={"gpu_node": 0.01}),
            "Classify asks for Ray resource 'gpu_node', which no Ray worker group provides",
        ),
        (
            lambda c: _deployment(c, "Landmark")["ray_actor_options"].pop("resources"),
            "Landmark asks for no node resource",
        ),
        (
            lambda c: _deployment(c, "Normalize")["ray_actor_options"].update(num_cpus=4),
            "Normalize needs 4.0 CPUs per replica but a ai-workers pod offers",
        ),
        (
            lambda c: _deployment(c, "Ingress").update(num_replicas=30),
            "the cluster cannot hold the pods at their maxima:\n  - node web",
        ),
        (lambda c: c.update(proxy_location="EveryNode"), "it must be 'HeadOnly'"),
    ],
    ids=["unknown-resource", "no-resource", "too-many-cpus", "over-capacity", "proxy-everywhere"],
)
def test_unplaceable_serve_config_fails_with_a_clear_message(tmp_path, mutate, expected):
    path = _serve_config_variant(tmp_path, mutate)
    with pytest.raises(RenderError) as error:
        render_environment("dev", serve_config_path=path)
    assert expected in str(error.value)


def test_fractional_node_resource_in_topology_is_refused(tmp_path):
    topology = yaml.safe_load((REPO_ROOT / "cluster.yaml").read_text(encoding="utf-8"))
    next(n for n in topology["nodes"] if n["name"] == "ai")["ray_resources"]["ai_node"] = 0.5
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(topology), encoding="utf-8")
    with pytest.raises(RenderError, match=r"ray_resources.ai_node must be a positive integer"):
        render_environment("dev", topology_path=path)
