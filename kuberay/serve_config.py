"""`serve_config.yaml` as the renderer sees it: the verbatim text, plus what placement needs to know.

The text goes into the RayService's `serveConfigV2` unchanged (one source for local runs and the
cluster); the parsed view only feeds the consistency checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kuberay.errors import RenderError

# Ray Serve reserves one CPU per replica unless `ray_actor_options.num_cpus` says otherwise.
DEFAULT_REPLICA_CPUS = 1.0


@dataclass(frozen=True)
class DeploymentNeeds:
    application: str
    name: str
    num_cpus: float
    resources: dict[str, float]
    max_replicas: int

    @property
    def qualified_name(self) -> str:
        return f"{self.application}/{self.name}"


@dataclass(frozen=True)
class ServeConfig:
    text: str
    proxy_location: str
    http_port: int
    deployments: tuple[DeploymentNeeds, ...]


def load_serve_config(path: Path) -> ServeConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RenderError(f"Serve config not found: {path}") from exc
    raw = yaml.safe_load(text)
    if not isinstance(raw, dict) or not raw.get("applications"):
        raise RenderError(f"{path}: not a Ray Serve config (no `applications`)")
    deployments = tuple(
        _deployment_needs(str(app.get("name", "default")), deployment, path)
        for app in raw["applications"]
        for deployment in app.get("deployments") or []
    )
    http_options = raw.get("http_options") or {}
    return ServeConfig(
        text=text,
        proxy_location=str(raw.get("proxy_location", "EveryNode")),
        http_port=int(http_options.get("port", 8000)),
        deployments=deployments,
    )


def _deployment_needs(application: str, deployment: dict[str, Any], path: Path) -> DeploymentNeeds:
    name = str(deployment["name"])
    options = deployment.get("ray_actor_options") or {}
    resources = {str(k): float(v) for k, v in (options.get("resources") or {}).items()}
    autoscaling = deployment.get("autoscaling_config")
    if autoscaling:
        max_replicas = int(autoscaling.get("max_replicas", 1))
    else:
        replicas = deployment.get("num_replicas", 1)
        if replicas == "auto":
            raise RenderError(
                f"{path}: {application}/{name}: give num_replicas a number or an autoscaling_config"
            )
        max_replicas = int(replicas)
    return DeploymentNeeds(
        application=application,
        name=name,
        num_cpus=float(options.get("num_cpus", DEFAULT_REPLICA_CPUS)),
        resources=resources,
        max_replicas=max_replicas,
    )
