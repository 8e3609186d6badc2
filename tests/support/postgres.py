"""A fresh PostgreSQL database per test session on the local server, dropped when the session ends.

The machine (and CI) runs PostgreSQL at 127.0.0.1:5432 with trust authentication for `postgres`.
Tests never share a database with each other's runs or with the service: each session creates a
uniquely named one. Where the server is unreachable the tests that need it are skipped locally,
and fail under `CI=true`, where a missing database is a broken set-up, not a reason to pass.

Override the server with `TEST_POSTGRES_ADMIN_URL` (a URL of a database to connect to for
CREATE/DROP DATABASE; default the `postgres` database on 127.0.0.1:5432).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import psycopg2
import pytest
from psycopg2 import sql
from sqlalchemy import make_url

DEFAULT_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
CONNECT_TIMEOUT_S = 5


def admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_ADMIN_URL", DEFAULT_ADMIN_URL)


def _admin_connection() -> psycopg2.extensions.connection:
    url = make_url(admin_url())
    connection = psycopg2.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname=url.database,
        connect_timeout=CONNECT_TIMEOUT_S,
    )
    connection.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
    return connection


@contextmanager
def temporary_database(prefix: str = "test") -> Iterator[str]:
    """Create an empty database, yield its SQLAlchemy URL, then drop it (whatever still uses it).

    Raises `psycopg2.OperationalError` if the server cannot be reached.
    """
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _admin_connection()
    try:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        yield make_url(admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            with admin.cursor() as cursor:
                # Pools left open by the code under test would otherwise block the DROP.
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
                cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        finally:
            admin.close()


def postgres_unavailable(reason: str) -> NoReturn:
    """Skip, or fail under CI=true: CI must run every PostgreSQL test."""
    message = f"PostgreSQL is not reachable ({admin_url()}): {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of an empty database for this test session (no schema: migrate it yourself)."""
    try:
        _admin_connection().close()
    except psycopg2.OperationalError as error:
        postgres_unavailable(str(error).strip())
    with temporary_database("pytest") as url:
        yield url
