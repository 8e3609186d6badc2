"""Data access for local accounts: credentials, refresh-token rotation and account deletion.

Plain functions over a `Session`; the caller commits. Refresh tokens arrive here already hashed:
this module never sees a usable token. Rotation is race-safe: the "not yet used" check and the
marking happen in one conditional UPDATE, so two requests presenting the same token cannot both win,
and the loser is treated as a reuse.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.auth_models import LocalCredential, RefreshToken
from db.models import Id, User, as_uuid
from db.tasks import delete_user_data, get_or_create_user


class AccountExistsError(Exception):
    """The login name is taken."""


@dataclass(frozen=True)
class LocalAccount:
    user_id: uuid.UUID
    subject: str
    password_hash: str


@dataclass(frozen=True)
class RefreshTokenOwner:
    user_id: uuid.UUID
    subject: str
    family_id: uuid.UUID


class RotationOutcome(enum.Enum):
    ROTATED = "rotated"
    REUSED = "reused"  # an already used or revoked token: its family is now revoked
    INVALID = "invalid"  # unknown or expired


@dataclass(frozen=True)
class Rotation:
    outcome: RotationOutcome
    token: RefreshTokenOwner | None = None


def create_local_account(
    session: Session, *, issuer: str, login_name: str, password_hash: str, display_name: str | None
) -> User:
    """A new user with a random subject (never the login name, so a name freed by a deleted account
    cannot inherit that account's unexpired tokens) and its password credential."""
    if session.scalar(select(LocalCredential.user_id).where(LocalCredential.login_name == login_name)):
        raise AccountExistsError(login_name)
    user = get_or_create_user(session, issuer, uuid.uuid4().hex, display_name)
    session.add(LocalCredential(user_id=user.id, login_name=login_name, password_hash=password_hash))
    try:
        session.flush()
    except IntegrityError:  # registered concurrently under the same name
        raise AccountExistsError(login_name) from None
    return user


def find_local_account(session: Session, issuer: str, login_name: str) -> LocalAccount | None:
    row = session.execute(
        select(User.id, User.subject, LocalCredential.password_hash)
        .join(LocalCredential, LocalCredential.user_id == User.id)
        .where(LocalCredential.login_name == login_name, User.issuer == issuer)
    ).one_or_none()
    return None if row is None else LocalAccount(user_id=row[0], subject=row[1], password_hash=row[2])


def find_user_by_identity(session: Session, issuer: str, subject: str) -> User | None:
    return session.scalar(select(User).where(User.issuer == issuer, User.subject == subject))


def set_password_hash(session: Session, user_id: Id, password_hash: str) -> None:
    session.execute(
        update(LocalCredential)
        .where(LocalCredential.user_id == as_uuid(user_id))
        .values(password_hash=password_hash)
    )


def store_refresh_token(
    session: Session, *, user_id: Id, token_hash: str, family_id: uuid.UUID, expires_at: datetime
) -> None:
    session.add(
        RefreshToken(
            user_id=as_uuid(user_id), token_hash=token_hash, family_id=family_id, expires_at=expires_at
        )
    )
    session.flush()


def rotate_refresh_token(session: Session, token_hash: str, now: datetime) -> Rotation:
    """Mark a live token used and say whose it is; a used or revoked one revokes its whole family."""
    row = session.execute(
        select(RefreshToken.id, RefreshToken.family_id, RefreshToken.user_id, User.subject)
        .join(User, User.id == RefreshToken.user_id)
        .where(RefreshToken.token_hash == token_hash)
    ).one_or_none()
    if row is None:
        return Rotation(RotationOutcome.INVALID)
    token_id, family_id, user_id, subject = row
    claimed = session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == token_id,
            RefreshToken.rotated_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(rotated_at=now)
    )
    if claimed.rowcount == 1:  # type: ignore[attr-defined]
        return Rotation(RotationOutcome.ROTATED, RefreshTokenOwner(user_id, subject, family_id))
    expired_unused = session.scalar(
        select(RefreshToken.id).where(
            RefreshToken.id == token_id,
            RefreshToken.rotated_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
    )
    if expired_unused is not None:
        return Rotation(RotationOutcome.INVALID)
    _revoke_family(session, family_id, now)
    return Rotation(RotationOutcome.REUSED)


def revoke_refresh_family(session: Session, token_hash: str, now: datetime) -> bool:
    """Log out: revoke every token of the presented token's family. False if the token is unknown."""
    family_id = session.scalar(select(RefreshToken.family_id).where(RefreshToken.token_hash == token_hash))
    if family_id is None:
        return False
    _revoke_family(session, family_id, now)
    return True


def _revoke_family(session: Session, family_id: uuid.UUID, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def delete_account(session: Session, user_id: Id) -> None:
    """Remove the account's credentials and tokens, then all its data and the user row itself."""
    owner = as_uuid(user_id)
    session.execute(delete(RefreshToken).where(RefreshToken.user_id == owner))
    session.execute(delete(LocalCredential).where(LocalCredential.user_id == owner))
    delete_user_data(session, owner)
