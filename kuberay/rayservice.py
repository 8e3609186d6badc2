"""The RayService: the Ray cluster's pods and the Serve application (`serveConfigV2`).

Privacy: every Ray container mounts two memory-backed emptyDirs, `/tmp/ray` (Ray's temp, session,
log and default spill folders) and `/dev/shm` (the object store, forced there with
`plasma-directory`, so Ray never falls back to a disk-backed /tmp when shared memory is short).
Whatever Ray keeps of an image, in the store or spilled, lives in RAM and dies with the pod.
"""

from __future__ import annotations

import json
from typing import Any

from kuberay import labels
from kuberay.credentials import POSTGRES_PASSWORD_KEY, TOKEN_SECRET_KEY, secret_env
from kuberay.environment import Values
from kuberay.placement import RayGroup, RayLayout
from kuberay.serve_config import ServeConfig
from kuberay.topology import Node

RAY_TMP = "/tmp/ray"  # noqa: S108 - Ray's fixed temp dir, mounted from memory below
SHM = "/dev/shm"  # noqa: S108 - the object store's memory-backed folder
DASHBOARD_PORT = 8265
DASHBOARD_AGENT_PORT = 52365
POSTGRES_SERVICE = "postgres"
# The `ray` user of rayproject/ray images (and so of our Dockerfile). Numeric, because the kubelet can
# only enforce runAsNonRoot on a numeric user.
RAY_UID = 1000
RAY_GID = 100

# KubeRay's own probe commands (raylet via the dashboard agent, GCS via the dashboard), written out
# because KubeRay's default worker readiness probe also requires a Serve proxy on the pod, and with
# proxy_location HeadOnly the workers have none: they would stay NotReady for ever.
RAYLET_HEALTH = (
    f"wget -T 2 -q -O- http://localhost:{DASHBOARD_AGENT_PORT}/api/local_raylet_healthz | grep success"
)
GCS_HEALTH = f"wget -T 2 -q -O- http://localhost:{DASHBOARD_PORT}/api/gcs_healthz | grep success"


def ray_resources_param(resources: dict[str, int]) -> str:
    """`rayStartParams.resources`: a JSON object wrapped in quotes with escaped inner quotes.

    KubeRay pastes params into a shell `ray start` line, so the JSON needs its own quoting; this is
    the form KubeRay's samples use and its autoscaler parses.
    """
    return '"' + json.dumps(resources, sort_keys=True).replace('"', '\\"') + '"'


def parse_ray_resources_param(param: str) -> dict[str, Any]:
    """The inverse of `ray_resources_param` (used by the checks on rendered manifests)."""
    inner = param.strip()
    if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
        inner = inner[1:-1]
    parsed: dict[str, Any] = json.loads(inner.replace('\\"', '"'))
    return parsed


def _probe(command: str, *, failure_threshold: int, initial_delay: int) -> dict[str, Any]:
    return {
        "exec": {"command": ["bash", "-c", command]},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": 5,
        "timeoutSeconds": 2,
        "successThreshold": 1,
        "failureThreshold": failure_threshold,
    }


def _security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _memory_volumes(values: Values, object_store_mb: int) -> list[dict[str, Any]]:
    # The shm volume holds the object store plus room for Ray's own small shared segments.
    shm_mb = object_store_mb + object_store_mb // 4 + 64
    return [
        {"name": "ray-tmp", "emptyDir": {"medium": "Memory", "sizeLimit": values.text("ray.tmp_size")}},
        {"name": "ray-shm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{shm_mb}Mi"}},
    ]


def _memory_mounts() -> list[dict[str, Any]]:
    return [{"name": "ray-tmp", "mountPath": RAY_TMP}, {"name": "ray-shm", "mountPath": SHM}]


def _app_env(values: Values, *, database_client: bool) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "ENVIRONMENT", "value": values.text("app.environment")},
        {"name": "LOG_LEVEL", "value": values.text("app.log_level")},
        # Ray's own usage reporting would phone home from a privacy-first service.
        {"name": "RAY_USAGE_STATS_ENABLED", "value": "0"},
        # Serve's uvicorn must not rewrite the client address from X-Forwarded-For (it trusts
        # loopback peers by default); the app reads the header itself
        # (serve_app.settings.RaySettings.process_env).
        {"name": "FORWARDED_ALLOW_IPS", "value": ""},
        # HTTP enters through HAProxy on the head, straight to the Ingress replicas' own HTTP
        # servers, instead of Serve's Python proxy and an actor call per request (the default of
        # serve_app.settings.RaySettings.http_entry; docs/serving.md, 'Capacity').
        {"name": "RAY_SERVE_ENABLE_HA_PROXY", "value": "1"},
        {"name": "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S", "value": "2"},
    ]
    if database_client:
        user = values.text("postgres.user")
        database = values.text("postgres.database")
        env += [
            # The ingress (web side) signs access tokens; it sits behind one proxy, ingress-nginx.
            secret_env("SECURITY__TOKEN_SECRET", TOKEN_SECRET_KEY),
            {"name": "SECURITY__TRUSTED_PROXY_HOPS", "value": "1"},
            secret_env("POSTGRES_PASSWORD", POSTGRES_PASSWORD_KEY),
            {
                # $(VAR) is expanded by the kubelet from the variable above; the password is URL-safe.
                "name": "DATABASE_URL",
                "value": f"postgresql+psycopg2://{user}:$(POSTGRES_PASSWORD)@{POSTGRES_SERVICE}:5432/{database}",
            },
        ]
    return env


