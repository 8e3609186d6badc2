"""The `security` settings group: token trust, local accounts, CORS, rate limits, anonymous use.

Read from `SECURITY__*` environment variables (for example `SECURITY__TOKEN_SECRET`,
`SECURITY__PROVIDER_ISSUER`, `SECURITY__RATE_LIMIT_STORAGE=redis://redis:6379`). Secrets are
`SecretStr`, so they never show in a repr or a log line. The development defaults let `make run`
work with nothing configured; `production_problems()` lists every default or missing secret so a
production process refuses to start with one.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, SecretStr

if TYPE_CHECKING:  # imported where used, so reading settings does not load the auth stack
    from serve_app.security.auth.tokens import ExternalIssuer, LocalIssuer
    from serve_app.security.rate_limit import RateLimitConfig

# Mirrors serve_app.security.auth.tokens (the verifier refuses anything else); kept here so settings
# stay light.
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
SUPPORTED_ALGORITHMS = HMAC_ALGORITHMS | {
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
}

# Publicly known, so only ever acceptable on a developer's machine.
DEVELOPMENT_TOKEN_SECRET = "development-only-local-token-secret-do-not-deploy"  # noqa: S105


class SecuritySettings(BaseModel):
    # Local accounts (POST /auth/register, /auth/login, ...)
    local_accounts: bool = Field(True, description="Offer local accounts (register/login with a password).")
    token_secret: SecretStr = Field(
        SecretStr(DEVELOPMENT_TOKEN_SECRET),
        description="Signs local access tokens (HS256, at least 32 bytes). Required in production.",
    )
    local_issuer: str = "personal-color"
    audience: str = Field("personal-color-api", description="`aud` of local access tokens.")
    access_token_minutes: int = Field(15, gt=0, le=60)
    refresh_token_days: int = Field(30, gt=0, le=365)
    min_password_length: int = Field(10, ge=8)

    # The front end's sign-in provider (OAuth via NextAuth or similar); unset = local accounts only.
    provider_issuer: str | None = Field(None, description="Expected `iss` of the provider's tokens.")
    provider_audience: str | None = Field(None, description="Expected `aud` of the provider's tokens.")
    provider_algorithm: str = Field(
        "HS256", description="HS256/384/512, RS256..., PS256..., ES256..., EdDSA."
    )
    provider_secret: SecretStr | None = Field(None, description="Shared secret for HS* provider tokens.")
    provider_jwks_path: Path | None = Field(None, description="JWKS file with the provider's public keys.")
    leeway_seconds: int = Field(30, ge=0, le=300, description="Clock skew tolerated on exp/nbf/iat.")

    # Browser and transport
    cors_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:3000"],
        description="Front-end origins allowed to call the API from a browser.",
    )
    hsts: bool = Field(False, description="Send Strict-Transport-Security (enable behind HTTPS).")
    body_timeout_s: float = Field(
        20.0,
        gt=0,
        description="A request body must arrive within this long (408); below serve_config.yaml's "
        "request_timeout_s (30 s), after which Serve's proxy answers a plain-text 408 itself.",
    )

    # Rate limits (`limits` notation, e.g. "10/minute")
    rate_limit_storage: str = Field(
        "memory://", repr=False, description="memory:// for one replica; redis://host:6379 for several."
    )
    rate_limit_key_prefix: str = "personal-color"
    analyses_per_user: str = "10/minute"
    requests_per_address: str = "100/minute"
    login_failures_per_name: str = "5/15minutes"
    login_failures_per_address: str = "20/15minutes"
    trusted_proxy_hops: int = Field(
        0, ge=0, description="Proxies in front of the ingress whose X-Forwarded-For entry is trusted."
    )

    # Diagnosis without an account: no history; a task is readable only through its unguessable id.
    allow_anonymous: bool = False

    def local_issuer_config(self) -> LocalIssuer:
        from serve_app.security.auth.tokens import LocalIssuer

        return LocalIssuer(
            secret=self.token_secret.get_secret_value(),
            issuer=self.local_issuer,
            audience=self.audience,
            access_token_ttl=timedelta(minutes=self.access_token_minutes),
        )

    def external_issuer_config(self) -> ExternalIssuer | None:
        from serve_app.security.auth.tokens import ExternalIssuer

        if not self.provider_issuer:
            return None
        return ExternalIssuer(
            issuer=self.provider_issuer,
            audience=self.provider_audience or self.audience,
            algorithm=self.provider_algorithm,
            secret=self.provider_secret.get_secret_value() if self.provider_secret else None,
            jwks_path=self.provider_jwks_path,
        )

    def rate_limit_config(self) -> RateLimitConfig:
        from serve_app.security.rate_limit import RateLimitConfig

        return RateLimitConfig(
            storage_uri=self.rate_limit_storage,
            key_prefix=self.rate_limit_key_prefix,
            analyses_per_user=self.analyses_per_user,
            requests_per_address=self.requests_per_address,
            login_failures_per_name=self.login_failures_per_name,
            login_failures_per_address=self.login_failures_per_address,
        )

    def production_problems(self) -> list[str]:
        """Everything that makes this configuration unsafe to serve real people with."""
        problems: list[str] = []
        secret = self.token_secret.get_secret_value()
        if self.local_accounts and (secret == DEVELOPMENT_TOKEN_SECRET or len(secret.encode()) < 32):
            problems.append("SECURITY__TOKEN_SECRET must be set to a random value of at least 32 bytes")
        if not self.local_accounts and not self.provider_issuer:
            problems.append(
                "no sign-in is configured: enable local accounts or set SECURITY__PROVIDER_ISSUER"
            )
        if self.provider_issuer:
            if self.provider_algorithm not in SUPPORTED_ALGORITHMS:
                problems.append(f"SECURITY__PROVIDER_ALGORITHM {self.provider_algorithm!r} is not supported")
            elif self.provider_algorithm in HMAC_ALGORITHMS:
                provider_secret = self.provider_secret.get_secret_value() if self.provider_secret else ""
                if len(provider_secret.encode()) < 32 or provider_secret == DEVELOPMENT_TOKEN_SECRET:
                    problems.append(
                        "SECURITY__PROVIDER_SECRET must be the provider's secret (at least 32 bytes)"
                    )
                elif provider_secret == secret:
                    problems.append("SECURITY__PROVIDER_SECRET and SECURITY__TOKEN_SECRET must differ")
            elif self.provider_jwks_path is None or not self.provider_jwks_path.is_file():
                problems.append("SECURITY__PROVIDER_JWKS_PATH must name the provider's JWKS file")
        if any(origin.strip() in {"*", ""} for origin in self.cors_origins):
            problems.append("SECURITY__CORS_ORIGINS must list the front end's origin, not '*'")
        return problems
