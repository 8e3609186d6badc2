"""Rate limits: analyses per user, requests per client address, failed logins per account name.

Counters live in a `limits` storage: in memory for one ingress replica, in Redis when several
replicas share the load (`SECURITY__RATE_LIMIT_STORAGE=redis://host:6379`), so the limit holds for
the service as a whole rather than per replica. If the shared storage is unreachable the limiter
lets requests through and logs a warning: an outage of Redis should slow attackers down less, not
take the whole service offline.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from serve_app.errors import ServiceCode, ServiceError

logger = logging.getLogger(__name__)


class RateLimitedError(ServiceError):
    """Too many requests; `retry_after` says in how many seconds the next one can succeed."""

    def __init__(
        self, retry_after: int, message: str = "Too many requests. Please wait and try again."
    ) -> None:
        super().__init__(ServiceCode.RATE_LIMITED, message, {"retry_after": retry_after})
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.retry_after, self.message))


@dataclass(frozen=True)
class RateLimitConfig:
    storage_uri: str = "memory://"
    key_prefix: str = "personal-color"
    analyses_per_user: str = "10/minute"
    requests_per_address: str = "100/minute"
    login_failures_per_name: str = "5/15minutes"
    login_failures_per_address: str = "20/15minutes"


class RateLimiter:
    """One object per ingress replica; with Redis storage all replicas share the counters."""

    def __init__(self, config: RateLimitConfig) -> None:
        self._storage = _make_storage(config)
        self._strategy = MovingWindowRateLimiter(self._storage)
        self._prefix = config.key_prefix
        self.analyses_per_user = parse(config.analyses_per_user)
        self.requests_per_address = parse(config.requests_per_address)
        self.login_failures_per_name = parse(config.login_failures_per_name)
        self.login_failures_per_address = parse(config.login_failures_per_address)

    def hit_analysis(self, user_id: object) -> None:
        self._hit(self.analyses_per_user, "analysis", str(user_id))

    def hit_address(self, address: str) -> None:
        self._hit(self.requests_per_address, "address", address)

    def check_login_allowed(self, login_name: str, address: str) -> None:
        """Refuse a login attempt once too many recent attempts for this name or address failed."""
        for item, kind, key in self._login_keys(login_name, address):
            try:
                allowed = self._strategy.test(item, self._prefix, kind, key)
            except StorageError:
                _warn_storage_down()
                continue
            if not allowed:
                raise RateLimitedError(
                    self._retry_after(item, kind, key),
                    "Too many failed sign-in attempts. Please wait and try again.",
                )

    def record_login_failure(self, login_name: str, address: str) -> None:
        for item, kind, key in self._login_keys(login_name, address):
            try:
                self._strategy.hit(item, self._prefix, kind, key)
            except StorageError:
                _warn_storage_down()

    def clear_login_failures(self, login_name: str) -> None:
        try:
            self._strategy.clear(self.login_failures_per_name, self._prefix, "login-name", login_name)
        except StorageError:
            _warn_storage_down()

    def _login_keys(self, login_name: str, address: str) -> Iterable[tuple[RateLimitItem, str, str]]:
        yield self.login_failures_per_name, "login-name", login_name
        yield self.login_failures_per_address, "login-address", address

    def _hit(self, item: RateLimitItem, kind: str, key: str) -> None:
        try:
            allowed = self._strategy.hit(item, self._prefix, kind, key)
        except StorageError:
            _warn_storage_down()
            return
        if not allowed:
            raise RateLimitedError(self._retry_after(item, kind, key))

    def _retry_after(self, item: RateLimitItem, kind: str, key: str) -> int:
        try:
            reset_time = self._strategy.get_window_stats(item, self._prefix, kind, key).reset_time
        except StorageError:
            return item.get_expiry()
        return max(1, math.ceil(reset_time - time.time()))


def _make_storage(config: RateLimitConfig) -> Storage:
    if config.storage_uri.startswith(("redis://", "rediss://", "redis+")):
        return RedisStorage(config.storage_uri, key_prefix=config.key_prefix, wrap_exceptions=True)
    if config.storage_uri == "memory://":
        return MemoryStorage(wrap_exceptions=True)
    raise ValueError(f"unsupported rate-limit storage {config.storage_uri!r} (use memory:// or redis://)")


_last_storage_warning = 0.0


def _warn_storage_down() -> None:
    global _last_storage_warning
    now = time.monotonic()
    if now - _last_storage_warning > 60:
        _last_storage_warning = now
        logger.warning("rate-limit storage unreachable; requests are not being rate limited")


def client_address(scope: Scope, trusted_proxy_hops: int) -> str:
    """The caller's address: the socket peer, or the entry a trusted proxy appended to X-Forwarded-For.

    With `trusted_proxy_hops = n`, the n-th address from the right of X-Forwarded-For is the one our
    own outermost proxy saw; anything to its left was written by the client and cannot be trusted.
    """
    if trusted_proxy_hops > 0:
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-for":
                header = bytes(value).decode("latin-1")
                hops: list[str] = [part.strip() for part in header.split(",") if part.strip()]
                if len(hops) >= trusted_proxy_hops:
                    return hops[-trusted_proxy_hops]
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def rate_limited_response_parts(error: RateLimitedError) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps({"error": error.to_dict()}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(error.retry_after).encode()),
    ]
    return body, headers


class AddressRateLimitMiddleware:
    """Counts every HTTP request against its client address before the app sees it."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter | Callable[[Scope], RateLimiter],
        exempt_paths: frozenset[str] = frozenset(),
        trusted_proxy_hops: int = 0,
    ) -> None:
        """`limiter` may be a function of the request scope, so a limiter holding a Redis connection
        can be created where requests are served rather than where the app is defined."""
        self.app = app
        self.limiter = limiter
        self.exempt_paths = exempt_paths
        self.trusted_proxy_hops = trusted_proxy_hops

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        try:
            limiter = self.limiter if isinstance(self.limiter, RateLimiter) else self.limiter(scope)
            limiter.hit_address(client_address(scope, self.trusted_proxy_hops))
        except RateLimitedError as error:
            body, headers = rate_limited_response_parts(error)
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
