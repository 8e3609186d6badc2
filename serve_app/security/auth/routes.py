"""Local accounts over HTTP: register, log in, refresh, log out, and delete everything (`DELETE /me`).

Handlers stay thin: request bodies are validated by pydantic, the work happens in `db.accounts` and
the token helpers. Nothing here logs a request body, a password or a token; validation errors report
which field is wrong, never its value.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.accounts import (
    AccountExistsError,
    LocalAccount,
    RotationOutcome,
    create_local_account,
    delete_account,
    find_local_account,
    revoke_refresh_family,
    rotate_refresh_token,
    set_password_hash,
    store_refresh_token,
)
from pipeline.errors import ErrorCode
from serve_app.database import SessionDep
from serve_app.errors import ServiceCode, ServiceError
from serve_app.security.auth.context import SecurityContext, security_context
from serve_app.security.auth.dependencies import CurrentUser
from serve_app.security.auth.passwords import PasswordCheck, hash_password, verify_password
from serve_app.security.auth.refresh_tokens import hash_refresh_token, new_refresh_token
from serve_app.security.auth.tokens import AuthenticationError
from serve_app.security.rate_limit import client_address

router = APIRouter(tags=["accounts"])

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$"


class RegisterRequest(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=USERNAME_PATTERN)
    password: str = Field(min_length=8, max_length=1024)
    display_name: str | None = Field(None, max_length=100)


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth 2 token type, not a secret)
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Single use: each refresh returns a new one.")
    refresh_expires_in: int


class Me(BaseModel):
    id: str
    display_name: str | None
    local_account: bool


def _normalized(username: str) -> str:
    return username.strip().lower()


def _local_accounts_only(context: SecurityContext) -> None:
    if not context.settings.local_accounts:
        raise ServiceError(ServiceCode.NOT_FOUND, "Local accounts are not enabled on this service.")


def _issue_pair(
    session: Session,
    context: SecurityContext,
    user_id: uuid.UUID,
    subject: str,
    family_id: uuid.UUID | None = None,
) -> TokenPair:
    access = context.local_issuer.issue(subject)
    refresh = new_refresh_token()
    lifetime = timedelta(days=context.settings.refresh_token_days)
    store_refresh_token(
        session,
        user_id=user_id,
        token_hash=hash_refresh_token(refresh),
        family_id=family_id or uuid.uuid4(),
        expires_at=datetime.now(UTC) + lifetime,
    )
    return TokenPair(
        access_token=access.token,
        expires_in=access.expires_in,
        refresh_token=refresh,
        refresh_expires_in=int(lifetime.total_seconds()),
    )


@router.post("/auth/register", status_code=201, response_model=TokenPair, summary="Create a local account")
async def register(body: RegisterRequest, request: Request, session: SessionDep) -> TokenPair:
    # Async, with the database work on the request thread pool and the hash on its own thread
    # (serve_app.security.auth.passwords): a wave of sign-ups queues for the hash without holding threads.
    context = security_context(request)
    _local_accounts_only(context)
    if len(body.password) < context.settings.min_password_length:
        raise ServiceError(
            ErrorCode.VALIDATION_ERROR,
            f"Choose a password of at least {context.settings.min_password_length} characters.",
        )
    password_hash = await hash_password(body.password)
    return await run_in_threadpool(_create_account, session, context, body, password_hash)


def _create_account(
    session: Session, context: SecurityContext, body: RegisterRequest, password_hash: str
) -> TokenPair:
    try:
        user = create_local_account(
            session,
            issuer=context.settings.local_issuer,
            login_name=_normalized(body.username),
            password_hash=password_hash,
            display_name=body.display_name,
        )
    except AccountExistsError:
        session.rollback()
        raise ServiceError(ServiceCode.CONFLICT, "That user name is taken.") from None
    pair = _issue_pair(session, context, user.id, user.subject)
    session.commit()
    return pair


@router.post("/auth/login", response_model=TokenPair, summary="Sign in to a local account")
async def login(body: LoginRequest, request: Request, session: SessionDep) -> TokenPair:
    context = security_context(request)
    _local_accounts_only(context)
    name = _normalized(body.username)
    address = client_address(request.scope, context.settings.trusted_proxy_hops)
    account = await run_in_threadpool(_allowed_account, session, context, name, address)
    check = await verify_password(body.password, account.password_hash if account else None)
    if account is None or not check.ok:
        await run_in_threadpool(context.limiter.record_login_failure, name, address)
        raise AuthenticationError("invalid_credentials", "The user name or password is wrong.")
    return await run_in_threadpool(_signed_in, session, context, name, account, check)


def _allowed_account(
    session: Session, context: SecurityContext, name: str, address: str
) -> LocalAccount | None:
    context.limiter.check_login_allowed(name, address)
    return find_local_account(session, context.settings.local_issuer, name)


def _signed_in(
    session: Session, context: SecurityContext, name: str, account: LocalAccount, check: PasswordCheck
) -> TokenPair:
    context.limiter.clear_login_failures(name)
    if check.upgraded_hash:
        set_password_hash(session, account.user_id, check.upgraded_hash)
    pair = _issue_pair(session, context, account.user_id, account.subject)
    session.commit()
    return pair


@router.post("/auth/refresh", response_model=TokenPair, summary="Trade a refresh token for new tokens")
def refresh(body: RefreshRequest, request: Request, session: SessionDep) -> TokenPair:
    """Each refresh token works once. Presenting a used one again means it was copied: the whole
    family of tokens descending from the same login is revoked, so the thief and the owner are both
    signed out and the owner signs in again."""
    context = security_context(request)
    _local_accounts_only(context)
    rotation = rotate_refresh_token(session, hash_refresh_token(body.refresh_token), datetime.now(UTC))
    session.commit()  # keep the revocation even though we refuse the request below
    if rotation.outcome is RotationOutcome.REUSED:
        raise AuthenticationError(
            "refresh_token_reused", "This sign-in was ended for safety. Please sign in again."
        )
    if rotation.outcome is not RotationOutcome.ROTATED or rotation.token is None:
        raise AuthenticationError("invalid_refresh_token")
    pair = _issue_pair(
        session, context, rotation.token.user_id, rotation.token.subject, rotation.token.family_id
    )
    session.commit()
    return pair


@router.post("/auth/logout", status_code=204, summary="End a sign-in (revokes its refresh tokens)")
def logout(body: RefreshRequest, request: Request, session: SessionDep) -> Response:
    _local_accounts_only(security_context(request))
    revoke_refresh_family(session, hash_refresh_token(body.refresh_token), datetime.now(UTC))
    session.commit()
    return Response(status_code=204)


@router.get("/me", response_model=Me, summary="The signed-in account")
def me(user: CurrentUser) -> Me:
    return Me(id=str(user.id), display_name=user.display_name, local_account=user.is_local)


@router.delete("/me", status_code=204, summary="Delete the account and every diagnosis in it")
def delete_me(user: CurrentUser, session: SessionDep) -> Response:
    delete_account(session, user.id)
    session.commit()
    return Response(status_code=204)
