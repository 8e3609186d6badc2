"""serve_config.yaml: valid Serve schema, every deployment placed and sized to fit two cores."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from ray.serve.schema import ServeDeploySchema

from serve_app.local import SERVE_CONFIG

WEB = {"Ingress", "ResultWriter"}
AI = {"Normalize", "Landmark", "Classify"}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SERVE_CONFIG.read_text())
    return loaded


def deployments(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in config["applications"][0]["deployments"]}


def test_is_valid_serve_schema_importing_the_graph(config):
    schema = ServeDeploySchema.model_validate(config)
    assert schema.applications[0].import_path == "serve_app.app:app"
    assert schema.proxy_location.value == "HeadOnly"


def test_every_deployment_is_placed_on_its_node(config):
    placed = deployments(config)
    assert set(placed) == WEB | AI
    for name, deployment in placed.items():
        resources = deployment["ray_actor_options"]["resources"]
        assert resources == {"web_node" if name in WEB else "ai_node": 0.01}


def test_ai_deployments_autoscale_with_bounded_concurrency(config):
    placed = deployments(config)
    for name in AI:
        autoscaling = placed[name]["autoscaling_config"]
        assert 1 <= autoscaling["min_replicas"] <= autoscaling["max_replicas"]
        assert autoscaling["target_ongoing_requests"] <= placed[name]["max_ongoing_requests"]


def test_worst_case_cpu_budget_fits_two_cores(config):
    total = 0.0
    for deployment in deployments(config).values():
        cpus = deployment["ray_actor_options"]["num_cpus"]
        assert 0 < cpus < 1
        fixed = deployment.get("num_replicas", 1)
        replicas = deployment.get("autoscaling_config", {}).get("max_replicas", fixed)
        total += cpus * replicas
    assert total <= 2.0
