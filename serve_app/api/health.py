"""Probes: `/healthz` (the process answers) and `/readyz` (database reachable, every deployment healthy)."""

# No `from __future__ import annotations`: FastAPI must see the route annotations as objects.

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from ray import serve

from serve_app.api.readiness import READY, deployment_checks
from serve_app.api.schemas import Health

health_routes = APIRouter()


@health_routes.get("/healthz", response_model=Health, summary="The ingress process is alive")
def healthz() -> Health:
    return Health(status="ok")


@health_routes.get(
    "/readyz", response_model=Health, summary="Database reachable and every deployment healthy"
)
def readyz(request: Request) -> JSONResponse:
    checks = {"database": "ok" if request.app.state.database_probe.reachable() else "unreachable"}
    checks.update(deployment_checks(serve.get_replica_context().app_name))
    ready = all(value in READY for value in checks.values())
    body = Health(status="ok" if ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
