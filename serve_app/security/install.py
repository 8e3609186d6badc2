"""Everything the ingress needs for security, installed with one call: `install_security(app, settings)`.

Order matters. Starlette runs the middleware added last first, so requests pass through, from the
outside in: security headers (so even refusals carry them), CORS (so a browser can read a 429), the
per-address rate limit, the body deadline, the body-size cap, then the app. Sign-in and per-user
limits are dependencies (see `serve_app.security.auth`), because they need the route's user.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import Scope

from serve_app.errors import error_response
from serve_app.security.auth.context import security_context_of
from serve_app.security.auth.tokens import AuthenticationError
from serve_app.security.body_deadline import BodyDeadlineMiddleware
from serve_app.security.body_limit import BodySizeLimitMiddleware
from serve_app.security.cors import JsonCORSMiddleware
from serve_app.security.headers import SecurityHeadersMiddleware
from serve_app.security.log_redaction import install_log_redaction
from serve_app.security.rate_limit import AddressRateLimitMiddleware, RateLimitedError, RateLimiter
from serve_app.security.settings import SecuritySettings

# Kubernetes probes hit these every few seconds from the node's address.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})
# The photo upload streams through its own, larger cap (serve_app.api.upload).
UPLOAD_PATHS = frozenset({"/analysis/start"})


async def _authentication_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthenticationError)
    return error_response(exc.code, exc.message, exc.details, headers={"WWW-Authenticate": "Bearer"})


async def _rate_limited(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimitedError)
    return error_response(exc.code, exc.message, exc.details, headers={"Retry-After": str(exc.retry_after)})


def _limiter_of_app(scope: Scope) -> RateLimiter:
    return security_context_of(scope["app"]).limiter


def install_security(app: FastAPI, settings: SecuritySettings) -> None:
    """Add the auth routes, limits, CORS and headers to the ingress app.

    Nothing stateful is created here: the token verifier and the rate limiter are built on the first
    request (or by the app's lifespan) in the process that serves it; see `security_context_of`.
    """
    from serve_app.security.auth.routes import router as auth_router

    install_log_redaction()
    app.state.security_settings = settings
    app.include_router(auth_router)
    app.add_exception_handler(AuthenticationError, _authentication_error)
    app.add_exception_handler(RateLimitedError, _rate_limited)
    app.add_middleware(BodySizeLimitMiddleware, exempt_paths=UPLOAD_PATHS)
    app.add_middleware(BodyDeadlineMiddleware, deadline_s=settings.body_timeout_s)
    app.add_middleware(
        AddressRateLimitMiddleware,
        limiter=_limiter_of_app,
        exempt_paths=PROBE_PATHS,
        trusted_proxy_hops=settings.trusted_proxy_hops,
    )
    app.add_middleware(
        JsonCORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=False,  # bearer tokens travel in a header, never in cookies
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Location", "Retry-After"],
        max_age=600,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.hsts)
