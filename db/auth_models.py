"""Tables of local accounts: password credentials and refresh tokens.

Credentials live in their own table, one row per local account, rather than as columns of `users`:
people who sign in through a provider have none, and a query that reads users can never pick up a
password hash by accident. Refresh tokens are stored only as SHA-256 hashes. Both tables cascade
from `users`, so deleting a user removes them in the same statement.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, User

USER_ID_TYPE = User.__table__.c.id.type


class LocalCredential(Base):
    __tablename__ = "local_credentials"

    user_id: Mapped[uuid.UUID] = mapped_column(
        USER_ID_TYPE, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    login_name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        USER_ID_TYPE, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Every token descending from one login shares a family; reuse of any of them revokes it all.
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
