"""The Ray cluster as `kuberay/` renders it, run as separate `ray start` processes, with the service on it.

Module-scoped: the tests of one module share one cluster and one deployment, and the cluster is torn
down when the module ends, whatever happened. The figures the tests measure (time to detect the loss
of a node, time to recover) are printed in pytest's terminal summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import psycopg2
import pytest

from kuberay.render import render_environment
from serve_app.local import load_serve_config
from serve_app.settings import RaySettings, Settings
from tests.support.postgres import postgres_unavailable, temporary_database
from tests.support.ray_cluster import HTTP_HOST, SERVICE_TEST_ENV, free_port
from tests.support.ray_pods import LocalRayCluster

# The dev environment: the smaller one, and the one whose pods a 2-core machine can hold.
ENVIRONMENT = "dev"
DEPLOY_TIMEOUT_S = 600

_figures: list[str] = []


@dataclass(frozen=True)
class ClusterService:
    cluster: LocalRayCluster
    base_url: str
    app_name: str
    database_url: str
    config: dict[str, Any]


@pytest.fixture(scope="module")
def rayservice() -> dict[str, Any]:
    (rayservice,) = render_environment(ENVIRONMENT).manifests["20-rayservice.yaml"]
    return rayservice


@pytest.fixture(scope="module")
def local_cluster(rayservice) -> Iterator[LocalRayCluster]:
    with LocalRayCluster.running(rayservice) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def cluster_database() -> Iterator[str]:
    """A database of this module's own (the Ingress migrates it), dropped afterwards."""
    database = ExitStack()
    try:
        url = database.enter_context(temporary_database("twonode"))
    except psycopg2.OperationalError as error:
        postgres_unavailable(str(error).strip())
    with database:
        yield url


@pytest.fixture(scope="module")
def cluster_service(local_cluster, cluster_database) -> ClusterService:
    """serve_config.yaml deployed through the dashboard, adapted only as `serve_app.local` adapts it."""
    port = free_port()
    # serve_config.yaml's own resource names, which are the ones cluster.yaml gives the pods.
    config = load_serve_config(
        Settings(ray=RaySettings()),
        http_host=HTTP_HOST,
        http_port=port,
        env_vars={"DATABASE_URL": cluster_database, **SERVICE_TEST_ENV},
    )
    app_name = str(config["applications"][0]["name"])
    local_cluster.deploy(config)
    local_cluster.wait_until_running(app_name, timeout_s=DEPLOY_TIMEOUT_S)
    return ClusterService(local_cluster, f"http://{HTTP_HOST}:{port}", app_name, cluster_database, config)


@pytest.fixture
def record_figure() -> Any:
    """Call with a line of figures; it is printed (and shown in pytest's summary) at the end of the run."""

    def record(line: str) -> None:
        print(line)
        _figures.append(line)

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _figures:
        terminalreporter.section("two-node Ray cluster figures")
        for line in _figures:
            terminalreporter.write_line(line)
