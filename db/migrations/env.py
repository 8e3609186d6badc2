"""Alembic environment: migrates the database named by the caller, against `db.models.Base.metadata`.

The URL comes from `db.migrate` (the `sqlalchemy.url` option) or from `-x url=...` on the command
line. On PostgreSQL an advisory lock serialises concurrent upgrades, so several replicas starting
at once cannot both apply the same revision.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, text

import db.auth_models  # noqa: F401  (its tables belong to the metadata too)
from db.engine import SQLITE_WRITE_LOCK, make_engine
from db.models import Base

# Any fixed number: the key of the advisory lock held while migrating.
MIGRATION_LOCK_KEY = 7_041_620_250

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("No database URL: use db.migrate.upgrade_to_head(url) or alembic -x url=...")
    return url


def configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=(connection is not None and connection.dialect.name == "sqlite"),
    )


def run_migrations_offline() -> None:
    """`alembic upgrade head --sql`: print the SQL instead of running it."""
    configure(url=database_url())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # Hold SQLite's write lock from the first read of the version table, so a second
                # process starting at the same moment waits and then finds the schema at head.
                connection.execution_options(**{SQLITE_WRITE_LOCK: True})
            configure(connection)
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                    )
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
