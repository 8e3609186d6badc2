"""The per-replica security objects (token verifier, token issuer, rate limiter), kept on `app.state`."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi import Request
from starlette.applications import Starlette

from serve_app.security.auth.tokens import LocalTokenIssuer, TokenVerifier
from serve_app.security.rate_limit import RateLimiter

if TYPE_CHECKING:
    from serve_app.security.settings import SecuritySettings


@dataclass(frozen=True)
class SecurityContext:
    """The per-replica security objects the auth dependencies and routes share (on `app.state`)."""

    settings: SecuritySettings
    verifier: TokenVerifier
    local_issuer: LocalTokenIssuer
    limiter: RateLimiter

    @classmethod
    def from_settings(cls, settings: SecuritySettings) -> SecurityContext:
        local = settings.local_issuer_config()
        return cls(
            settings=settings,
            verifier=TokenVerifier(
                external=settings.external_issuer_config(),
                local=local,
                leeway=timedelta(seconds=settings.leeway_seconds),
            ),
            local_issuer=LocalTokenIssuer(local),
            limiter=RateLimiter(settings.rate_limit_config()),
        )


def security_context(request: Request) -> SecurityContext:
    return security_context_of(request.app)


_creating = threading.Lock()


def security_context_of(app: Starlette) -> SecurityContext:
    """The app's security context, created on first use from `app.state.security_settings`.

    Created lazily, in the process that serves requests: Ray Serve pickles the app when the ingress
    class is defined, and a rate limiter holding a Redis connection cannot (and should not) travel.
    """
    context: SecurityContext | None = getattr(app.state, "security", None)
    if context is None:
        with _creating:
            context = getattr(app.state, "security", None)
            if context is None:
                context = SecurityContext.from_settings(app.state.security_settings)
                app.state.security = context
    return context
