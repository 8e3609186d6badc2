"""Which Ray pods run where, and the check that every Serve deployment can actually be placed.

The head goes to `placement.ray_head` with `num-cpus 0`: it runs the GCS, the dashboard, the
autoscaler, the Serve controller and the only HTTP proxy, and no replica. Replicas need CPUs, so
the web node also gets a worker group: one group per node that declares Ray custom resources in
`cluster.yaml`, each pod declaring that node's resources. A deployment asking for `web_node` can
then only land on the web group's pods, which Kubernetes can only put on the web node (its labels
as nodeSelector, its taints tolerated).

`check_placement` refuses a Serve config that this layout cannot run: a deployment with no node
resource (Ray could put it anywhere), one whose resource no group declares, one that needs more
CPUs than a pod of its group offers, or maxima that do not fit the group's largest size.
"""

from __future__ import annotations

from dataclasses import dataclass

from kuberay.environment import Values
from kuberay.errors import RenderError
from kuberay.serve_config import ServeConfig
from kuberay.topology import Node, Topology

# With the proxy on the head only, the HTTP Service can select exactly the head pod.
REQUIRED_PROXY_LOCATION = "HeadOnly"


@dataclass(frozen=True)
class RayGroup:
    name: str
    node: Node
    num_cpus: int
    resources: dict[str, int]
    min_replicas: int
    max_replicas: int
    values_key: str  # e.g. "ray.workers.ai": where this group's sizes live in the values

    @property
    def max_cpus(self) -> int:
        return self.num_cpus * self.max_replicas


@dataclass(frozen=True)
class RayLayout:
    head_node: Node
    workers: tuple[RayGroup, ...]


def plan_layout(topology: Topology, values: Values) -> RayLayout:
    workers = []
    for node in topology.ray_worker_nodes():
        key = f"ray.workers.{node.name}"
        min_replicas = values.integer(f"{key}.min_replicas")
        max_replicas = values.integer(f"{key}.max_replicas")
        num_cpus = values.integer(f"{key}.num_cpus")
        if not 0 <= min_replicas <= max_replicas or max_replicas < 1:
            raise RenderError(f"{key}: need 0 <= min_replicas <= max_replicas and max_replicas >= 1")
        if num_cpus < 1:
            raise RenderError(f"{key}.num_cpus must be at least 1 (a worker without CPUs runs no replica)")
        workers.append(
            RayGroup(
                name=f"{node.name}-workers",
                node=node,
                num_cpus=num_cpus,
                resources=dict(node.ray_resources),
                min_replicas=min_replicas,
                max_replicas=max_replicas,
                values_key=key,
            )
        )
    return RayLayout(head_node=topology.placed("ray_head"), workers=tuple(workers))


def check_placement(serve: ServeConfig, layout: RayLayout) -> None:
    """Raise RenderError listing every deployment this cluster layout cannot place."""
    problems: list[str] = []
    if serve.proxy_location != REQUIRED_PROXY_LOCATION:
        problems.append(
            f"serve_config.yaml: proxy_location is {serve.proxy_location!r}; the cluster sends HTTP to "
            f"the head pod on node {layout.head_node.name!r} only, so it must be {REQUIRED_PROXY_LOCATION!r}"
        )
    declared = {name: group for group in layout.workers for name in group.resources}
    cpu_demand: dict[str, float] = {group.name: 0.0 for group in layout.workers}
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
        cpu_demand[group.name] += deployment.num_cpus * deployment.max_replicas
    for group in layout.workers:
        if cpu_demand[group.name] > group.max_cpus:
            problems.append(
                f"at their max_replicas the deployments on {group.node.name} need "
                f"{cpu_demand[group.name]:g} CPUs but {group.name} offers {group.max_cpus} "
                f"({group.max_replicas} pods x {group.num_cpus}); raise {group.values_key}.max_replicas"
            )
    if problems:
        raise RenderError(
            "cannot place the Serve application on this cluster:\n  - " + "\n  - ".join(problems)
        )
