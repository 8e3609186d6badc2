"""FastAPI dependencies that say who is calling: `CurrentUser`, `OptionalUser`, `AnalysisUser`.

A bearer token from the sign-in provider names a person by issuer and subject; the first time we
see that pair we create their user row. A local access token names a local account, which must
still exist: a deleted account's unexpired tokens stop working at once instead of resurrecting it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from db.accounts import find_user_by_identity
from db.tasks import get_or_create_user
from serve_app.database import SessionDep
from serve_app.security.auth.context import SecurityContext, security_context
from serve_app.security.auth.tokens import AuthenticationError
from serve_app.security.rate_limit import client_address

_bearer = HTTPBearer(
    auto_error=False, description="An access token from /auth/login or the sign-in provider."
)


@dataclass(frozen=True)
class AuthenticatedUser:
    """The signed-in person, detached from any database session."""

    id: uuid.UUID
    issuer: str
    subject: str
    display_name: str | None
    is_local: bool


def _resolve(session: Session, context: SecurityContext, token: str) -> AuthenticatedUser:
    identity = context.verifier.verify(token)
    if identity.is_local:
        user = find_user_by_identity(session, identity.issuer, identity.subject)
        if user is None:
            raise AuthenticationError("unknown_account")
    else:
        user = get_or_create_user(session, identity.issuer, identity.subject, identity.display_name)
        session.commit()
    return AuthenticatedUser(
        id=user.id,
        issuer=identity.issuer,
        subject=identity.subject,
        display_name=user.display_name,
        is_local=identity.is_local,
    )


def current_user(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AuthenticatedUser:
    if credentials is None:
        raise AuthenticationError("missing_token")
    return _resolve(session, security_context(request), credentials.credentials)


def optional_user(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AuthenticatedUser | None:
    """The caller, or None for an anonymous caller when anonymous diagnosis is switched on."""
    context = security_context(request)
    if credentials is None:
        if context.settings.allow_anonymous:
            return None
        raise AuthenticationError("missing_token")
    return _resolve(session, context, credentials.credentials)


def analysis_user(
    request: Request, user: Annotated[AuthenticatedUser | None, Depends(optional_user)]
) -> AuthenticatedUser | None:
    """The caller of an analysis, counted against their per-user limit (anonymous: per address)."""
    context = security_context(request)
    if user is not None:
        context.limiter.hit_analysis(user.id)
    else:
        address = client_address(request.scope, context.settings.trusted_proxy_hops)
        context.limiter.hit_analysis(f"anonymous:{address}")
    return user


async def token_identity(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> tuple[str, str] | None:
    """Who the token names, as (issuer, subject), proved by its signature alone: no database.

    For routes whose query can carry the identity itself (the status poll joins the task to its
    owner), so they need no user row; None for an anonymous caller when that is switched on.
    Async because it only computes (keys are loaded at start-up): no hop to a worker thread.
    """
    context = security_context(request)
    if credentials is None:
        if context.settings.allow_anonymous:
            return None
        raise AuthenticationError("missing_token")
    identity = context.verifier.verify(credentials.credentials)
    return identity.issuer, identity.subject


CurrentUser = Annotated[AuthenticatedUser, Depends(current_user)]
OptionalUser = Annotated[AuthenticatedUser | None, Depends(optional_user)]
AnalysisUser = Annotated[AuthenticatedUser | None, Depends(analysis_user)]
TokenIdentity = Annotated[tuple[str, str] | None, Depends(token_identity)]
