"""Run the whole service on one machine: `python -m serve_app.local start|stop` (`make run`/`make stop`).

`start` starts a local Ray (explicit CPUs, both custom resources, object spilling off), applies the
database migrations, deploys `serve_config.yaml`, waits until the application is RUNNING and prints
where to find it. It then stays in the foreground; Ctrl-C, or `stop` from another terminal, shuts
Serve and Ray down cleanly.

While it runs, `serve run serve_config.yaml` (or `serve deploy`) from another terminal redeploys into
the same Ray.

Privacy: photos travel between deployments through Ray's object store. The store lives in /dev/shm
(memory), and automatic spilling is off with the spill/fallback directory also on /dev/shm, so a
photo cannot be written to disk by Ray under memory pressure. `local_ray` is shared with the tests, which
check this.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from serve_app.deployments.placement import with_node_resources
from serve_app.settings import RaySettings, Settings, get_settings

if TYPE_CHECKING:
    from ray._private.worker import RayContext

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVE_CONFIG = REPO_ROOT / "serve_config.yaml"
PID_FILE = REPO_ROOT / "var" / "serve-local.pid"
MEMORY_FS = Path("/dev/shm")  # noqa: S108 (tmpfs: memory, not disk, which is the point)
LOCAL_HTTP_HOST = "127.0.0.1"


@contextmanager
def local_ray(ray: RaySettings, **init_options: Any) -> Iterator[RayContext]:
    """A fresh single-node Ray that keeps photos off the disk; shut down (with Serve) on exit."""
    import ray as ray_api
    from ray import serve
    from ray._private.worker import RayContext

    options: dict[str, Any] = {
        # "local" always starts a new instance, never attaching to whatever
        # /tmp/ray/ray_current_cluster points at (possibly a dead cluster).
        "address": "local",
        "num_cpus": ray.num_cpus,
        "resources": ray.node_resources(),
        "object_store_memory": ray.object_store_mb * 1024 * 1024,
        "_system_config": {"automatic_object_spilling_enabled": False},
    }
    spill_dir: str | None = None
    if MEMORY_FS.is_dir():
        options["_plasma_directory"] = str(MEMORY_FS)
        # Also where plasma falls back to when the store is full: keep that in memory too.
        spill_dir = tempfile.mkdtemp(prefix="ray-spill-", dir=MEMORY_FS)
        options["object_spilling_directory"] = spill_dir
    # Read by the processes Ray starts (they inherit the environment of the raylet started here);
    # kuberay/ sets the same in the Ray pods.
    os.environ.update(ray.process_env() | haproxy_side_ports())
    try:
        context = ray_api.init(**options, **init_options)
        assert isinstance(context, RayContext)  # a local start, never a Ray Client connection
        yield context
    finally:
        serve.shutdown()  # type: ignore[no-untyped-call]
        ray_api.shutdown()
        if spill_dir is not None:
            shutil.rmtree(spill_dir, ignore_errors=True)


def haproxy_side_ports() -> dict[str, str]:
    """Free ports for HAProxy's statistics page and metrics exporter (fixed at 8404 and 9101 by
    default, on every interface, which a second local Ray, e.g. a test's, could not bind again).
    They show counters and backend addresses, never a request's content (docs/security.md)."""
    ports = []
    with contextlib.ExitStack() as sockets:
        for _ in range(2):
            probe = sockets.enter_context(socket.socket())
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
    return {"RAY_SERVE_HAPROXY_STATS_PORT": str(ports[0]), "RAY_SERVE_HAPROXY_METRICS_PORT": str(ports[1])}


