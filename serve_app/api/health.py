"""Probes: `/healthz` (the process answers) and `/readyz` (database reachable, every deployment healthy)."""

# No `from __future__ import annotations`: FastAPI must see the route annotations as objects.

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from ray import serve

from serve_app.api.schemas import Health
from serve_app.database import database_reachable

health_routes = APIRouter()

# Scaling up or down is normal operation; UNHEALTHY, DEPLOY_FAILED or still UPDATING are not ready.
_READY = frozenset({"ok", "healthy", "upscaling", "downscaling"})


@health_routes.get("/healthz", response_model=Health, summary="The ingress process is alive")
def healthz() -> Health:
    return Health(status="ok")


@health_routes.get(
    "/readyz", response_model=Health, summary="Database reachable and every deployment healthy"
)
def readyz(request: Request) -> JSONResponse:
    checks = {"database": "ok" if database_reachable(request.app.state.engine) else "unreachable"}
    app_name = serve.get_replica_context().app_name
    application = serve.status().applications.get(app_name)
    for name, deployment in (application.deployments if application else {}).items():
        checks[name] = str(deployment.status.value).lower()
    ready = all(value in _READY for value in checks.values())
    body = Health(status="ok" if ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
