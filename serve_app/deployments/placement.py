"""Which node a replica runs on, expressed as Ray custom resources.

A replica asks for a small amount of its node's resource (`web_node` for HTTP-facing deployments,
`ai_node` for the models); each node declares a large integer of its own resource. Resources are only
added when a name is configured, so the same code runs on a plain laptop Ray (names set empty) and on
the two-node cluster.

`serve_config.yaml` is written with the default names; `with_node_resources` renames them to the
configured ones before a deploy, so one file serves every set-up.
"""

from __future__ import annotations

import copy
from typing import Any

from serve_app.settings import RaySettings

DEFAULT_WEB_RESOURCE = "web_node"
DEFAULT_AI_RESOURCE = "ai_node"


def actor_options(num_cpus: float, node_resource: str, ray: RaySettings) -> dict[str, Any]:
    """`ray_actor_options` for a replica on the node that declares `node_resource` (if configured)."""
    options: dict[str, Any] = {"num_cpus": num_cpus}
    if node_resource:
        options["resources"] = {node_resource: ray.resource_per_replica}
    return options


def with_node_resources(serve_config: dict[str, Any], ray: RaySettings) -> dict[str, Any]:
    """A copy of a Serve config whose default resource names are replaced by the configured ones.

    A configured empty name drops the request, so replicas schedule on any node.
    """
    renames = {DEFAULT_WEB_RESOURCE: ray.web_resource, DEFAULT_AI_RESOURCE: ray.ai_resource}
    config = copy.deepcopy(serve_config)
    for application in config.get("applications", []):
        for deployment in application.get("deployments", []):
            options = deployment.get("ray_actor_options") or {}
            resources = options.get("resources")
            if not resources:
                continue
            renamed = {renames.get(name, name): amount for name, amount in resources.items()}
            options["resources"] = {name: amount for name, amount in renamed.items() if name}
    return config
