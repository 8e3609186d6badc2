"""What the app shows beyond the first answer: the runner-up type, and a failure's details.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

`analysis_history.runner_up` keeps the second most likely type (id, names, confidence) beside the
diagnosis; `analysis_tasks.error_details` keeps a failure's machine-readable details (for
POOR_LIGHTING_CONDITION the problems found and the advice), so the app can say what to change. Both
are plain JSON text, nullable: rows written before this revision simply have none.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("analysis_history") as table:
        table.add_column(sa.Column("runner_up", _JSON, nullable=True))
    with op.batch_alter_table("analysis_tasks") as table:
        table.add_column(sa.Column("error_details", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("analysis_tasks") as table:
        table.drop_column("error_details")
    with op.batch_alter_table("analysis_history") as table:
        table.drop_column("runner_up")
