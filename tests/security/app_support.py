"""An in-process copy of the service's HTTP surface for the security tests (no Ray needed).

It is built from the same pieces as the ingress (error handlers, the history routes, the database
attachment, `install_security`), so what these tests see is what the deployed API does; the routes
that live on the Ray ingress class (start and status) are checked end to end in test_end_to_end.py.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from serve_app.api.history import history_routes
from serve_app.database import attach_database
from serve_app.errors import install_error_handlers
from serve_app.security.install import install_security
from serve_app.security.settings import SecuritySettings

PASSWORD = "correct horse battery staple"


def build_app(database_url: str, **security: Any) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(history_routes)
    attach_database(app, database_url)
    install_security(app, SecuritySettings(**security))
    return app


def unique_name(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def register(client: TestClient, username: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post(
        "/auth/register", json={"username": username or unique_name(), "password": password}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
