"""The app's one Secret: PostgreSQL's password and the key that signs the API's access tokens.

It is rendered apart from the synced manifests (`secrets/`, git-ignored) with values generated at
render time, and must never be committed. Create it once with `kubectl create`: a second `create`
fails instead of changing the database password under an initialised data directory.
"""

from __future__ import annotations

import secrets
from typing import Any

from kuberay import labels
from kuberay.environment import Values

# Names of the Secret and its keys, not secrets.
SECRET_NAME = "app-credentials"  # noqa: S105
POSTGRES_PASSWORD_KEY = "postgres-password"  # noqa: S105
TOKEN_SECRET_KEY = "token-secret"  # noqa: S105


def generate() -> dict[str, str]:
    return {
        # Hex keeps the password URL-safe: DATABASE_URL embeds it unescaped.
        POSTGRES_PASSWORD_KEY: secrets.token_hex(24),
        # serve_app refuses to start in production with a token secret under 32 bytes.
        TOKEN_SECRET_KEY: secrets.token_urlsafe(48),
    }


def render_secret(values: Values, data: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SECRET_NAME, "namespace": values.namespace, "labels": labels.common(values)},
        "type": "Opaque",
        "stringData": dict(data) if data is not None else generate(),
    }


def secret_env(name: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": SECRET_NAME, "key": key}}}
