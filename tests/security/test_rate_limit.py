"""Rate limits: 429 with Retry-After, recovery after the window, and counters shared through Redis."""

from __future__ import annotations

import time

import pytest
import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from serve_app.security.rate_limit import (
    AddressRateLimitMiddleware,
    RateLimitConfig,
    RateLimitedError,
    RateLimiter,
    client_address,
)
from tests.security.redis_support import REDIS_URL, redis_prefix

__all__ = ["redis_prefix"]


def wait_until_allowed(action, timeout_s: float = 10.0) -> None:
    """Retry `action` until the limiter lets it through (the window moved on) or fail."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            action()
            return
        except RateLimitedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_analyses_beyond_the_per_user_limit_are_refused_with_retry_after() -> None:
    limiter = RateLimiter(RateLimitConfig(analyses_per_user="3/minute"))
    for _ in range(3):
        limiter.hit_analysis(7)
    with pytest.raises(RateLimitedError) as caught:
        limiter.hit_analysis(7)
    assert caught.value.code == "RATE_LIMITED"
    assert 1 <= caught.value.retry_after <= 60
    limiter.hit_analysis(8)  # another user is unaffected


def test_limit_recovers_once_the_window_has_passed() -> None:
    limiter = RateLimiter(RateLimitConfig(analyses_per_user="2/second"))
    limiter.hit_analysis("u")
    limiter.hit_analysis("u")
    with pytest.raises(RateLimitedError):
        limiter.hit_analysis("u")
    wait_until_allowed(lambda: limiter.hit_analysis("u"))


def test_login_failures_are_limited_per_name_and_cleared_by_success() -> None:
    limiter = RateLimiter(RateLimitConfig(login_failures_per_name="3/minute"))
    for _ in range(3):
        limiter.check_login_allowed("kim", "10.0.0.1")
        limiter.record_login_failure("kim", "10.0.0.1")
    with pytest.raises(RateLimitedError):
        limiter.check_login_allowed("kim", "10.0.0.2")
    limiter.check_login_allowed("lee", "10.0.0.3")
    limiter.clear_login_failures("kim")
    limiter.check_login_allowed("kim", "10.0.0.2")


def test_unknown_storage_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="storage"):
        RateLimiter(RateLimitConfig(storage_uri="memcached://x"))


def make_app(limiter: RateLimiter, **options) -> Starlette:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hi")

    app = Starlette(routes=[Route("/hello", hello), Route("/healthz", hello)])
    app.add_middleware(AddressRateLimitMiddleware, limiter=limiter, **options)
    return app


def test_requests_beyond_the_per_address_limit_get_429_then_recover() -> None:
    limiter = RateLimiter(RateLimitConfig(requests_per_address="3/2seconds"))
    client = TestClient(make_app(limiter, exempt_paths=frozenset({"/healthz"})))
    assert [client.get("/hello").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/hello")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["retry-after"]) <= 2
    assert client.get("/healthz").status_code == 200  # probes are never limited

    deadline = time.monotonic() + 10
    while client.get("/hello").status_code == 429:
        assert time.monotonic() < deadline, "the limit never recovered"
        time.sleep(0.2)


def test_forwarded_address_is_used_only_from_the_trusted_hop() -> None:
    scope = {"client": ("10.1.1.1", 5000), "headers": [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.9")]}
    assert client_address(scope, trusted_proxy_hops=0) == "10.1.1.1"
    assert client_address(scope, trusted_proxy_hops=1) == "203.0.113.9"
    assert client_address({"client": None, "headers": []}, trusted_proxy_hops=1) == "unknown"


def test_redis_backed_limits_are_shared_by_two_app_instances(redis_prefix: str) -> None:
    config = RateLimitConfig(storage_uri=REDIS_URL, key_prefix=redis_prefix, requests_per_address="4/minute")
    first = TestClient(make_app(RateLimiter(config)))
    second = TestClient(make_app(RateLimiter(config)))
    codes = [client.get("/hello").status_code for client in (first, second, first, second)]
    assert codes == [200, 200, 200, 200]
    assert first.get("/hello").status_code == 429
    assert second.get("/hello").status_code == 429
    keys = redis.Redis.from_url(REDIS_URL).keys(f"{redis_prefix}*")
    assert keys, "the counters should live in Redis under the run's prefix"


def test_redis_backed_per_user_limit_is_shared(redis_prefix: str) -> None:
    config = RateLimitConfig(storage_uri=REDIS_URL, key_prefix=redis_prefix, analyses_per_user="2/minute")
    replica_a, replica_b = RateLimiter(config), RateLimiter(config)
    replica_a.hit_analysis(1)
    replica_b.hit_analysis(1)
    with pytest.raises(RateLimitedError):
        replica_a.hit_analysis(1)


def test_unreachable_redis_lets_requests_through() -> None:
    config = RateLimitConfig(storage_uri="redis://127.0.0.1:1", requests_per_address="1/minute")
    client = TestClient(make_app(RateLimiter(config)))
    assert [client.get("/hello").status_code for _ in range(3)] == [200, 200, 200]