def _resources(values: Values, key: str) -> dict[str, Any]:
    memory = values.text(f"{key}.memory")
    return {
        "requests": {"cpu": values.text(f"{key}.cpu_request"), "memory": memory},
        "limits": {"cpu": values.text(f"{key}.cpu_limit"), "memory": memory},
    }


def _pod_spec(
    values: Values,
    node: Node,
    container: dict[str, Any],
    object_store_mb: int,
) -> dict[str, Any]:
    return {
        "nodeSelector": dict(node.labels),
        "tolerations": node.tolerations(),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RAY_UID,
            "runAsGroup": RAY_GID,
            "fsGroup": RAY_GID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": _memory_volumes(values, object_store_mb),
        # Serve drains replicas on SIGTERM; give in-flight analyses time to finish.
        "terminationGracePeriodSeconds": 60,
    }


def _image(values: Values) -> str:
    return f"{values.text('image.repository')}:{values.text('image.tag')}"


def _head_group(values: Values, node: Node, serve: ServeConfig) -> dict[str, Any]:
    object_store_mb = values.integer("ray.head.object_store_mb")
    container = {
        "name": "ray-head",
        "image": _image(values),
        "imagePullPolicy": values.text("image.pull_policy"),
        "ports": [
            {"containerPort": 6379, "name": "gcs"},
            {"containerPort": DASHBOARD_PORT, "name": "dashboard"},
            {"containerPort": 10001, "name": "client"},
            {"containerPort": serve.http_port, "name": "serve"},
        ],
        "env": _app_env(values, database_client=True),
        "resources": _resources(values, "ray.head"),
        "volumeMounts": _memory_mounts(),
        "securityContext": _security_context(),
        "readinessProbe": _probe(f"{RAYLET_HEALTH} && {GCS_HEALTH}", failure_threshold=10, initial_delay=10),
        "livenessProbe": _probe(f"{RAYLET_HEALTH} && {GCS_HEALTH}", failure_threshold=120, initial_delay=30),
    }
    return {
        "serviceType": "ClusterIP",
        "rayStartParams": {
            # No replica ever runs here: Ray sees no CPUs and no custom resources on the head.
            "num-cpus": "0",
            "dashboard-host": "0.0.0.0",  # noqa: S104 - inside the pod; NetworkPolicies guard it
            "object-store-memory": str(object_store_mb * 1024 * 1024),
            "plasma-directory": SHM,
        },
        "template": {
            "metadata": {
                "labels": {
                    **labels.common(values),
                    labels.COMPONENT: labels.RAY_HEAD,
                    labels.RAY_GROUP: "head",
                    labels.DATABASE_CLIENT: "true",
                }
            },
            "spec": _pod_spec(values, node, container, object_store_mb),
        },
    }


def _worker_group(values: Values, group: RayGroup, database_client: bool) -> dict[str, Any]:
    object_store_mb = values.integer(f"{group.values_key}.object_store_mb")
    container = {
        "name": "ray-worker",
        "image": _image(values),
        "imagePullPolicy": values.text("image.pull_policy"),
        "env": _app_env(values, database_client=database_client),
        "resources": _resources(values, group.values_key),
        "volumeMounts": _memory_mounts(),
        "securityContext": _security_context(),
        "readinessProbe": _probe(RAYLET_HEALTH, failure_threshold=10, initial_delay=10),
        "livenessProbe": _probe(RAYLET_HEALTH, failure_threshold=120, initial_delay=30),
    }
    pod_labels = {
        **labels.common(values),
        labels.COMPONENT: labels.RAY_WORKER,
        labels.RAY_GROUP: group.node.name,
    }
    if database_client:
        pod_labels[labels.DATABASE_CLIENT] = "true"
    return {
        "groupName": group.name,
        "replicas": group.min_replicas,
        "minReplicas": group.min_replicas,
        "maxReplicas": group.max_replicas,
        "rayStartParams": {
            "num-cpus": str(group.num_cpus),
            "resources": ray_resources_param(group.resources),
            "object-store-memory": str(object_store_mb * 1024 * 1024),
            "plasma-directory": SHM,
        },
        "template": {
            "metadata": {"labels": pod_labels},
            "spec": _pod_spec(values, group.node, container, object_store_mb),
        },
    }


def render_rayservice(values: Values, serve: ServeConfig, layout: RayLayout) -> dict[str, Any]:
    # The web side (the head's node: the ingress and the result writer) holds the database URL and
    # the token key, and only it may reach PostgreSQL; the AI workers never see either.
    web_node = layout.head_node.name
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": {"name": values.app_name, "namespace": values.namespace, "labels": labels.common(values)},
        "spec": {
            "serveConfigV2": serve.text,
            "rayClusterConfig": {
                "rayVersion": values.text("ray.version"),
                "enableInTreeAutoscaling": True,
                "autoscalerOptions": {
                    "upscalingMode": values.text("ray.autoscaler.upscaling_mode"),
                    "idleTimeoutSeconds": values.integer("ray.autoscaler.idle_timeout_seconds"),
                    "securityContext": _security_context(),
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "256Mi"},
                        "limits": {"cpu": "500m", "memory": "512Mi"},
                    },
                },
                "headGroupSpec": _head_group(values, layout.head_node, serve),
                "workerGroupSpecs": [
                    _worker_group(values, group, database_client=group.node.name == web_node)
                    for group in layout.workers
                ],
            },
        },
    }
