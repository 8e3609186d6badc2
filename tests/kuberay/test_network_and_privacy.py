"""Who can reach what (the NetworkPolicies, evaluated the way Kubernetes does), where the HTTP traffic
goes, and that Ray's temp, spill and object-store folders are memory, never a disk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kuberay.rayservice import RAY_TMP, SHM
from tests.kuberay.conftest import find, ray_pod_templates, the

INGRESS_NS = "ingress-nginx"


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, Any]

    @property
    def namespace_labels(self) -> dict[str, Any]:
        return {"kubernetes.io/metadata.name": self.namespace}


def matches(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    if not all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        present = expression["key"] in labels
        value = labels.get(expression["key"])
        operator = expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def peer_admits(peer: dict[str, Any], source: Pod, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        if not matches(peer["namespaceSelector"], source.namespace_labels):
            return False
    elif source.namespace != policy_namespace:
        return False
    return "podSelector" not in peer or matches(peer["podSelector"], source.labels)


def port_admits(ports: list[dict[str, Any]] | None, port: int) -> bool:
    if not ports:
        return True
    return any(p["port"] <= port <= p.get("endPort", p["port"]) for p in ports)


def allowed(policies: list[dict[str, Any]], source: Pod, target: Pod, port: int) -> bool:
    """Kubernetes semantics: isolated if any policy selects the target; then some rule must admit."""
    selecting = [p for p in policies if matches(p["spec"]["podSelector"], target.labels)]
    if not selecting:
        return True
    return any(
        peer_admits(peer, source, policy["metadata"]["namespace"]) and port_admits(rule.get("ports"), port)
        for policy in selecting
        for rule in policy["spec"].get("ingress") or []
        for peer in rule.get("from") or []
    )


def app_pods(rendered) -> dict[str, Pod]:
    namespace = the(rendered, "Namespace")["metadata"]["name"]
    pods = {
        name: Pod(namespace, t["metadata"]["labels"])
        for name, t in ray_pod_templates(the(rendered, "RayService")).items()
    }
    pods["postgres"] = Pod(namespace, the(rendered, "StatefulSet")["spec"]["template"]["metadata"]["labels"])
    pods["stranger-in-namespace"] = Pod(namespace, {"app": "debug-shell"})
    pods["ingress-controller"] = Pod(INGRESS_NS, {"app.kubernetes.io/name": "ingress-nginx"})
    pods["other-pod-in-ingress-namespace"] = Pod(INGRESS_NS, {"app.kubernetes.io/name": "something-else"})
    pods["kuberay-operator"] = Pod("kuberay-system", {"app.kubernetes.io/name": "kuberay-operator"})
    return pods


def test_only_ray_database_clients_reach_postgres(rendered):
    policies = find(rendered, "NetworkPolicy")
    pods = app_pods(rendered)
    admitted = {name for name, pod in pods.items() if allowed(policies, pod, pods["postgres"], 5432)}
    assert admitted == {"head", "web-workers"}


def test_only_the_ingress_controller_reaches_the_serve_port(rendered):
    policies = find(rendered, "NetworkPolicy")
    pods = app_pods(rendered)
    for target in ("head", "web-workers", "ai-workers"):
        admitted = {name for name, pod in pods.items() if allowed(policies, pod, pods[target], 8000)}
        assert admitted == ({"ingress-controller"} if target == "head" else set()), target


def test_ray_pods_reach_each_other_and_the_operator_reaches_only_the_dashboard(rendered):
    policies = find(rendered, "NetworkPolicy")
    pods = app_pods(rendered)
    for source in ("head", "web-workers", "ai-workers"):
        for target in ("head", "web-workers", "ai-workers"):
            assert allowed(policies, pods[source], pods[target], 6379)
            assert allowed(policies, pods[source], pods[target], 20000)
    assert allowed(policies, pods["kuberay-operator"], pods["head"], 8265)
    assert not allowed(policies, pods["kuberay-operator"], pods["ai-workers"], 8265)
    assert not allowed(policies, pods["stranger-in-namespace"], pods["head"], 6379)
    assert not allowed(policies, pods["ingress-controller"], pods["head"], 8265)


def test_ingress_routes_everything_to_the_head_pods_serve_port(rendered):
    ingress = the(rendered, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    backend = path["backend"]["service"]
    service = the(rendered, "Service", backend["name"])
    assert backend["port"]["number"] == service["spec"]["ports"][0]["port"] == 8000
    templates = ray_pod_templates(the(rendered, "RayService"))
    selected = {
        name
        for name, t in templates.items()
        if matches({"matchLabels": service["spec"]["selector"]}, t["metadata"]["labels"])
    }
    assert selected == {"head"}
    head_ports = templates["head"]["spec"]["containers"][0]["ports"]
    assert {"containerPort": 8000, "name": "serve"} in head_ports


def test_every_disruption_budget_selects_pods(rendered):
    templates = [t["metadata"]["labels"] for t in ray_pod_templates(the(rendered, "RayService")).values()]
    templates.append(the(rendered, "StatefulSet")["spec"]["template"]["metadata"]["labels"])
    budgets = find(rendered, "PodDisruptionBudget")
    assert len(budgets) == len(templates)
    for budget in budgets:
        assert sum(matches(budget["spec"]["selector"], labels) for labels in templates) == 1, budget[
            "metadata"
        ]["name"]


def test_ray_temp_spill_and_object_store_live_in_memory(rendered):
    for name, template in ray_pod_templates(the(rendered, "RayService")).items():
        spec = template["spec"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        (container,) = spec["containers"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        for path in (RAY_TMP, SHM):
            assert volumes[mounts[path]]["emptyDir"]["medium"] == "Memory", (name, path)
        assert all(v.get("emptyDir", {}).get("medium") == "Memory" for v in volumes.values()), name
    cluster = the(rendered, "RayService")["spec"]["rayClusterConfig"]
    for params in [
        cluster["headGroupSpec"]["rayStartParams"],
        *(g["rayStartParams"] for g in cluster["workerGroupSpecs"]),
    ]:
        assert params["plasma-directory"] == SHM
        assert "temp-dir" not in params  # Ray's default /tmp/ray, the memory mount


def test_memory_volumes_fit_within_the_container_memory_limit(rendered):
    def mebibytes(quantity: str) -> int:
        return int(quantity[:-2]) * (1024 if quantity.endswith("Gi") else 1)

    for name, template in ray_pod_templates(the(rendered, "RayService")).items():
        spec = template["spec"]
        limit = mebibytes(spec["containers"][0]["resources"]["limits"]["memory"])
        in_memory = sum(mebibytes(v["emptyDir"]["sizeLimit"]) for v in spec["volumes"])
        assert in_memory < limit, name


def test_credentials_are_referenced_never_written_into_synced_manifests(rendered):
    secret = the(rendered, "Secret")
    synced_text = repr(rendered.all_synced()) + repr(rendered.argocd)
    for value in secret["stringData"].values():
        assert len(value.encode()) >= 32
        assert value not in synced_text
    head = ray_pod_templates(the(rendered, "RayService"))["head"]["spec"]["containers"][0]
    env = {e["name"]: e for e in head["env"]}
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == secret["metadata"]["name"]
    assert env["SECURITY__TOKEN_SECRET"]["valueFrom"]["secretKeyRef"]["key"] in secret["stringData"]
    postgres = the(rendered, "StatefulSet")["spec"]["template"]["spec"]["containers"][0]
    (postgres_password,) = [e for e in postgres["env"] if e["name"] == "POSTGRES_PASSWORD"]
    assert postgres_password["valueFrom"] == env["POSTGRES_PASSWORD"]["valueFrom"]
    assert "$(POSTGRES_PASSWORD)@postgres:5432/" in env["DATABASE_URL"]["value"]
    ai = ray_pod_templates(the(rendered, "RayService"))["ai-workers"]["spec"]["containers"][0]
    assert "DATABASE_URL" not in {e["name"] for e in ai["env"]}


def test_every_container_has_requests_limits_probes_and_runs_unprivileged(rendered):
    specs = [t["spec"] for t in ray_pod_templates(the(rendered, "RayService")).values()]
    specs.append(the(rendered, "StatefulSet")["spec"]["template"]["spec"])
    for spec in specs:
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] > 0  # numeric, or the kubelet refuses to start it
        for container in spec["containers"]:
            resources = container["resources"]
            assert {"cpu", "memory"} <= resources["requests"].keys() and {"cpu", "memory"} <= resources[
                "limits"
            ].keys()
            assert resources["requests"]["memory"] == resources["limits"]["memory"], container["name"]
            assert container["readinessProbe"] and container["livenessProbe"], container["name"]
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_the_serve_proxy_never_takes_the_client_address_from_x_forwarded_for(rendered):
    # The app reads the one entry ingress-nginx writes (SECURITY__TRUSTED_PROXY_HOPS=1); uvicorn in
    # Serve's proxy must leave the socket peer alone, or a loopback peer could name any address.
    for name, template in ray_pod_templates(the(rendered, "RayService")).items():
        env = {e["name"]: e.get("value") for e in template["spec"]["containers"][0]["env"]}
        assert env["FORWARDED_ALLOW_IPS"] == "", name
        # HTTP enters through HAProxy straight to the Ingress replicas (RaySettings.http_entry).
        assert env["RAY_SERVE_ENABLE_HA_PROXY"] == "1", name
    head = ray_pod_templates(the(rendered, "RayService"))["head"]["spec"]["containers"][0]
    assert {e["name"]: e.get("value") for e in head["env"]}["SECURITY__TRUSTED_PROXY_HOPS"] == "1"
