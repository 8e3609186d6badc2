"""The tables of users, analysis tasks and analysis history (SQLAlchemy 2 typed mappings).

Text only, by design: a result is season names, hex colours, advice, measured numbers and
timestamps. There is no binary column, and none may be added (a test inspects the metadata).
The schema itself is created by the Alembic migrations in `db/migrations/`, never by `create_all`;
another test checks that these mappings and the migrations agree.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Final, TypeAlias

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Dialect,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime, TypeDecorator

QUEUED: Final = "queued"
PROCESSING: Final = "processing"
COMPLETED: Final = "completed"
FAILED: Final = "failed"
TASK_STATUSES: Final = (QUEUED, PROCESSING, COMPLETED, FAILED)
UNFINISHED_STATUSES: Final = (QUEUED, PROCESSING)

ERROR_CODE_LENGTH: Final = 64
ERROR_MESSAGE_LENGTH: Final = 500
STAGE_LENGTH: Final = 32

# Deterministic constraint names, so migrations can name what they create and later drop it.
NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON documents; JSONB on PostgreSQL (compact, comparable, indexable should we ever need it).
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


# Ids arrive as UUIDs from the database and as strings from URLs and Ray calls; both are accepted.
Id: TypeAlias = uuid.UUID | str


def as_uuid(value: Id) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on every backend.

    PostgreSQL keeps `timestamptz` aware already; SQLite has no time zones and hands back naive
    values. Storing UTC and re-attaching UTC on the way out gives both the same behaviour, and
    keeps SQLite's text timestamps ordered like the instants they name.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        datetime: UTCDateTime(),
        dict[str, Any]: JSONDocument,
        list[str]: JSONDocument,
    }


class User(Base):
    """A person: the identity their sign-in provider gives them, or a local account (see db/auth_models)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utc_now, server_default=func.now())


class AnalysisHistory(Base):
    """One finished diagnosis, as text and numbers. `task_id` is unique: one result per task."""

    __tablename__ = "analysis_history"
    __table_args__ = (
        # Serves the newest-first pages of one person's history (see db.history.list_history).
        Index(None, "user_id", "analyzed_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # None only for an anonymous diagnosis (a setting of the service): it belongs to no history.
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Not a foreign key: the unique task id is what makes completion idempotent, and a result
    # outlives any clean-up of old task rows.
    task_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    analyzed_at: Mapped[datetime] = mapped_column(default=utc_now, server_default=func.now())
    season: Mapped[str] = mapped_column(String(16))
    season_type: Mapped[str] = mapped_column(String(48))
    confidence: Mapped[float] = mapped_column(Float)
    thumbnail_color: Mapped[str] = mapped_column(String(7))
    main_colors: Mapped[list[str]]
    worst_colors: Mapped[list[str]]
    makeup: Mapped[dict[str, Any]]
    hair: Mapped[dict[str, Any]]
    measured: Mapped[dict[str, Any]]
    explanation: Mapped[Any] = mapped_column(JSONDocument)
    lighting_score: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(64))
    # The second most likely type (season_type, type_name, confidence); None on rows before 0003.
    runner_up: Mapped[dict[str, Any] | None]


class AnalysisTask(Base):
    """One submitted photo's progress: queued -> processing -> completed | failed.

    Invariants kept by db.tasks (the first two also by CHECK constraints): `completed` has a
    `history_id`; `failed` has an `error_code` and no `history_id`; both have `finished_at`.
    """

    __tablename__ = "analysis_tasks"
    __table_args__ = (
        CheckConstraint(f"status IN {TASK_STATUSES!r}", name="status_valid"),
        CheckConstraint(f"status <> '{COMPLETED}' OR history_id IS NOT NULL", name="completed_has_result"),
        CheckConstraint(f"status <> '{FAILED}' OR error_code IS NOT NULL", name="failed_has_code"),
        # The sweeper's scan for unfinished work that stopped moving.
        Index(None, "status", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # None only for an anonymous diagnosis: then the random task id is the only key to it.
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    stage: Mapped[str | None] = mapped_column(String(STAGE_LENGTH))
    error_code: Mapped[str | None] = mapped_column(String(ERROR_CODE_LENGTH))
    error_message: Mapped[str | None] = mapped_column(String(ERROR_MESSAGE_LENGTH))
    # A failure's machine-readable details (e.g. the lighting problems found): text, never pixels.
    error_details: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, server_default=func.now())
    finished_at: Mapped[datetime | None]
    # Deleting a diagnosis deletes the task that produced it: no "completed" task without a result.
    history_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("analysis_history.id", ondelete="CASCADE"), index=True
    )
