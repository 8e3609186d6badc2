"""Fixtures of the security tests: a migrated PostgreSQL database for the run, shared with the service."""

from __future__ import annotations

import pytest

from db.migrate import upgrade_to_head
from tests.support.postgres import postgres_url  # noqa: F401 (fixture)


@pytest.fixture(scope="session")
def database_url(postgres_url: str) -> str:  # noqa: F811
    upgrade_to_head(postgres_url)
    return postgres_url
