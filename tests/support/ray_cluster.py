"""The one Ray instance of a test session, and the service deployed on it once.

Ray can be initialised once per process and takes seconds to start, so whichever test asks first
starts it (2 CPUs, both custom resources, explicit arguments) and it stays up until the session ends.
It is started through `serve_app.local.local_ray`, so tests run with the same privacy settings as
`make run`: object spilling off and the object store in /dev/shm.

Use the fixtures `ray_cluster` and (with a database URL) `deploy_service(...)`. The serving tests and
the security tests share both, so a session deploys the application only once.
"""

from __future__ import annotations

import atexit
import socket
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from serve_app.local import deploy, load_serve_config, local_ray, wait_until_running
from serve_app.settings import RaySettings, Settings

NUM_CPUS = 2
HTTP_HOST = "127.0.0.1"
# Every test request comes from 127.0.0.1, and polling every 0.5 s soon passes the default
# per-address limit; the per-user analysis limit stays at its default.
SERVICE_TEST_ENV = {"SECURITY__REQUESTS_PER_ADDRESS": "100000/minute"}


@dataclass(frozen=True)
class RayCluster:
    session_dir: Path
    spill_dir: Path | None
    resources: dict[str, float]
    ray_settings: RaySettings
    # Pass as `address=` to ray.util.state calls: other Ray instances may run on the same machine.
    dashboard_url: str


@dataclass(frozen=True)
class ServedApp:
    base_url: str
    app_name: str
    database_url: str
    config: dict[str, Any]


_shutdown = ExitStack()
_cluster: RayCluster | None = None
_served: ServedApp | None = None


def _remove_stale_cluster_pointer() -> None:
    """A leftover /tmp/ray/ray_current_cluster naming a dead cluster confuses Ray's address lookup."""
    pointer = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
    try:
        address = pointer.read_text().strip()
        host, _, port = address.rpartition(":")
        with socket.create_connection((host, int(port)), timeout=1):
            return  # someone's live cluster: leave it alone
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        pointer.unlink(missing_ok=True)


def start_ray() -> RayCluster:
    """Start the session's Ray instance (once per process) and return what tests need to know."""
    global _cluster
    if _cluster is None:
        _remove_stale_cluster_pointer()
        ray_settings = RaySettings(num_cpus=NUM_CPUS, object_store_mb=256)
        # The dashboard serves ray.util.state, which the placement tests read actors' resources from.
        dashboard_port = free_port()
        _shutdown.enter_context(
            local_ray(
                ray_settings,
                include_dashboard=True,
                dashboard_host=HTTP_HOST,
                dashboard_port=dashboard_port,
                log_to_driver=False,
                namespace="tests",
            )
        )
        import ray

        node = ray._private.worker.global_worker.node
        assert node is not None
        spill: str | None = node._fallback_directory
        _cluster = RayCluster(
            session_dir=Path(node.get_session_dir_path()),
            spill_dir=Path(spill) if spill else None,
            resources=ray_settings.node_resources(),
            ray_settings=ray_settings,
            dashboard_url=f"http://{HTTP_HOST}:{dashboard_port}",
        )
        atexit.register(_shutdown.close)
    return _cluster


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HTTP_HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def deploy_service(database_url: str, extra_env: dict[str, str] | None = None) -> ServedApp:
    """Deploy serve_config.yaml against `database_url` and wait until it is RUNNING.

    The first call picks the HTTP port (Serve's HTTP options cannot change once started); later
    calls with the same arguments return the same deployment, and calls with another database or
    environment redeploy the application in place (a rolling update of its replicas).
    """
    global _served
    start_ray()
    env = {"DATABASE_URL": database_url, **SERVICE_TEST_ENV, **(extra_env or {})}
    port = free_port() if _served is None else int(_served.config["http_options"]["port"])
    config = load_serve_config(Settings(), http_host=HTTP_HOST, http_port=port, env_vars=env)
    if _served is None or _served.config != config:
        submitted = time.time()
        deploy(config)
        app_name = str(config["applications"][0]["name"])
        wait_until_running(app_name, timeout_s=600, deployed_after=submitted)
        _served = ServedApp(
            base_url=f"http://{HTTP_HOST}:{port}", app_name=app_name, database_url=database_url, config=config
        )
    return _served


@pytest.fixture(scope="session")
def ray_cluster() -> RayCluster:
    return start_ray()
