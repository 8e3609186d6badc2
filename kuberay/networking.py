"""How traffic reaches the app: the HTTP Service, the Ingress and the NetworkPolicies.

The Service selects the head pod only: it runs the one Serve proxy (proxy_location HeadOnly).
KubeRay's own serve Service is not used: it also selects worker pods, which run no proxy.

NetworkPolicies (enforced by Calico, see vm/): everything in the namespace is denied by default;
Ray pods talk to each other on every port but the Serve port; the Serve port accepts the ingress
controller only; the dashboard accepts the KubeRay operator only (it deploys the Serve config
through it); PostgreSQL accepts the Ray pods that hold DATABASE_URL only.
"""

from __future__ import annotations

from typing import Any

from kuberay import labels
from kuberay.environment import Values
from kuberay.postgres import PORT as POSTGRES_PORT
from kuberay.rayservice import DASHBOARD_PORT
from kuberay.serve_config import ServeConfig
from kuberay.topology import Topology

NAMESPACE_NAME = "kubernetes.io/metadata.name"


def http_service_name(values: Values) -> str:
    return f"{values.app_name}-http"


def render_http_service(values: Values, serve: ServeConfig) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": http_service_name(values),
            "namespace": values.namespace,
            "labels": {**labels.common(values), labels.COMPONENT: labels.RAY_HEAD},
        },
        "spec": {
            "type": "ClusterIP",
            "selector": labels.selector(values, labels.RAY_HEAD),
            "ports": [
                {"name": "http", "port": serve.http_port, "targetPort": serve.http_port, "protocol": "TCP"}
            ],
        },
    }


def render_ingress(values: Values, serve: ServeConfig) -> dict[str, Any]:
    host = values.optional_text("ingress.host")
    rule: dict[str, Any] = {
        "http": {
            "paths": [
                {
                    # The FastAPI ingress serves both the page at / and the API (/analysis, /history,
                    # /stats, /docs) behind one route prefix.
                    "path": "/",
                    "pathType": "Prefix",
                    "backend": {
                        "service": {"name": http_service_name(values), "port": {"number": serve.http_port}}
                    },
                }
            ]
        }
    }
    if host is not None:
        rule["host"] = host
    timeout = str(values.integer("ingress.read_timeout_seconds"))
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": values.app_name,
            "namespace": values.namespace,
            "labels": labels.common(values),
            "annotations": {
                "nginx.ingress.kubernetes.io/proxy-body-size": values.text("ingress.max_body_size"),
                "nginx.ingress.kubernetes.io/proxy-read-timeout": timeout,
                "nginx.ingress.kubernetes.io/proxy-send-timeout": timeout,
                # Uploads stream to the API, which enforces its own size limit without buffering to disk.
                "nginx.ingress.kubernetes.io/proxy-request-buffering": "off",
            },
        },
        "spec": {"ingressClassName": "nginx", "rules": [rule]},
    }


def _policy(
    values: Values, name: str, pod_selector: dict[str, Any], ingress: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": values.namespace, "labels": labels.common(values)},
        "spec": {"podSelector": pod_selector, "policyTypes": ["Ingress"], "ingress": ingress},
    }


def _from_namespace_pods(namespace: str, pod_labels: dict[str, str] | None = None) -> dict[str, Any]:
    peer: dict[str, Any] = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: namespace}}}
    if pod_labels:
        peer["podSelector"] = {"matchLabels": pod_labels}
    return peer


def render_network_policies(topology: Topology, values: Values, serve: ServeConfig) -> list[dict[str, Any]]:
    serve_port = serve.http_port
    ray_pods = labels.ray_pods_selector(values)
    head = {"matchLabels": labels.selector(values, labels.RAY_HEAD)}
    tcp_ranges_except_serve = [
        {"protocol": "TCP", "port": 1, "endPort": serve_port - 1},
        {"protocol": "TCP", "port": serve_port + 1, "endPort": 65535},
    ]
    return [
        _policy(values, "default-deny-ingress", {}, []),
        _policy(
            values,
            "ray-cluster-internal",
            ray_pods,
            [{"from": [{"podSelector": ray_pods}], "ports": tcp_ranges_except_serve}],
        ),
        _policy(
            values,
            "serve-http-from-ingress-controller",
            head,
            [
                {
                    "from": [
                        _from_namespace_pods(
                            topology.addon_namespace("ingress_nginx"),
                            {"app.kubernetes.io/name": "ingress-nginx"},
                        )
                    ],
                    "ports": [{"protocol": "TCP", "port": serve_port}],
                }
            ],
        ),
        _policy(
            values,
            "ray-dashboard-from-kuberay-operator",
            head,
            [
                {
                    "from": [_from_namespace_pods(topology.addon_namespace("kuberay_operator"))],
                    "ports": [{"protocol": "TCP", "port": DASHBOARD_PORT}],
                }
            ],
        ),
        _policy(
            values,
            "postgres-from-ray-database-clients",
            {"matchLabels": labels.selector(values, labels.POSTGRES)},
            [
                {
                    "from": [
                        {
                            "podSelector": {
                                **ray_pods,
                                "matchLabels": {labels.NAME: values.app_name, labels.DATABASE_CLIENT: "true"},
                            }
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": POSTGRES_PORT}],
                }
            ],
        ),
    ]
