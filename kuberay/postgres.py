"""PostgreSQL for the text-only results: a one-replica StatefulSet on the node `placement.postgres`
names, its volume from the cluster's local-path storage class, and a headless Service. The password
comes from the app's Secret (kuberay/credentials.py).
"""

from __future__ import annotations

from typing import Any

from kuberay import labels
from kuberay.credentials import POSTGRES_PASSWORD_KEY, secret_env
from kuberay.environment import Values
from kuberay.rayservice import POSTGRES_SERVICE
from kuberay.topology import Topology

PORT = 5432
DATA_DIR = "/var/lib/postgresql/data"
# The official image's postgres user; it owns the data directory.
POSTGRES_UID = 999


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
                                secret_env("POSTGRES_PASSWORD", POSTGRES_PASSWORD_KEY),
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
