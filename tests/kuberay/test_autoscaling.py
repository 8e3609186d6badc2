"""In-tree autoscaling: Ray's autoscaler may add worker pods exactly as far as Serve's replica autoscaling
(serve_config.yaml's maxima) can use them, and the nodes in cluster.yaml hold the pods at those maxima.
Pod sizes are read the way the KubeRay autoscaler reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ray.autoscaler._private.kuberay.autoscaling_config import _get_ray_resources_from_group_spec

from kuberay.errors import RenderError
from kuberay.placement import NODE_RESERVED_CPU_MILLIS, NODE_RESERVED_MEMORY_MB, cpu_millis, memory_mb
from kuberay.rayservice import parse_ray_resources_param
from kuberay.render import render_environment
from tests.kuberay.conftest import REPO_ROOT, find, the
from tests.kuberay.test_placement import schedulable_nodes


def worker_groups(rendered) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = the(rendered, "RayService")["spec"]["rayClusterConfig"]["workerGroupSpecs"]
    return groups


def deployments_on(group: dict[str, Any], serve_config: dict[str, Any]) -> list[dict[str, Any]]:
    declared = set(parse_ray_resources_param(group["rayStartParams"]["resources"]))
    return [
        d
        for app in serve_config["applications"]
        for d in app["deployments"]
        if set(d["ray_actor_options"]["resources"]) & declared
    ]


def replicas(deployment: dict[str, Any], bound: str) -> int:
    autoscaling = deployment.get("autoscaling_config")
    return int(autoscaling[bound]) if autoscaling else int(deployment.get("num_replicas", 1))


def test_the_autoscaler_runs_in_the_cluster(rendered):
    cluster = the(rendered, "RayService")["spec"]["rayClusterConfig"]
    assert cluster["enableInTreeAutoscaling"] is True
    options = cluster["autoscalerOptions"]
    assert options["upscalingMode"] in {"Default", "Conservative", "Aggressive"}
    assert options["idleTimeoutSeconds"] > 0


def test_each_group_scales_exactly_as_far_as_serves_maxima_need(rendered, serve_config):
    for group in worker_groups(rendered):
        pod_cpus = _get_ray_resources_from_group_spec(group, is_head=False)["CPU"]
        mine = deployments_on(group, serve_config)
        assert mine, group["groupName"]
        cpus = [float(d["ray_actor_options"]["num_cpus"]) for d in mine]
        at_min = sum(c * replicas(d, "min_replicas") for c, d in zip(cpus, mine, strict=True))
        at_max = sum(c * replicas(d, "max_replicas") for c, d in zip(cpus, mine, strict=True))
        # A replica only makes the autoscaler add a pod when it fits on no running pod, i.e. when
        # each is filled beyond pod_cpus - largest. At maxReplicas pods that can no longer happen...
        usable = pod_cpus - max(cpus)
        assert at_max <= group["maxReplicas"] * usable + 1e-9, group["groupName"]
        # ... and one pod fewer could leave Serve's maxima short of room: no pod is there for nothing.
        assert at_max > (group["maxReplicas"] - 1) * usable, group["groupName"]
        # The service comes up on the first pods without waiting for the autoscaler.
        assert at_min <= group["minReplicas"] * pod_cpus, group["groupName"]
        assert 1 <= group["minReplicas"] == group["replicas"] <= group["maxReplicas"]


def test_every_node_holds_its_pods_at_their_maxima(rendered, topology):
    rayservice = the(rendered, "RayService")
    cluster = rayservice["spec"]["rayClusterConfig"]
    pods = [(1, cluster["headGroupSpec"]["template"]["spec"])]
    pods += [(group["maxReplicas"], group["template"]["spec"]) for group in cluster["workerGroupSpecs"]]
    pods += [(s["spec"]["replicas"], s["spec"]["template"]["spec"]) for s in find(rendered, "StatefulSet")]
    cpu = dict.fromkeys((node.name for node in topology.nodes), 0)
    memory = dict(cpu)
    for count, spec in pods:
        (node,) = schedulable_nodes(spec, topology)
        for container in spec["containers"]:
            requests = container["resources"]["requests"]
            cpu[node] += count * cpu_millis(requests["cpu"])
            memory[node] += count * memory_mb(requests["memory"])
    for node in topology.nodes:
        assert cpu[node.name] <= node.cpus * 1000 - NODE_RESERVED_CPU_MILLIS, node.name
        assert memory[node.name] <= node.memory_mb - NODE_RESERVED_MEMORY_MB, node.name
    (ai_group,) = [g for g in cluster["workerGroupSpecs"] if g["groupName"] == "ai-workers"]
    assert ai_group["maxReplicas"] >= 2, "Serve's AI maxima are meant to spill onto a second AI pod"


def test_maxima_the_ai_node_cannot_hold_are_refused(tmp_path: Path):
    config = yaml.safe_load((REPO_ROOT / "serve_config.yaml").read_text(encoding="utf-8"))
    (normalize,) = [d for d in config["applications"][0]["deployments"] if d["name"] == "Normalize"]
    normalize["autoscaling_config"]["max_replicas"] = 12
    path = tmp_path / "serve_config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with pytest.raises(RenderError, match=r"cannot hold the pods at their maxima:\n  - node ai "):
        render_environment("prod", serve_config_path=path)
