"""Bearer tokens: verifying the sign-in provider's JWTs and issuing our own for local accounts.

Two kinds of token reach the API. An external one comes from the front end's sign-in provider
(NextAuth and friends), signed with a shared HS* secret or with a private key whose public half we
read from a JWKS file. A local one is issued here, for accounts that live in our own database. The
unverified `iss` claim only chooses which of the two trust configurations to check against; every
claim is then verified against that configuration, and the algorithm is pinned per issuer, so a
token cannot pick its own algorithm (`alg: none`, or an HS256 token "signed" with our RSA public
key, fail before any signature maths).

This module never logs or echoes a token: error messages carry a short reason, not the token.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from serve_app.errors import ServiceCode, ServiceError

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
# Public-key algorithms and the JWK key type ("kty") each one needs.
PUBLIC_KEY_ALGORITHMS: dict[str, str] = {
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "ES256": "EC",
    "ES384": "EC",
    "ES512": "EC",
    "EdDSA": "OKP",
}
SUPPORTED_ALGORITHMS = HMAC_ALGORITHMS | PUBLIC_KEY_ALGORITHMS.keys()
REQUIRED_CLAIMS = ("exp", "nbf", "iat", "iss", "aud", "sub")
# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash output.
MIN_HMAC_SECRET_BYTES = 32
MAX_DISPLAY_NAME = 100


class AuthenticationError(ServiceError):
    """The request carries no usable credentials. Always answered with 401 and `WWW-Authenticate`."""

    def __init__(self, reason: str, message: str = "Sign-in is required or has expired.") -> None:
        super().__init__(ServiceCode.UNAUTHORIZED, message, {"reason": reason})
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.message))


@dataclass(frozen=True)
class ExternalIssuer:
    """How to trust the front end's sign-in provider."""

    issuer: str
    audience: str
    algorithm: str = "HS256"
    secret: str | None = None  # for HS* algorithms
    jwks_path: Path | None = None  # for public-key algorithms

    def __post_init__(self) -> None:
        if self.algorithm not in SUPPORTED_ALGORITHMS:
            raise ValueError(f"unsupported JWT algorithm {self.algorithm!r}")
        if self.algorithm in HMAC_ALGORITHMS:
            if not self.secret or len(self.secret.encode()) < MIN_HMAC_SECRET_BYTES:
                raise ValueError(f"{self.algorithm} needs a shared secret of at least 32 bytes")
        elif self.jwks_path is None:
            raise ValueError(f"{self.algorithm} needs a JWKS file with the provider's public keys")


@dataclass(frozen=True)
class LocalIssuer:
    """How this service signs the access tokens of local accounts."""

    secret: str
    issuer: str = "personal-color"
    audience: str = "personal-color-api"
    access_token_ttl: timedelta = timedelta(minutes=15)
    algorithm: str = "HS256"

    def __post_init__(self) -> None:
        if len(self.secret.encode()) < MIN_HMAC_SECRET_BYTES:
            raise ValueError("the local token secret must be at least 32 bytes")
        if self.algorithm not in HMAC_ALGORITHMS:
            raise ValueError("local access tokens are signed with an HS* algorithm")


@dataclass(frozen=True)
class Identity:
    """Who a verified token speaks for: the provider (`issuer`) and its stable user id (`subject`)."""

    issuer: str
    subject: str
    is_local: bool
    display_name: str | None = None


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int  # seconds


def load_jwks(path: Path, algorithm: str) -> dict[str | None, Any]:
    """Read a JWKS file into verification keys by key id, refusing keys unfit for `algorithm`.

    A symmetric ("oct") key in a public key set, or a key of the wrong type, is a configuration
    mistake that could open the door to algorithm confusion, so it stops the service at start.
    """
    wanted_kty = PUBLIC_KEY_ALGORITHMS[algorithm]
    document = json.loads(path.read_text(encoding="utf-8"))
    keys: dict[str | None, Any] = {}
    for entry in document.get("keys", []):
        if entry.get("kty") != wanted_kty:
            raise ValueError(f"JWKS key {entry.get('kid')!r} has type {entry.get('kty')!r}, not {wanted_kty}")
        if entry.get("alg") not in (None, algorithm):
            raise ValueError(f"JWKS key {entry.get('kid')!r} is for {entry['alg']}, not {algorithm}")
        if entry.get("use") not in (None, "sig"):
            continue
        keys[entry.get("kid")] = jwt.PyJWK(entry, algorithm=algorithm).key
    if not keys:
        raise ValueError(f"{path} holds no signing keys")
    return keys


