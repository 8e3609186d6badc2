"""Label keys and selectors shared by the manifests, so a NetworkPolicy, a PodDisruptionBudget and a
Service select pods by exactly the labels their templates carry."""

from __future__ import annotations

from kuberay.environment import Values

NAME = "app.kubernetes.io/name"
COMPONENT = "app.kubernetes.io/component"
PART_OF = "app.kubernetes.io/part-of"
MANAGED_BY = "app.kubernetes.io/managed-by"
ENVIRONMENT = "personal-color/environment"
RAY_GROUP = "personal-color/ray-group"
# Pods allowed to open connections to PostgreSQL (NetworkPolicy) and given DATABASE_URL.
DATABASE_CLIENT = "personal-color/database-client"

RAY_HEAD = "ray-head"
RAY_WORKER = "ray-worker"
POSTGRES = "postgres"
RAY_COMPONENTS = (RAY_HEAD, RAY_WORKER)


def common(values: Values) -> dict[str, str]:
    return {
        NAME: values.app_name,
        PART_OF: values.app_name,
        MANAGED_BY: "kuberay-render",
        ENVIRONMENT: values.environment,
    }


def selector(values: Values, component: str, **extra: str) -> dict[str, str]:
    """The minimal labels that pick one component's pods of this app."""
    return {NAME: values.app_name, COMPONENT: component, **extra}


def ray_pods_selector(values: Values) -> dict[str, object]:
    """A LabelSelector for every Ray pod of this app (head and workers)."""
    return {
        "matchLabels": {NAME: values.app_name},
        "matchExpressions": [{"key": COMPONENT, "operator": "In", "values": list(RAY_COMPONENTS)}],
    }
