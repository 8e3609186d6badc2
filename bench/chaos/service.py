"""The service under test for the chaos bench: its own local Ray, the app on a free loopback port.

`Service.start()` starts a fresh Ray exactly as `make run` does (`serve_app.local.local_ray`) and
deploys `serve_config.yaml`; `use_database(url)` redeploys the application against another
database (a rolling update). PostgreSQL is reached through a `TcpProxy` that the bench can cut, in a
throwaway database created on the local server and dropped afterwards.
"""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psycopg2
from psycopg2 import sql
from sqlalchemy import make_url

from bench.tcp_proxy import TcpProxy
from serve_app.local import deploy, load_serve_config, local_ray, wait_until_running
from serve_app.settings import RaySettings, Settings

HOST = "127.0.0.1"
POSTGRES_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
# The bench is every client and comes from one address: lift the per-address and per-user limits.
CHAOS_ENV = {
    "SECURITY__REQUESTS_PER_ADDRESS": "10000000/minute",
    "SECURITY__ANALYSES_PER_USER": "10000000/minute",
    "SECURITY__LOGIN_FAILURES_PER_ADDRESS": "10000000/minute",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Service:
    base_url: str
    app_name: str
    port: int
    database_url: str = ""

    def use_database(self, url: str) -> None:
        """Deploy (or redeploy) the application against `url` and wait until it is RUNNING."""
        env = {"DATABASE_URL": url, **CHAOS_ENV}
        config = load_serve_config(Settings(), http_host=HOST, http_port=self.port, env_vars=env)
        submitted = time.time()
        deploy(config)
        wait_until_running(self.app_name, timeout_s=900, deployed_after=submitted)
        self.database_url = url
        wait_ready(self.base_url, 300)


def wait_ready(base_url: str, timeout_s: float) -> float:
    """Seconds until `/readyz` answers 200 (raises after `timeout_s`)."""
    started = time.monotonic()
    with httpx.Client(base_url=base_url, timeout=5) as client:
        while time.monotonic() - started < timeout_s:
            with contextlib.suppress(httpx.HTTPError):
                if client.get("/readyz").status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.25)
    raise TimeoutError(f"/readyz not 200 after {timeout_s:.0f} s")


@contextlib.contextmanager
def running_service() -> Iterator[Service]:
    """A local Ray with Serve started; the application is deployed by `Service.use_database`."""
    port = free_port()
    settings = Settings()
    app_name = str(load_serve_config(settings)["applications"][0]["name"])
    ray_settings = RaySettings(num_cpus=2, object_store_mb=256)
    with local_ray(ray_settings, include_dashboard=False, log_to_driver=False, namespace="chaos"):
        yield Service(base_url=f"http://{HOST}:{port}", app_name=app_name, port=port)


def _admin() -> psycopg2.extensions.connection:
    url = make_url(POSTGRES_ADMIN_URL)
    connection = psycopg2.connect(
        host=url.host, port=url.port or 5432, user=url.username, dbname=url.database, connect_timeout=5
    )
    connection.autocommit = True
    return connection


@contextlib.contextmanager
def proxied_postgres() -> Iterator[tuple[str, TcpProxy]]:
    """A throwaway database on the local PostgreSQL and a cuttable proxy in front of it."""
    name = f"chaos_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()
    try:
        with TcpProxy((HOST, 5432)) as proxy:
            url = make_url(POSTGRES_ADMIN_URL).set(host=HOST, port=proxy.port, database=name)
            yield url.render_as_string(hide_password=False), proxy
    finally:
        admin = _admin()
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.close()