class TokenVerifier:
    """Checks bearer tokens against the configured external provider and the local issuer."""

    def __init__(
        self,
        *,
        external: ExternalIssuer | None = None,
        local: LocalIssuer | None = None,
        leeway: timedelta = timedelta(seconds=30),
    ) -> None:
        if external is None and local is None:
            raise ValueError("at least one token issuer must be configured")
        if external is not None and local is not None and external.issuer == local.issuer:
            raise ValueError("the external and local token issuers must have different names")
        if external is not None and local is not None and external.secret == local.secret:
            raise ValueError("the local token secret must differ from the provider's shared secret")
        self._external = external
        self._local = local
        self._leeway = leeway
        self._jwks = (
            load_jwks(external.jwks_path, external.algorithm)
            if external is not None
            and external.jwks_path is not None
            and external.algorithm in PUBLIC_KEY_ALGORITHMS
            else {}
        )

    def verify(self, token: str) -> Identity:
        try:
            header = jwt.get_unverified_header(token)
            unverified_issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            raise AuthenticationError("malformed") from None
        if self._local is not None and unverified_issuer == self._local.issuer:
            claims = self._decode(
                token,
                header,
                self._local.algorithm,
                self._local.secret,
                self._local.issuer,
                self._local.audience,
            )
            return Identity(issuer=self._local.issuer, subject=claims["sub"], is_local=True)
        if self._external is None:
            raise AuthenticationError("unknown_issuer")
        external = self._external
        key: Any = external.secret if external.algorithm in HMAC_ALGORITHMS else self._public_key(header)
        claims = self._decode(token, header, external.algorithm, key, external.issuer, external.audience)
        name = claims.get("name")
        return Identity(
            issuer=external.issuer,
            subject=claims["sub"],
            is_local=False,
            display_name=name[:MAX_DISPLAY_NAME] if isinstance(name, str) and name else None,
        )

    def _public_key(self, header: dict[str, Any]) -> Any:
        kid = header.get("kid")
        if not isinstance(kid, str | None):
            raise AuthenticationError("unknown_key")
        if kid in self._jwks:
            return self._jwks[kid]
        if kid is None and len(self._jwks) == 1:
            return next(iter(self._jwks.values()))
        raise AuthenticationError("unknown_key")

    def _decode(
        self, token: str, header: dict[str, Any], algorithm: str, key: Any, issuer: str, audience: str
    ) -> dict[str, Any]:
        # Checked before PyJWT sees the key: the algorithm is ours to choose, never the token's.
        if header.get("alg") != algorithm:
            raise AuthenticationError("algorithm_not_allowed")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=issuer,
                audience=audience,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS), "verify_signature": True},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("expired", "The sign-in token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise AuthenticationError("not_yet_valid") from None
        except jwt.InvalidAudienceError:
            raise AuthenticationError("wrong_audience") from None
        except jwt.InvalidIssuerError:
            raise AuthenticationError("wrong_issuer") from None
        except jwt.MissingRequiredClaimError as error:
            raise AuthenticationError(f"missing_claim_{error.claim}") from None
        except jwt.InvalidSignatureError:
            raise AuthenticationError("bad_signature") from None
        except jwt.PyJWTError:
            raise AuthenticationError("invalid") from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject or len(subject) > 255:
            raise AuthenticationError("invalid_subject")
        return claims


class LocalTokenIssuer:
    """Signs short-lived access tokens for local accounts."""

    def __init__(self, config: LocalIssuer) -> None:
        self._config = config

    def issue(self, subject: str, now: datetime | None = None) -> AccessToken:
        issued_at = now or datetime.now(UTC)
        expires_at = issued_at + self._config.access_token_ttl
        claims = {
            "iss": self._config.issuer,
            "aud": self._config.audience,
            "sub": subject,
            "iat": issued_at,
            "nbf": issued_at,
            "exp": expires_at,
            "jti": secrets.token_urlsafe(16),
        }
        token = jwt.encode(claims, self._config.secret, algorithm=self._config.algorithm)
        return AccessToken(token=token, expires_in=int(self._config.access_token_ttl.total_seconds()))
