"""PostgreSQL for the text-only results: a one-replica StatefulSet on the node `placement.postgres`
names, its volume from the cluster's local-path storage class, a headless Service, and the Secret.

The Secret is rendered apart from the synced manifests (`secrets/`, git-ignored): its password is
generated at render time and must never be committed. Create it once with `kubectl create`; a
second `create` fails instead of changing the password under an initialised data directory.
"""

from __future__ import annotations

import secrets
from typing import Any

from kuberay import labels
from kuberay.environment import Values
from kuberay.rayservice import POSTGRES_SECRET, POSTGRES_SERVICE
from kuberay.topology import Topology

PORT = 5432
DATA_DIR = "/var/lib/postgresql/data"
# The official image's postgres user; it owns the data directory.
POSTGRES_UID = 999


def render_secret(values: Values, password: str | None = None) -> dict[str, Any]:
    # token_hex keeps the password URL-safe: DATABASE_URL embeds it unescaped.
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": POSTGRES_SECRET,
            "namespace": values.namespace,
            "labels": {**labels.common(values), labels.COMPONENT: labels.POSTGRES},
        },
        "type": "Opaque",
        "stringData": {"password": password or secrets.token_hex(24)},
    }


def render_service(values: Values) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": POSTGRES_SERVICE,
            "namespace": values.namespace,
            "labels": {**labels.common(values), labels.COMPONENT: labels.POSTGRES},
        },
        "spec": {
            "clusterIP": "None",
            "selector": labels.selector(values, labels.POSTGRES),
            "ports": [{"name": "postgres", "port": PORT, "targetPort": "postgres"}],
        },
    }


def render_statefulset(topology: Topology, values: Values) -> dict[str, Any]:
    node = topology.placed("postgres")
    user = values.text("postgres.user")
    database = values.text("postgres.database")
    ready = ["pg_isready", "--host", "127.0.0.1", "--username", user, "--dbname", database]
    memory = values.text("postgres.memory")
    pod_labels = {**labels.common(values), labels.COMPONENT: labels.POSTGRES}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "postgres", "namespace": values.namespace, "labels": pod_labels},
        "spec": {
            "serviceName": POSTGRES_SERVICE,
            "replicas": 1,
            "selector": {"matchLabels": labels.selector(values, labels.POSTGRES)},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "nodeSelector": dict(node.labels),
                    "tolerations": node.tolerations(),
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": POSTGRES_UID,
                        "runAsGroup": POSTGRES_UID,
                        "fsGroup": POSTGRES_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "terminationGracePeriodSeconds": 60,
                    "containers": [
                        {
                            "name": "postgres",
                            "image": values.text("postgres.image"),
                            "ports": [{"name": "postgres", "containerPort": PORT}],
                            "env": [
                                {"name": "POSTGRES_USER", "value": user},
                                {"name": "POSTGRES_DB", "value": database},
                                {
                                    "name": "POSTGRES_PASSWORD",
                                    "valueFrom": {
                                        "secretKeyRef": {"name": POSTGRES_SECRET, "key": "password"}
                                    },
                                },
                                # A subdirectory: the volume's root may hold lost+found.
                                {"name": "PGDATA", "value": f"{DATA_DIR}/pgdata"},
                            ],
                            "resources": {
                                "requests": {"cpu": values.text("postgres.cpu_request"), "memory": memory},
                                "limits": {"cpu": values.text("postgres.cpu_limit"), "memory": memory},
                            },
                            "readinessProbe": {
                                "exec": {"command": ready},
                                "periodSeconds": 5,
                                "timeoutSeconds": 3,
                                "failureThreshold": 6,
                            },
                            "livenessProbe": {
                                "exec": {"command": ready},
                                "initialDelaySeconds": 30,
                                "periodSeconds": 10,
                                "timeoutSeconds": 5,
                                "failureThreshold": 6,
                            },
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "volumeMounts": [
                                {"name": "data", "mountPath": DATA_DIR},
                                {"name": "run", "mountPath": "/var/run/postgresql"},
                            ],
                        }
                    ],
                    "volumes": [{"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}}],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data", "labels": pod_labels},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": topology.storage_class,
                        "resources": {"requests": {"storage": values.text("postgres.storage")}},
                    },
                }
            ],
        },
    }
