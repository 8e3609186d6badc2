"""Which Ray pods run where, and the check that every Serve deployment can actually be placed.

The head goes to `placement.ray_head` with `num-cpus 0`: it runs the GCS, the dashboard, the
autoscaler, the Serve controller and the only HTTP proxy, and no replica. Replicas need CPUs, so
the web node also gets a worker group: one group per node that declares Ray custom resources in
`cluster.yaml`, each pod declaring that node's resources. A deployment asking for `web_node` can
then only land on the web group's pods, which Kubernetes can only put on the web node (its labels
as nodeSelector, its taints tolerated).

A group's size is derived, not chosen: `minReplicas` comes from the values, `maxReplicas` is the
number of pods that Serve's maxima on that node can ever make Ray's autoscaler start
(`pods_for_maxima`), so in-tree autoscaling adds pods as far as Serve's replica autoscaling can use
them and never beyond; `check_capacity` then checks that the node in `cluster.yaml` holds them.

`check_placement` refuses a Serve config that this layout cannot run: a deployment with no node
resource (Ray could put it anywhere), one whose resource no group declares, one that needs more
CPUs than a pod of its group offers, or pods at their maxima that the node in `cluster.yaml`
cannot hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kuberay.environment import Values
from kuberay.errors import RenderError
from kuberay.serve_config import DeploymentNeeds, ServeConfig
from kuberay.topology import Node, Topology

# With the proxy on the head only, the HTTP Service can select exactly the head pod.
REQUIRED_PROXY_LOCATION = "HeadOnly"
# What a node keeps from its `cluster.yaml` size before our pods: calico-node's CPU request, and the
# kubelet's default hard eviction threshold (100 Mi) plus the kernel's share of the machine's memory.
NODE_RESERVED_CPU_MILLIS = 250
NODE_RESERVED_MEMORY_MB = 512


@dataclass(frozen=True)
class RayGroup:
    name: str
    node: Node
    num_cpus: int
    resources: dict[str, int]
    min_replicas: int
    max_replicas: int  # what Serve's maxima on this node need (see the module docstring)
    values_key: str  # e.g. "ray.workers.ai": where this group's sizes live in the values


@dataclass(frozen=True)
class RayLayout:
    head_node: Node
    workers: tuple[RayGroup, ...]


def plan_layout(topology: Topology, values: Values, serve: ServeConfig) -> RayLayout:
    workers = []
    for node in topology.ray_worker_nodes():
        key = f"ray.workers.{node.name}"
        min_replicas = values.integer(f"{key}.min_replicas")
        num_cpus = values.integer(f"{key}.num_cpus")
        if min_replicas < 0:
            raise RenderError(f"{key}.min_replicas must be at least 0")
        if num_cpus < 1:
            raise RenderError(f"{key}.num_cpus must be at least 1 (a worker without CPUs runs no replica)")
        placed_here = [d for d in serve.deployments if set(d.resources) & set(node.ray_resources)]
        workers.append(
            RayGroup(
                name=f"{node.name}-workers",
                node=node,
                num_cpus=num_cpus,
                resources=dict(node.ray_resources),
                min_replicas=min_replicas,
                max_replicas=max(min_replicas, 1, pods_for_maxima(placed_here, num_cpus)),
                values_key=key,
            )
        )
    return RayLayout(head_node=topology.placed("ray_head"), workers=tuple(workers))


def pods_for_maxima(deployments: list[DeploymentNeeds], pod_cpus: int) -> int:
    """The most pods of `pod_cpus` CPUs that these deployments at their max_replicas can need.

    Ray's autoscaler adds a pod only for a replica that fits on no running pod, i.e. when every
    pod has less free than that replica asks, so more than `pod_cpus - largest` in use on each. With
    n pods, that cannot happen before the replicas ask for more than n * (pod_cpus - largest) in all;
    so ceil(total / (pod_cpus - largest)) pods always suffice, however the replicas were packed.
    """
    if not deployments:
        return 0
    total = sum(d.num_cpus * d.max_replicas for d in deployments)
    usable = pod_cpus - max(d.num_cpus for d in deployments)
    if usable <= 0:  # a replica may fill a pod alone
        return sum(d.max_replicas for d in deployments)
    return math.ceil(round(total / usable, 9))


def cpu_millis(quantity: str) -> int:
    """A Kubernetes CPU quantity ("500m", "1", "1.5") in millicores."""
    return int(quantity[:-1]) if quantity.endswith("m") else round(float(quantity) * 1000)


def memory_mb(quantity: str) -> int:
    """A Kubernetes memory quantity in binary units ("512Mi", "3Gi") in MiB."""
    units = {"Mi": 1, "Gi": 1024}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return round(float(quantity[: -len(suffix)]) * factor)
    raise RenderError(f"memory {quantity!r}: write it in Mi or Gi")


def check_capacity(topology: Topology, values: Values, layout: RayLayout) -> None:
    """Raise RenderError if the pods a node may run at once (groups at maxReplicas) exceed it."""
    pods: dict[str, list[tuple[int, str]]] = {node.name: [] for node in topology.nodes}
    pods[layout.head_node.name].append((1, "ray.head"))
    pods[topology.placed("postgres").name].append((1, "postgres"))
    for group in layout.workers:
        pods[group.node.name].append((group.max_replicas, group.values_key))
    problems = []
    for node in topology.nodes:
        cpu = sum(count * cpu_millis(values.text(f"{key}.cpu_request")) for count, key in pods[node.name])
        memory = sum(count * memory_mb(values.text(f"{key}.memory")) for count, key in pods[node.name])
        cpu_free = node.cpus * 1000 - NODE_RESERVED_CPU_MILLIS
        memory_free = node.memory_mb - NODE_RESERVED_MEMORY_MB
        if cpu > cpu_free or memory > memory_free:
            listed = ", ".join(f"{count} x {key}" for count, key in pods[node.name])
            problems.append(
                f"node {node.name} ({node.cpus} CPUs, {node.memory_mb} MB in cluster.yaml) leaves "
                f"{cpu_free}m CPU and {memory_free} MiB to pods, but at their maxima its pods ({listed}) "
                f"request {cpu}m and {memory} MiB"
            )
    if problems:
        raise RenderError("the cluster cannot hold the pods at their maxima:\n  - " + "\n  - ".join(problems))


def check_placement(serve: ServeConfig, layout: RayLayout) -> None:
    """Raise RenderError listing every deployment this cluster layout cannot place."""
    problems: list[str] = []
    if serve.proxy_location != REQUIRED_PROXY_LOCATION:
        problems.append(
            f"serve_config.yaml: proxy_location is {serve.proxy_location!r}; the cluster sends HTTP to "
            f"the head pod on node {layout.head_node.name!r} only, so it must be {REQUIRED_PROXY_LOCATION!r}"
        )
    declared = {name: group for group in layout.workers for name in group.resources}
    for deployment in serve.deployments:
        where = f"deployment {deployment.qualified_name}"
        if not deployment.resources:
            problems.append(
                f"{where} asks for no node resource, so Ray could place it on any node; give it one of "
                f"{sorted(declared)} in ray_actor_options.resources"
            )
            continue
        groups = {declared[name].name: declared[name] for name in deployment.resources if name in declared}
        for name in deployment.resources:
            if name not in declared:
                problems.append(
                    f"{where} asks for Ray resource {name!r}, which no Ray worker group provides; "
                    f"cluster.yaml declares {sorted(declared) or 'none'} (nodes' ray_resources)"
                )
        if len(groups) > 1:
            problems.append(
                f"{where} asks for resources of several nodes ({sorted(groups)}); no pod has them all"
            )
            continue
        if len(groups) != 1:
            continue
        group = next(iter(groups.values()))
        for name, amount in deployment.resources.items():
            if amount > group.resources[name]:
                declared_amount = group.resources[name]
                problems.append(
                    f"{where} asks for {amount} {name!r} but a {group.name} pod declares {declared_amount}"
                )
        if deployment.num_cpus > group.num_cpus:
            problems.append(
                f"{where} needs {deployment.num_cpus} CPUs per replica but a {group.name} pod offers "
                f"{group.num_cpus} ({group.values_key}.num_cpus)"
            )
    if problems:
        raise RenderError(
            "cannot place the Serve application on this cluster:\n  - " + "\n  - ".join(problems)
        )
