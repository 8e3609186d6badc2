"""A multi-node Ray cluster on this machine, one `ray start` process per Ray pod of the rendered RayService.

The session's own Ray (`tests/support/ray_cluster.py`) lives inside the pytest process, and a process can
drive only one Ray, so this cluster is made of separate processes: `ray start --head --block` for the
head pod and `ray start --address ... --block` for each worker pod, each started with its group's
`rayStartParams` exactly as `kuberay/` renders them (CPUs, custom resources, object store size and its
/dev/shm directory). Only what a pod gets from Kubernetes is chosen here: free ports instead of the pod's
fixed ones, the dashboard on 127.0.0.1 instead of the pod's interfaces, and one temp dir for the whole
cluster (Ray lets only the head choose it), in /dev/shm like the pods' memory-backed /tmp/ray.

The pytest process talks to the cluster only over HTTP: Serve's REST API to deploy, Ray's state API
(`ray.util.state` with the dashboard's address, no driver needed) to read placement, the app itself.

Every raylet runs in a session of its own, so one pod can be stopped alone by signalling its process
group. Never `ray stop`: it stops every Ray on the machine, other people's included.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from ray.util.state import list_actors, list_nodes

from kuberay.rayservice import parse_ray_resources_param
from serve_app.local import haproxy_side_ports
from tests.support.ray_cluster import HTTP_HOST, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
RAY = str(Path(sys.executable).with_name("ray"))
HEAD = "head"
MEMORY_FS = Path("/dev/shm")  # memory, like the pods' /tmp/ray emptyDir
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class RayPod:
    """One Ray pod of the RayService: its group ("head" or a worker group's name) and start params."""

    group: str
    params: dict[str, str]

    @property
    def resources(self) -> dict[str, Any]:
        """The custom resources the pod declares (none for the head)."""
        return parse_ray_resources_param(self.params["resources"]) if "resources" in self.params else {}


def rayservice_pods(rayservice: dict[str, Any]) -> list[RayPod]:
    """The head and each worker group's initial pods (`replicas`), as KubeRay would create them."""
    cluster = rayservice["spec"]["rayClusterConfig"]
    pods = [RayPod(HEAD, dict(cluster["headGroupSpec"]["rayStartParams"]))]
    for group in cluster["workerGroupSpecs"]:
        pods += [RayPod(group["groupName"], dict(group["rayStartParams"]))] * int(group["replicas"])
    return pods


def ray_start_flags(params: dict[str, str]) -> list[str]:
    """`rayStartParams` as `ray start` flags, the way KubeRay turns them into the pod's command."""
    flags: list[str] = []
    for name, value in params.items():
        if name == "resources":
            value = json.dumps(parse_ray_resources_param(value))  # the shell quoting KubeRay needs
        elif name == "dashboard-host":
            value = HTTP_HOST  # the pod listens on its own interfaces; this machine is shared
        flags += [f"--{name}", value]
    return flags


@dataclass
class _Raylet:
    group: str
    process: subprocess.Popen[bytes]


@dataclass
class LocalRayCluster:
    """The running cluster. Start with `LocalRayCluster.running(rayservice)`; stop pods by group."""

    pods: list[RayPod]
    temp_dir: Path
    gcs_port: int
    dashboard_port: int
    env: dict[str, str]
    raylets: list[_Raylet] = field(default_factory=list)
    _last_error: Exception | None = field(default=None, init=False, repr=False)

    @property
    def dashboard_url(self) -> str:
        return f"http://{HTTP_HOST}:{self.dashboard_port}"

    @property
    def gcs_address(self) -> str:
        return f"{HTTP_HOST}:{self.gcs_port}"

    @classmethod
    @contextlib.contextmanager
    def running(cls, rayservice: dict[str, Any]) -> Iterator[LocalRayCluster]:
        """Start every pod, wait until all have joined, and tear everything down on exit (even on failure)."""
        temp_root = MEMORY_FS if MEMORY_FS.is_dir() else None
        cluster = cls(
            pods=rayservice_pods(rayservice),
            # Short: Ray's Unix socket paths inside it must stay under 108 bytes.
            temp_dir=Path(tempfile.mkdtemp(prefix="raypods-", dir=temp_root)),
            gcs_port=free_port(),
            dashboard_port=free_port(),
            env=_cluster_env(rayservice),
        )
        try:
            cluster._start_head()
            for group in dict.fromkeys(pod.group for pod in cluster.pods if pod.group != HEAD):
                cluster.start_group(group)
            yield cluster
        finally:
            cluster._close()

    # --- pods -----------------------------------------------------------------------------------

    def _start_head(self) -> None:
        (head,) = [pod for pod in self.pods if pod.group == HEAD]
        self._launch(
            HEAD,
            [
                "--head",
                "--port",
                str(self.gcs_port),
                "--temp-dir",
                str(self.temp_dir),
                "--dashboard-port",
                str(self.dashboard_port),
                "--ray-client-server-port",
                str(free_port()),
                # As `serve_app.local` does for the session's Ray: no spilling, so no photo is written out.
                "--system-config",
                json.dumps({"automatic_object_spilling_enabled": False}),
                *ray_start_flags(head.params),
            ],
        )
        self._wait_for_nodes(1, known=set())

    def start_group(self, group: str) -> None:
        """Start the group's pods (again) and wait until they have joined the cluster."""
        pods = [pod for pod in self.pods if pod.group == group]
        assert pods, f"no Ray group {group!r}"
        # One pod after the other: two raylets of one machine registering at the same moment time
        # out in the GCS ("The current node timed out during startup"). A restarted pod is a new
        # node: wait for new ids.
        for pod in pods:
            known = set(self.nodes())
            self._launch(group, ["--address", self.gcs_address, *ray_start_flags(pod.params)])
            self._wait_for_nodes(1, known)

    def stop_group(self, group: str, signum: signal.Signals = signal.SIGKILL) -> None:
        """Stop the group's raylets and everything they started (SIGKILL: a node lost without notice)."""
        mine = [raylet for raylet in self.raylets if raylet.group == group]
        assert mine, f"no running Ray group {group!r}"
        for raylet in mine:
            _signal_group(raylet.process, signum)
        for raylet in mine:
            _wait_or_kill(raylet.process)
            self.raylets.remove(raylet)

    def _launch(self, group: str, flags: list[str]) -> None:
        log = (self.temp_dir / f"ray-start-{group}-{len(self.raylets)}.log").open("wb")
        with log:
            process = subprocess.Popen(
                [RAY, "start", "--block", "--disable-usage-stats", *self._private_ports(), *flags],
                env=self.env,
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped without touching anyone else
            )
        self.raylets.append(_Raylet(group, process))

    @staticmethod
    def _private_ports() -> list[str]:
        # Fixed by default (52365 for the agent), which two raylets on one machine cannot share.
        return ["--dashboard-agent-listen-port", str(free_port()), "--metrics-export-port", str(free_port())]

    def _close(self) -> None:
        for raylet in reversed(self.raylets):  # the head (and its GCS) told last
            _signal_group(raylet.process, signal.SIGTERM)
        for raylet in reversed(self.raylets):
            _wait_or_kill(raylet.process)
        self.raylets.clear()
        _forget_cluster_pointer(self.gcs_port)
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    # --- what Ray reports -----------------------------------------------------------------------

    def _wait_for_nodes(self, count: int, known: set[str]) -> None:
        """Wait until `count` nodes not in `known` are alive (a restarted pod is a new node)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                alive = {node_id for node_id, node in self.nodes().items() if node.state == "ALIVE"}
                if len(alive - known) >= count:
                    return
            except Exception as error:  # the dashboard is not up yet
                self._last_error = error
            exited = [r for r in self.raylets if r.process.poll() is not None]
            if exited or time.monotonic() > deadline:
                logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in self.temp_dir.glob("*.log"))
                raise RuntimeError(
                    f"{count} new Ray node(s) did not join (last error: {self._last_error!r}):\n{logs}"
                )
            time.sleep(0.5)

    # The state API is asked for everything and filtered here: with a filter, Ray 2.60 takes the
    # filtered-out rows (dead nodes and actors, after a pod was lost) for truncated output and raises.

    def nodes(self) -> dict[str, Any]:
        """node id -> node state (alive and dead), from Ray's state API."""
        nodes = list_nodes(address=self.dashboard_url, detail=True, limit=10_000, timeout=10)
        return {node.node_id: node for node in nodes}

    def alive_actors(self) -> list[Any]:
        actors = list_actors(address=self.dashboard_url, detail=True, limit=10_000, timeout=10)
        return [actor for actor in actors if actor.state == "ALIVE"]

    # --- Serve through its REST API ---------------------------------------------------------------

    def deploy(self, config: dict[str, Any]) -> None:
        """`serve deploy --address <dashboard>`: PUT the config to Serve's REST API."""
        response = httpx.put(f"{self.dashboard_url}/api/serve/applications/", json=config, timeout=120)
        response.raise_for_status()

    def serve_status(self, app_name: str) -> dict[str, Any] | None:
        response = httpx.get(f"{self.dashboard_url}/api/serve/applications/", timeout=30)
        response.raise_for_status()
        application: dict[str, Any] | None = response.json().get("applications", {}).get(app_name)
        return application

    def wait_until_running(self, app_name: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            application = self.serve_status(app_name) or {}
            status = application.get("status")
            if status == "RUNNING":
                return
            if status == "DEPLOY_FAILED" or time.monotonic() > deadline:
                raise RuntimeError(f"{app_name} is {status}: {json.dumps(application, indent=1)[-3000:]}")
            time.sleep(1)


def _ray_process_env(rayservice: dict[str, Any]) -> dict[str, str]:
    """What the rendered head pod sets for Ray's own processes (Serve's HTTP entry, uvicorn's
    trusted peers), so the local cluster takes HTTP the way the pods do."""
    container = rayservice["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    return {
        e["name"]: e["value"]
        for e in container.get("env", [])
        if "value" in e and (e["name"].startswith("RAY_SERVE_") or e["name"] == "FORWARDED_ALLOW_IPS")
    }


def _cluster_env(rayservice: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ) | _ray_process_env(rayservice) | haproxy_side_ports()
    # Replicas import serve_app from this checkout, as the session's Ray does.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    # Explicit, whatever the pytest process's own Ray chose: the cluster listens on loopback only, and
    # this process reads its state API over plain HTTP.
    env["RAY_AUTH_MODE"] = "disabled"
    for inherited in ("RAY_ADDRESS", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        env.pop(inherited, None)
    return env


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _wait_or_kill(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)
    # Whatever `ray start` left behind in its group (workers outliving their raylet) goes too.
    _signal_group(process, signal.SIGKILL)


def _forget_cluster_pointer(gcs_port: int) -> None:
    """Ray writes its address to <temp dir>/ray_current_cluster; /tmp/ray's must never name this one."""
    pointer = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
    with contextlib.suppress(OSError):
        if pointer.read_text().strip().endswith(f":{gcs_port}"):
            pointer.unlink()