def load_serve_config(
    settings: Settings,
    *,
    path: Path = SERVE_CONFIG,
    http_host: str | None = None,
    http_port: int | None = None,
    env_vars: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`serve_config.yaml` adapted to this machine: resource names, HTTP address, environment."""
    config: dict[str, Any] = with_node_resources(yaml.safe_load(path.read_text()), settings.ray)
    http = config.setdefault("http_options", {})
    if http_host is not None:
        http["host"] = http_host
    if http_port is not None:
        http["port"] = http_port
    if env_vars:
        for application in config["applications"]:
            runtime_env = application.setdefault("runtime_env", {})
            runtime_env.setdefault("env_vars", {}).update(env_vars)
    return config


def deploy(config: dict[str, Any]) -> None:
    """Start Serve with the config's proxy and HTTP options and submit its applications.

    The same steps as `serve run CONFIG` (ray.serve.scripts), without the dashboard's REST API.
    """
    from ray.serve._private import api as serve_api
    from ray.serve.schema import ServeDeploySchema

    schema = ServeDeploySchema.model_validate(config)
    client = serve_api.serve_start(
        http_options=schema.http_options.model_dump(), proxy_location=schema.proxy_location
    )
    client.deploy_apps(schema, _blocking=False)


class DeployFailedError(RuntimeError):
    """Serve gave up deploying the application; the message names each failing deployment's reason."""


def wait_until_running(app_name: str, timeout_s: float = 300.0, deployed_after: float = 0.0) -> None:
    """Block until the application (deployed after `deployed_after`, a time.time()) is RUNNING.

    Raises with Serve's message if it fails to deploy.
    """
    from ray import serve
    from ray.serve.schema import ApplicationStatus

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        application = serve.status().applications.get(app_name)
        if application is not None and application.last_deployed_time_s >= deployed_after:
            if application.status == ApplicationStatus.RUNNING:
                return
            if application.status == ApplicationStatus.DEPLOY_FAILED:
                reasons = [application.message] + [
                    f"{name}: {deployment.message.strip().splitlines()[-1]}"
                    for name, deployment in application.deployments.items()
                    if deployment.message.strip()
                ]
                raise DeployFailedError(f"Application {app_name!r} failed to deploy.\n" + "\n".join(reasons))
        time.sleep(0.5)
    raise TimeoutError(f"Application {app_name!r} was not RUNNING after {timeout_s:.0f} s")


def _app_name(config: dict[str, Any]) -> str:
    return str(config["applications"][0]["name"])


def _read_pid() -> int | None:
    try:
        return int(PID_FILE.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def start() -> int:
    from db.migrate import upgrade_to_head
    from serve_app.database import ensure_sqlite_directory

    settings = get_settings()
    running = _read_pid()
    if running is not None and _alive(running):
        print(f"Already running (pid {running}). Stop it with: python -m serve_app.local stop")
        return 1

    ensure_sqlite_directory(settings.database.url)
    print("Applying database migrations ...")
    upgrade_to_head(settings.database.url)

    print(f"Starting Ray ({settings.ray.num_cpus} CPUs, resources {settings.ray.node_resources()}) ...")
    with local_ray(
        settings.ray,
        include_dashboard=True,
        dashboard_host=LOCAL_HTTP_HOST,
        dashboard_port=settings.ray.dashboard_port,
    ) as context:
        PID_FILE.parent.mkdir(exist_ok=True)
        PID_FILE.write_text(str(os.getpid()))
        try:
            config = load_serve_config(settings, http_host=LOCAL_HTTP_HOST)
            print("Deploying serve_config.yaml (the first start loads the models: give it a minute) ...")
            deploy(config)
            try:
                wait_until_running(_app_name(config))
            except (DeployFailedError, TimeoutError) as failure:
                print(f"\n{failure}\nStopping.", file=sys.stderr)
                return 1
            port = config["http_options"].get("port", 8000)
            dashboard = context.dashboard_url or f"{LOCAL_HTTP_HOST}:{settings.ray.dashboard_port}"
            print(
                "\nPersonal color is running.\n"
                f"  App:            http://{LOCAL_HTTP_HOST}:{port}/\n"
                f"  API docs:       http://{LOCAL_HTTP_HOST}:{port}/docs\n"
                f"  Ray dashboard:  http://{dashboard.removeprefix('http://')}  (Serve tab: replicas)\n"
                "Redeploy from another terminal (it takes over until its Ctrl-C):\n"
                f"  RAY_AUTH_MODE=token serve run --address {context.address_info['address']} "
                "serve_config.yaml\n"
                "Stop with Ctrl-C or `python -m serve_app.local stop`.",
                flush=True,
            )
            # Until here Ctrl-C interrupts whatever is running; from now on both signals end the wait.
            stopping = threading.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stopping.set())
            stopping.wait()
            print("\nStopping ...", flush=True)
        finally:
            PID_FILE.unlink(missing_ok=True)
    print("Stopped.")
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(timeout_s: float = 60.0) -> int:
    """Ask the `start` process (and only it) to shut down, and wait until it has."""
    pid = _read_pid()
    if pid is None or not _alive(pid):
        PID_FILE.unlink(missing_ok=True)
        print("Not running.")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        print(f"Process {pid} did not stop within {timeout_s:.0f} s.")
        return 1
    print("Stopped.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serve_app.local", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop"])
    args = parser.parse_args(argv)
    return start() if args.command == "start" else stop()


if __name__ == "__main__":
    sys.exit(main())
