"""Throwaway signing keys and token builders for the security tests (generated per run, never stored)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PROVIDER_ISSUER = "https://accounts.example.test"
PROVIDER_AUDIENCE = "personal-color-web"
PROVIDER_SECRET = "provider-shared-secret-for-tests-0123456789"
LOCAL_SECRET = "local-signing-secret-for-tests-abcdefghijklmnop"


@dataclass(frozen=True)
class KeyPair:
    private_key: Any
    kid: str
    algorithm: str

    def public_pem(self) -> bytes:
        pem: bytes = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem

    def public_jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        jwk = json.loads(algorithm.to_jwk(self.private_key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": self.algorithm})
        return dict(jwk)


def rsa_key(kid: str = "rsa-1") -> KeyPair:
    return KeyPair(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid, "RS256")


def ec_key(kid: str = "ec-1") -> KeyPair:
    return KeyPair(ec.generate_private_key(ec.SECP256R1()), kid, "ES256")


def write_jwks(path: Path, *pairs: KeyPair) -> Path:
    path.write_text(json.dumps({"keys": [pair.public_jwk() for pair in pairs]}), encoding="utf-8")
    return path


def claims(
    subject: str = "user-123",
    *,
    issuer: str = PROVIDER_ISSUER,
    audience: str = PROVIDER_AUDIENCE,
    issued: datetime | None = None,
    lifetime: timedelta = timedelta(minutes=5),
    **extra: Any,
) -> dict[str, Any]:
    now = issued or datetime.now(UTC)
    body: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
    }
    body.update(extra)
    return body


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _numeric(body: dict[str, Any]) -> dict[str, Any]:
    return {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in body.items()}


def unsigned_token(body: dict[str, Any]) -> str:
    """An `alg: none` token, as an attacker would hand-craft it."""
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(_numeric(body)).encode())}."


def hmac_token_with_key(body: dict[str, Any], key: bytes, kid: str | None = None) -> str:
    """An HS256 token signed with arbitrary key bytes (PyJWT refuses PEM keys as HMAC secrets)."""
    head: dict[str, Any] = {"alg": "HS256", "typ": "JWT"}
    if kid:
        head["kid"] = kid
    signing_input = f"{_b64(json.dumps(head).encode())}.{_b64(json.dumps(_numeric(body)).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def tamper(token: str) -> str:
    """Flip one character of the signature."""
    head, body, signature = token.split(".")
    flipped = ("A" if signature[5] != "A" else "B").join((signature[:5], signature[6:]))
    return f"{head}.{body}.{flipped}"
