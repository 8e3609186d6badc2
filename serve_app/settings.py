"""The service's configuration: one pydantic-settings class read from the environment.

Groups nest with a double underscore (`DATABASE__URL`, `RAY__AI_RESOURCE`, `PIPELINE__MAX_UPLOAD_BYTES`);
the conventional `DATABASE_URL` is accepted too (`DATABASE__URL` wins when both are set). The pipeline
never sees this class: the `*_config()` methods build its frozen stage configs, so `pipeline/` stays
free of pydantic-settings.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from serve_app.security.settings import SecuritySettings

if TYPE_CHECKING:
    from db.engine import Timeouts
    from pipeline.decode import DecodeLimits
    from pipeline.normalize import LightingConfig


# The embedded default lives in the checkout's var/ whatever the working directory of a Ray worker is.
DEFAULT_DATABASE_URL = f"sqlite:///{Path(__file__).resolve().parent.parent / 'var' / 'personal_color.db'}"


class DatabaseSettings(BaseModel):
    # The URL may hold a password: keep it out of reprs and logs.
    url: str = Field(DEFAULT_DATABASE_URL, repr=False)
    auto_migrate: bool = Field(
        True,
        description="Apply Alembic migrations when the ingress starts, so `serve run` works on a fresh "
        "database. Turn off where a separate job migrates (several ingress replicas).",
    )
    write_retry_s: float = Field(
        300.0,
        gt=0,
        description="How long the writer keeps retrying an outcome (a finished diagnosis, a failure) "
        "through a database outage before giving up; the task's lease then ends it.",
    )
    retry_initial_s: float = Field(0.2, gt=0, description="First backoff; doubles per attempt.")
    retry_max_s: float = Field(5.0, gt=0, description="Cap of one backoff step.")
    heartbeat_s: float = Field(
        1.0,
        gt=0,
        description="How often an ingress replica records its analyses' stages and renews their lease.",
    )
    lease_s: float = Field(
        8.0,
        gt=0,
        description="An unfinished task whose lease is this old belongs to a replica that died: any ingress "
        "replica then ends it as failed with INTERRUPTED. Several heartbeats, so one slow one is no death.",
    )
    # Every wait on the database is bounded, so an outage answers 503 at once instead of hanging
    # requests (db.engine.Timeouts says what each bounds).
    connect_timeout_s: float = Field(3.0, gt=0, description="Opening a connection.")
    statement_timeout_s: float = Field(4.0, gt=0, description="One statement (PostgreSQL statement_timeout).")
    socket_timeout_s: float = Field(5.0, gt=0, description="Silence of the server on an open connection.")
    pool_timeout_s: float = Field(3.0, gt=0, description="Waiting for a free pooled connection.")
    sqlite_busy_timeout_s: float = Field(5.0, gt=0, description="SQLite: waiting for another writer.")

    @field_validator("url")
    @classmethod
    def _default_postgres_driver(cls, url: str) -> str:
        """`postgres://` and `postgresql://` (how hosting platforms write them) mean psycopg2, the
        driver we ship."""
        scheme, separator, rest = url.partition("://")
        if separator and scheme in ("postgres", "postgresql"):
            return f"postgresql+psycopg2://{rest}"
        return url

    def timeouts(self) -> Timeouts:
        from db.engine import Timeouts

        return Timeouts(
            connect_s=self.connect_timeout_s,
            statement_s=self.statement_timeout_s,
            socket_s=self.socket_timeout_s,
            pool_s=self.pool_timeout_s,
            sqlite_busy_s=self.sqlite_busy_timeout_s,
        )


class PipelineSettings(BaseModel):
    max_upload_bytes: int = Field(10_000_000, gt=0, description="Larger uploads get 413.")
    max_pixels: int = Field(40_000_000, gt=0, description="Decoded pixel budget, read from the header.")
    min_lighting_score: float | None = Field(
        None, ge=0, le=100, description="Override of the lighting threshold (pipeline default if unset)."
    )
    language: Literal["ko", "en"] = "ko"
    model_path: str | None = Field(None, description="ONNX model; the pipeline's bundled model if unset.")
    analysis_timeout_s: float = Field(60.0, gt=0, description="One analysis may take at most this long.")
    poll_interval_s: float = Field(
        0.5, gt=0, description="How often clients should poll a task; sent with each unfinished status."
    )
    # Little's law on bench.capacity's figures: about 12 analyses/s through 2 cores, times the 2 s an
    # analysis may take from upload to result, is 24 in flight. More would only queue (each queued
    # analysis also costs the ingress a poll every 0.5 s, which slows the rest); fewer idles a stage.
    max_in_flight: int = Field(
        24,
        gt=0,
        description="Analyses one ingress replica holds at once (each keeps its photo in memory until "
        "normalised); beyond this, new uploads get 503 with Retry-After and should retry.",
    )

    def decode_limits(self) -> DecodeLimits:
        from pipeline.decode import DecodeLimits

        return DecodeLimits(max_bytes=self.max_upload_bytes, max_pixels=self.max_pixels)

    def lighting_config(self) -> LightingConfig:
        from pipeline.normalize import LightingConfig

        if self.min_lighting_score is None:
            return LightingConfig()
        return LightingConfig(min_score=self.min_lighting_score)


class RaySettings(BaseModel):
    """Where replicas go. An empty resource name turns placement off (a plain single-node Ray)."""

    web_resource: str = Field("web_node", description="Custom resource of the node that takes HTTP.")
    ai_resource: str = Field("ai_node", description="Custom resource of the node that runs the models.")
    resource_per_replica: float = Field(
        0.01, gt=0, le=1, description="How much of its node's resource one replica asks for."
    )
    # Ray counts custom resources like CPUs: a node declaring 1000 fits 100_000 replicas at 0.01, so
    # the declared amount never limits scaling; CPUs do. Autoscaler-visible amounts must be integers.
    node_resource_capacity: int = Field(1000, gt=0)
    num_cpus: int = Field(2, gt=0, description="CPUs the local Ray declares (`serve_app.local`).")
    object_store_mb: int = Field(512, gt=64, description="Local object store size; lives in /dev/shm.")
    dashboard_port: int = 8265
    http_entry: Literal["haproxy", "proxy"] = Field(
        "haproxy",
        description=(
            "What takes HTTP on the head node: HAProxy, which forwards each request straight to an "
            "Ingress replica's own HTTP server (Serve's direct ingress), or Serve's Python proxy, "
            "which turns each request into an actor call (docs/serving.md, 'Capacity')."
        ),
    )

    @field_validator("web_resource", "ai_resource")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    def process_env(self) -> dict[str, str]:
        """Environment of the Ray processes (read at their start: the proxy, the replicas' HTTP
        servers). Serve's uvicorn trusts X-Forwarded-For from loopback peers by default, so a client
        on the proxy's host could name any address and escape the per-address limits: it trusts no
        peer, and the app alone reads the header (SECURITY__TRUSTED_PROXY_HOPS)."""
        return {
            "FORWARDED_ALLOW_IPS": "",
            "RAY_SERVE_ENABLE_HA_PROXY": "1" if self.http_entry == "haproxy" else "0",
            # A replica that takes HTTP itself stays open this long when stopped (Serve's default 30 s,
            # for outside load balancers to deregister it). Serve's own HAProxy drops it within a
            # fraction of a second, and 30 s would hold every shutdown and downscale.
            "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "2",
        }

    def node_resources(self) -> dict[str, float]:
        """What a local single-node Ray declares so every replica finds its resource."""
        names = {self.web_resource, self.ai_resource} - {""}
        return {name: float(self.node_resource_capacity) for name in sorted(names)}


class _DatabaseUrlAlias(PydanticBaseSettingsSource):
    """Reads the conventional `DATABASE_URL` into `database.url` (lower priority than `DATABASE__URL`)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        url = os.environ.get("DATABASE_URL")
        return {"database": {"url": url}} if url else {}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_nested_delimiter="__", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "production"] = "development"
    log_level: str = "INFO"
    database: DatabaseSettings = DatabaseSettings()
    pipeline: PipelineSettings = PipelineSettings()
    ray: RaySettings = RaySettings()
    security: SecuritySettings = SecuritySettings()

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        """In production, a default or missing secret stops the service before it serves anyone."""
        if self.environment == "production" and (problems := self.security.production_problems()):
            raise ValueError("unsafe production configuration: " + "; ".join(problems))
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            _DatabaseUrlAlias(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once; tests call `get_settings.cache_clear()` after changing env."""
    return Settings()
