"""The ingress deployment (web node): serves the HTTP API and runs the analyses it accepts.

The class is a shell: the routes are in `serve_app.api`, one analysis in `serve_app.orchestration`.
Its app is built inside the replica (`__serve_build_asgi_app__`), after the handles it needs exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from ray import serve
from ray.serve.handle import DeploymentHandle

from db.migrate import upgrade_to_head
from serve_app.api.main import build_api
from serve_app.database import ensure_sqlite_directory
from serve_app.orchestration import AnalysisRunner, StageHandles
from serve_app.settings import get_settings


@serve.deployment
@serve.ingress()
class Ingress:
    def __init__(
        self,
        normalize: DeploymentHandle[Any],
        landmark: DeploymentHandle[Any],
        classify: DeploymentHandle[Any],
        writer: DeploymentHandle[Any],
    ) -> None:
        settings = get_settings()
        # Before the app's lifespan, so the schema is in place when the replica starts serving.
        ensure_sqlite_directory(settings.database.url)
        if settings.database.auto_migrate:
            upgrade_to_head(settings.database.url)
        handles = StageHandles(normalize, landmark, classify, writer)
        self._runner = AnalysisRunner(handles, settings.pipeline)

    def __serve_build_asgi_app__(self) -> FastAPI:
        return build_api(self._runner)
