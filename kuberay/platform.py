"""The namespace, the PodDisruptionBudgets and the Argo CD Application."""

from __future__ import annotations

from typing import Any

from kuberay import labels
from kuberay.environment import Values
from kuberay.placement import RayLayout
from kuberay.topology import Topology


def render_namespace(values: Values) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": values.namespace,
            "labels": {
                **labels.common(values),
                # Ray's operator-injected containers are not all "restricted"-clean, so enforce
                # "baseline" and report anything short of "restricted".
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
            },
        },
    }


def _pdb(values: Values, name: str, selector: dict[str, str], min_available: int) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": values.namespace, "labels": labels.common(values)},
        "spec": {
            "minAvailable": min_available,
            "selector": {"matchLabels": selector},
            # A crash-looping pod must not block a node drain.
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }


def render_disruption_budgets(values: Values, layout: RayLayout) -> list[dict[str, Any]]:
    budgets = [
        _pdb(
            values,
            "ray-head",
            labels.selector(values, labels.RAY_HEAD),
            values.integer("disruption.head_min_available"),
        ),
        _pdb(
            values,
            "postgres",
            labels.selector(values, labels.POSTGRES),
            values.integer("disruption.postgres_min_available"),
        ),
    ]
    for group in layout.workers:
        budgets.append(
            _pdb(
                values,
                f"ray-{group.name}",
                labels.selector(values, labels.RAY_WORKER, **{labels.RAY_GROUP: group.node.name}),
                values.integer(f"disruption.{group.node.name}_workers_min_available"),
            )
        )
    return budgets


def render_argocd_application(topology: Topology, values: Values) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            # Named after the namespace it fills: one Application per environment.
            "name": values.namespace,
            "namespace": topology.addon_namespace("argocd"),
            "labels": labels.common(values),
        },
        "spec": {
            "project": values.text("argocd.project"),
            "source": {
                "repoURL": values.text("argocd.repo_url"),
                "targetRevision": values.text("argocd.target_revision"),
                "path": values.text("argocd.path"),
                "directory": {"recurse": False},
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": values.namespace},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                # The namespace is one of the rendered manifests; the Secret is created by hand.
                "syncOptions": ["CreateNamespace=false", "ServerSideApply=true"],
            },
        },
    }
