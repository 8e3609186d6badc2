"""Bring a database's schema up to date with the Alembic migrations in `db/migrations/`.

`upgrade_to_head(url)` is what the service's start command runs; it works from any working
directory because the migrations are located from this package, not from an `alembic.ini` in the
current folder. For the Alembic command line: `alembic -c db/alembic.ini -x url=... upgrade head`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a literal "%" (URL-encoded passwords) must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def downgrade_to(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
