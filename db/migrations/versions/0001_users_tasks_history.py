"""Users, analysis tasks and the text-only analysis history.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

No column here holds binary data: results are season names, hex colours, advice and numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("issuer", "subject", name="uq_users_issuer_subject"),
    )

    op.create_table(
        "analysis_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("analyzed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("season", sa.String(16), nullable=False),
        sa.Column("season_type", sa.String(48), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("thumbnail_color", sa.String(7), nullable=False),
        sa.Column("main_colors", JSON_DOCUMENT, nullable=False),
        sa.Column("worst_colors", JSON_DOCUMENT, nullable=False),
        sa.Column("makeup", JSON_DOCUMENT, nullable=False),
        sa.Column("hair", JSON_DOCUMENT, nullable=False),
        sa.Column("measured", JSON_DOCUMENT, nullable=False),
        sa.Column("explanation", JSON_DOCUMENT, nullable=False),
        sa.Column("lighting_score", sa.Float(), nullable=True),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analysis_history"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_analysis_history_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("task_id", name="uq_analysis_history_task_id"),
    )
    op.create_index(
        "ix_analysis_history_user_id_analyzed_at_id", "analysis_history", ["user_id", "analyzed_at", "id"]
    )

    op.create_table(
        "analysis_tasks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(32), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("history_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_analysis_tasks"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_analysis_tasks_user_id_users", ondelete="CASCADE"
        ),
        # Deleting a diagnosis deletes the task that produced it.
        sa.ForeignKeyConstraint(
            ["history_id"],
            ["analysis_history.id"],
            name="fk_analysis_tasks_history_id_analysis_history",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'processing', 'completed', 'failed')",
            name="ck_analysis_tasks_status_valid",
        ),
        sa.CheckConstraint(
            "status <> 'completed' OR history_id IS NOT NULL", name="ck_analysis_tasks_completed_has_result"
        ),
        sa.CheckConstraint(
            "status <> 'failed' OR error_code IS NOT NULL", name="ck_analysis_tasks_failed_has_code"
        ),
    )
    op.create_index("ix_analysis_tasks_user_id", "analysis_tasks", ["user_id"])
    op.create_index("ix_analysis_tasks_history_id", "analysis_tasks", ["history_id"])
    op.create_index("ix_analysis_tasks_status_updated_at", "analysis_tasks", ["status", "updated_at"])


def downgrade() -> None:
    op.drop_table("analysis_tasks")
    op.drop_table("analysis_history")
    op.drop_table("users")
