"""The HTTP API as one FastAPI app: its routers, the error shape and the security around them.

`build_api` runs inside each ingress replica (`Ingress.__serve_build_asgi_app__`), not in the driver,
so what requests need per replica (the database engine, the security context, the analysis runner)
is created where they are served and never pickled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from serve_app.api.analysis import analysis_routes
from serve_app.api.health import health_routes
from serve_app.api.history import history_routes
from serve_app.api.web_app import WebAppMiddleware
from serve_app.database import attach_database
from serve_app.errors import install_error_handlers
from serve_app.orchestration import AnalysisRunner
from serve_app.security.auth.context import SecurityContext
from serve_app.security.install import install_security
from serve_app.settings import get_settings


@asynccontextmanager
async def _replica_resources(app: FastAPI) -> AsyncIterator[None]:
    """The replica's engine, security context (whose rate limiter may hold a Redis connection) and
    the heartbeat of its analyses."""
    settings = get_settings()
    app.state.security = SecurityContext.from_settings(settings.security)
    sessions = attach_database(app, settings.database.url, settings.database.timeouts())
    runner: AnalysisRunner = app.state.runner
    heartbeat = asyncio.create_task(runner.keep_leases(sessions, settings.database))
    yield
    heartbeat.cancel()
    app.state.engine.dispose()


def build_api(runner: AnalysisRunner) -> FastAPI:
    api = FastAPI(
        title="Personal color",
        summary="Seasonal color diagnosis from a selfie. The photo is analysed in memory and never stored.",
        version="0.1.0",
        lifespan=_replica_resources,
    )
    api.state.runner = runner
    install_error_handlers(api)
    api.include_router(analysis_routes)
    api.include_router(history_routes)
    api.include_router(health_routes)
    # The web app's pages and files (serve_app.api.web_app), inside the security middleware below so its
    # answers get the same headers, limits and CORS as the API's.
    api.add_middleware(WebAppMiddleware)
    # Sign-in, limits, CORS and security headers wrap every route (serve_app.security).
    install_security(api, get_settings().security)
    return api
