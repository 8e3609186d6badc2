"""The rendered cluster as Ray itself reads it: the KubeRay autoscaler's parser for each group's
resources (the one that decides which pods to add), and Ray Serve's schema for serveConfigV2."""

from __future__ import annotations

from typing import Any

import yaml
from ray.autoscaler._private.kuberay.autoscaling_config import _get_ray_resources_from_group_spec
from ray.serve.schema import ServeDeploySchema

from tests.kuberay.conftest import the

STANDARD = {"CPU", "GPU", "TPU", "memory"}


def ray_view(rendered: Any) -> dict[str, dict[str, int]]:
    cluster = the(rendered, "RayService")["spec"]["rayClusterConfig"]
    view = {"head": _get_ray_resources_from_group_spec(cluster["headGroupSpec"], is_head=True)}
    for group in cluster["workerGroupSpecs"]:
        view[group["groupName"]] = _get_ray_resources_from_group_spec(group, is_head=False)
    return view


def test_autoscaler_sees_a_head_without_cpus_or_node_resources(rendered):
    head = ray_view(rendered)["head"]
    assert head["CPU"] == 0
    assert not set(head) - STANDARD


def test_autoscaler_sees_each_worker_group_with_its_nodes_integer_resources(rendered, topology):
    view = ray_view(rendered)
    for node in topology.ray_worker_nodes():
        group = view[f"{node.name}-workers"]
        assert {k: v for k, v in group.items() if k not in STANDARD} == node.ray_resources
        assert group["CPU"] >= 1


def test_every_replica_fits_exactly_one_kind_of_pod_in_rays_eyes(rendered):
    view = ray_view(rendered)
    config = yaml.safe_load(the(rendered, "RayService")["spec"]["serveConfigV2"])
    for app in config["applications"]:
        for deployment in app["deployments"]:
            options = deployment["ray_actor_options"]
            demand = {"CPU": options.get("num_cpus", 1), **options["resources"]}
            fitting = [
                name for name, have in view.items() if all(have.get(k, 0) >= v for k, v in demand.items())
            ]
            assert len(fitting) == 1, (deployment["name"], fitting)


def test_serve_config_v2_is_a_valid_serve_deploy_config(rendered):
    config = yaml.safe_load(the(rendered, "RayService")["spec"]["serveConfigV2"])
    schema = ServeDeploySchema.model_validate(config)
    assert schema.proxy_location.value == "HeadOnly"
    assert [app.import_path for app in schema.applications] == ["serve_app.app:app"]
