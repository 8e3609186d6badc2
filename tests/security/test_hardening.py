"""Security headers, CORS limited to the front end, secrets checks and log redaction."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from serve_app.security.headers import SecurityHeadersMiddleware
from serve_app.security.log_redaction import install_log_redaction, redact
from serve_app.security.settings import DEVELOPMENT_TOKEN_SECRET, SecuritySettings
from tests.security import keys


def app_with_headers(hsts: bool = False) -> Starlette:
    async def boom(request: Request) -> JSONResponse:
        return JSONResponse({"error": {"code": "NOT_FOUND", "message": "x"}}, status_code=404)

    app = Starlette(routes=[Route("/thing", boom), Route("/docs", boom)])
    app.add_middleware(SecurityHeadersMiddleware, hsts=hsts)
    return app


def test_every_response_carries_the_security_headers() -> None:
    response = TestClient(app_with_headers()).get("/thing")
    assert response.status_code == 404
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers


def test_hsts_is_sent_when_enabled_and_docs_get_a_policy_that_lets_swagger_load() -> None:
    client = TestClient(app_with_headers(hsts=True))
    assert client.get("/thing").headers["strict-transport-security"].startswith("max-age=")
    assert "cdn.jsdelivr.net" in client.get("/docs").headers["content-security-policy"]


def test_production_refuses_default_or_missing_secrets() -> None:
    problems = SecuritySettings().production_problems()
    assert any("TOKEN_SECRET" in problem for problem in problems)
    with_provider = SecuritySettings(
        token_secret=SecretStr("r" * 40), provider_issuer="https://id.example", provider_algorithm="HS256"
    )
    assert any("PROVIDER_SECRET" in problem for problem in with_provider.production_problems())
    wildcard = SecuritySettings(token_secret=SecretStr("r" * 40), cors_origins=["*"])
    assert any("CORS" in problem for problem in wildcard.production_problems())


def test_a_proper_production_configuration_has_no_problems() -> None:
    settings = SecuritySettings(
        token_secret=SecretStr("r" * 40),
        provider_issuer=keys.PROVIDER_ISSUER,
        provider_secret=SecretStr(keys.PROVIDER_SECRET),
        cors_origins=["https://app.example"],
    )
    assert settings.production_problems() == []


def test_secrets_never_show_in_the_settings_repr() -> None:
    settings = SecuritySettings(provider_secret=SecretStr(keys.PROVIDER_SECRET))
    assert DEVELOPMENT_TOKEN_SECRET not in repr(settings)
    assert keys.PROVIDER_SECRET not in repr(settings)


def test_cors_allows_only_the_configured_front_end() -> None:
    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({})

    app = Starlette(routes=[Route("/hello", hello)])
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://app.example"],
        allow_methods=["GET"],
        allow_headers=["Authorization"],
    )
    client = TestClient(app)
    good = client.get("/hello", headers={"Origin": "https://app.example"})
    assert good.headers["access-control-allow-origin"] == "https://app.example"
    evil = client.get("/hello", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers


@pytest.mark.parametrize(
    "line",
    [
        "Authorization: Bearer abc.def.ghi",
        f"token {keys.tamper('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl')}",
        "refresh rt_" + "A" * 43,
        'body {"password": "hunter2 with spaces"}',
        "login password=hunter2&name=kim",
    ],
)
def test_credentials_are_redacted_from_log_text(line: str) -> None:
    cleaned = redact(line)
    assert "[REDACTED]" in cleaned
    assert "hunter2" not in cleaned and "abc.def.ghi" not in cleaned and "A" * 43 not in cleaned


def test_log_records_are_redacted_at_creation(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    install_log_redaction()  # idempotent
    with caplog.at_level(logging.INFO):
        logging.getLogger("some.library").info("sent %s", "Bearer eyJhbGciOi.eyJzdWIi.c2ln")
    assert "eyJ" not in caplog.text
    assert "Bearer [REDACTED]" in caplog.text


def test_the_service_settings_refuse_to_load_in_production_with_the_default_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import ValidationError

    from serve_app.settings import Settings

    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="SECURITY__TOKEN_SECRET"):
        Settings(_env_file=None)
    monkeypatch.setenv("SECURITY__TOKEN_SECRET", "q" * 48)
    monkeypatch.setenv("SECURITY__CORS_ORIGINS", '["https://app.example"]')
    settings = Settings(_env_file=None)
    assert settings.security.cors_origins == ["https://app.example"]
    assert "q" * 48 not in repr(settings)


def test_oversized_bodies_are_cut_off_while_streaming() -> None:
    from starlette.responses import PlainTextResponse

    from serve_app.security.body_limit import BodySizeLimitMiddleware

    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    app = Starlette(routes=[Route("/echo", echo, methods=["POST"]), Route("/upload", echo, methods=["POST"])])
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=1000, exempt_paths=frozenset({"/upload"}))
    client = TestClient(app)
    assert client.post("/echo", content=b"x" * 1000).text == "1000"
    declared = client.post("/echo", content=b"x" * 1001)
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "REQUEST_TOO_LARGE"

    def chunks() -> Iterator[bytes]:  # no Content-Length: only counting the streamed bytes can stop it
        for _ in range(100):
            yield b"y" * 100

    streamed = client.post("/echo", content=chunks())
    assert streamed.status_code == 413
    assert client.post("/upload", content=b"x" * 5000).text == "5000"


def test_the_secured_app_can_be_pickled_as_ray_serve_does_with_a_redis_limiter() -> None:
    # @serve.ingress pickles the FastAPI app when the ingress class is defined; a limiter holding a
    # Redis connection pool (locks, sockets) must not be created before that.
    import ray.cloudpickle as cloudpickle
    from fastapi import FastAPI
    from ray.serve._private.utils import ensure_serialization_context

    from serve_app.security.install import install_security

    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"ok": "yes"}

    install_security(app, SecuritySettings(rate_limit_storage="redis://127.0.0.1:6379"))
    ensure_serialization_context()  # type: ignore[no-untyped-call]  # as @serve.ingress does (handles locks)
    copy = cloudpickle.loads(cloudpickle.dumps(app))  # type: ignore[no-untyped-call]
    assert getattr(copy.state, "security", None) is None  # nothing stateful travelled
    response = TestClient(copy).get("/ping")
    assert response.status_code == 200
    assert response.headers["x-frame-options"] == "DENY"
