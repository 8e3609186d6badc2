"""The cluster topology (`cluster.yaml`), read into typed, validated objects.

`vm/Vagrantfile` reads the same file with Ruby; this module is the Python side. Everything the
manifests say about nodes (selectors, tolerations, Ray custom resources, versions, add-on
namespaces) comes from here, so a fact changed in `cluster.yaml` reaches both at once.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kuberay.errors import RenderError

TAINT_EFFECTS = frozenset({"NoSchedule", "PreferNoSchedule", "NoExecute"})


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str

    def toleration(self) -> dict[str, str]:
        """The exact toleration for this taint (Equal, so it tolerates nothing else)."""
        return {"key": self.key, "operator": "Equal", "value": self.value, "effect": self.effect}


@dataclass(frozen=True)
class Node:
    name: str
    role: str
    ip: str
    cpus: int
    memory_mb: int
    labels: dict[str, str]
    taints: tuple[Taint, ...]
    ray_resources: dict[str, int]

    def tolerations(self) -> list[dict[str, str]]:
        return [taint.toleration() for taint in self.taints]


@dataclass(frozen=True)
class Topology:
    name: str
    kubernetes_version: str
    pod_cidr: str
    nodes: tuple[Node, ...]
    placement: dict[str, str]
    addons: dict[str, dict[str, Any]]

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise RenderError(f"cluster.yaml: no node named {name!r}")

    def placed(self, role: str) -> Node:
        """The node that `placement.<role>` names (e.g. "postgres", "ray_head", "ingress")."""
        if role not in self.placement:
            raise RenderError(f"cluster.yaml: placement.{role} is missing")
        return self.node(self.placement[role])

    def ray_worker_nodes(self) -> tuple[Node, ...]:
        """Nodes that get a Ray worker group: those declaring Ray custom resources."""
        return tuple(node for node in self.nodes if node.ray_resources)

    def addon_namespace(self, addon: str) -> str:
        try:
            return str(self.addons[addon]["namespace"])
        except KeyError as exc:
            raise RenderError(f"cluster.yaml: addons.{addon}.namespace is missing") from exc

    @property
    def storage_class(self) -> str:
        return str(self.addons["local_path_provisioner"]["storage_class"])


def load_topology(path: Path) -> Topology:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RenderError(f"topology file not found: {path}") from exc
    if not isinstance(raw, dict):
        raise RenderError(f"{path}: expected a mapping at the top level")
    try:
        topology = _parse(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise RenderError(f"{path}: malformed topology ({exc!r})") from exc
    _validate(topology, path)
    return topology


def _parse(raw: dict[str, Any]) -> Topology:
    nodes = tuple(
        Node(
            name=str(item["name"]),
            role=str(item["role"]),
            ip=str(item["ip"]),
            cpus=int(item["cpus"]),
            memory_mb=int(item["memory_mb"]),
            labels={str(k): str(v) for k, v in (item.get("labels") or {}).items()},
            taints=tuple(
                Taint(key=str(t["key"]), value=str(t["value"]), effect=str(t["effect"]))
                for t in (item.get("taints") or [])
            ),
            ray_resources=dict((item.get("ray_resources") or {}).items()),
        )
        for item in raw["nodes"]
    )
    return Topology(
        name=str(raw["name"]),
        kubernetes_version=str(raw["kubernetes"]["version"]),
        pod_cidr=str(raw["network"]["pod_cidr"]),
        nodes=nodes,
        placement={str(k): str(v) for k, v in raw["placement"].items()},
        addons={str(k): dict(v) for k, v in raw["addons"].items() if isinstance(v, dict)},
    )


def _validate(topology: Topology, path: Path) -> None:
    problems: list[str] = []
    names = [node.name for node in topology.nodes]
    if len(set(names)) != len(names):
        problems.append(f"node names repeat: {names}")
    if [node.role for node in topology.nodes].count("control-plane") != 1:
        problems.append("exactly one node must have role control-plane")
    ipaddress.ip_network(topology.pod_cidr)
    for node in topology.nodes:
        ipaddress.ip_address(node.ip)
        for taint in node.taints:
            if taint.effect not in TAINT_EFFECTS:
                problems.append(
                    f"node {node.name}: taint effect {taint.effect!r} is not one of {sorted(TAINT_EFFECTS)}"
                )
        for resource, amount in node.ray_resources.items():
            # The Ray autoscaler only accepts integer node resources.
            if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
                problems.append(
                    f"node {node.name}: ray_resources.{resource} must be a positive integer, got {amount!r}"
                )
        if node.ray_resources and not node.labels:
            problems.append(f"node {node.name}: Ray pods are placed by node labels, but it has none")
    for role, name in topology.placement.items():
        if name not in names:
            problems.append(f"placement.{role} names unknown node {name!r}")
        elif not topology.node(name).labels:
            problems.append(f"placement.{role}: node {name!r} has no labels to select it by")
    owners: dict[str, str] = {}
    for node in topology.nodes:
        for resource in node.ray_resources:
            if resource in owners:
                problems.append(
                    f"Ray resource {resource!r} is declared on both {owners[resource]} and {node.name}"
                )
            owners[resource] = node.name
    if problems:
        raise RenderError(f"{path}: " + "; ".join(problems))
