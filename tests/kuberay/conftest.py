"""Rendered environments and the inputs they came from, built once per test session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kuberay.render import DEFAULT_SERVE_CONFIG, DEFAULT_TOPOLOGY, Rendered, render_environment
from kuberay.topology import Topology, load_topology

REPO_ROOT = Path(__file__).resolve().parents[2]
# Credentials are generated per render; comparisons between environments fix them.
FIXED_SECRETS = {"postgres-password": "same-for-comparison", "token-secret": "same-for-comparison"}


@pytest.fixture(scope="session")
def topology() -> Topology:
    return load_topology(DEFAULT_TOPOLOGY)


@pytest.fixture(scope="session")
def serve_config_text() -> str:
    return DEFAULT_SERVE_CONFIG.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def serve_config(serve_config_text: str) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(serve_config_text)
    return config


@pytest.fixture(scope="session", params=["dev", "prod"])
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return render_environment(request.param)


@pytest.fixture(scope="session")
def rendered_dev() -> Rendered:
    return render_environment("dev", secret_data=FIXED_SECRETS)


@pytest.fixture(scope="session")
def rendered_prod() -> Rendered:
    return render_environment("prod", secret_data=FIXED_SECRETS)


def find(rendered: Rendered, kind: str, name: str | None = None) -> list[dict[str, Any]]:
    docs = [*rendered.all_synced(), *rendered.argocd, *rendered.secrets]
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def the(rendered: Rendered, kind: str, name: str | None = None) -> dict[str, Any]:
    matches = find(rendered, kind, name)
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
    return matches[0]


def ray_pod_templates(rayservice: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Group name ("head" for the head) -> pod template, from a rendered RayService."""
    cluster = rayservice["spec"]["rayClusterConfig"]
    templates = {"head": cluster["headGroupSpec"]["template"]}
    for group in cluster["workerGroupSpecs"]:
        templates[group["groupName"]] = group["template"]
    return templates
