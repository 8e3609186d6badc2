"""The HTTP API (FastAPI) and the ingress deployment that runs analyses in the background.

`POST /analysis/start` reads the photo into memory, creates a task row and answers `202` at once; the
analysis then runs as an asyncio task through the Normalize -> Landmark -> Classify deployments and
the ResultWriter, recording its stage as it goes. Clients poll `GET /analysis/status/{task_id}`.

The photo lives only in this process's memory and Ray's in-memory object store: it is never written
to disk, logged, or put into an error message.
"""

# No `from __future__ import annotations` here: Serve re-wraps the route methods, and FastAPI must
# see their parameter annotations as objects, not strings it would resolve in Serve's module.

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from ray import serve
from ray.exceptions import NodeDiedError, ObjectLostError, RayActorError, WorkerCrashedError
from ray.serve.handle import DeploymentHandle

from db.migrate import upgrade_to_head
from db.tasks import create_task, get_task_for_owner, sweep_stuck_tasks
from pipeline.decode import sniff_image_type
from pipeline.errors import ErrorCode, PipelineError
from serve_app.auth import AnalysisUser, OptionalUser
from serve_app.auth.context import SecurityContext
from serve_app.database import SessionDep, attach_database, database_reachable, ensure_sqlite_directory
from serve_app.errors import install_error_handlers
from serve_app.history import history_routes, parse_id
from serve_app.results import history_record, task_status
from serve_app.schemas import AnalysisAccepted, AnalysisStatus, Health
from serve_app.security import install_security
from serve_app.settings import get_settings
from serve_app.upload import read_upload_form

logger = logging.getLogger("ray.serve")


@asynccontextmanager
async def _replica_resources(app: FastAPI) -> AsyncIterator[None]:
    """Per-replica state, created where the app is served.

    `@serve.ingress` serves a frozen copy of `api`, taken when the class is decorated; this lifespan
    runs on that copy inside the replica, so the engine (and a fresh security context, whose rate
    limiter may hold a Redis connection) belong to the app that handles requests.
    """
    settings = get_settings()
    app.state.security = SecurityContext.from_settings(settings.security)
    sessions = attach_database(app, settings.database.url)
    stuck_after = timedelta(seconds=settings.database.stuck_task_after_s)
    with sessions() as session:
        swept = await run_in_threadpool(sweep_stuck_tasks, session, stuck_after)
    if swept:
        logger.warning("Marked %d interrupted analyses as failed", swept)
    yield
    app.state.engine.dispose()


api = FastAPI(
    title="Personal color",
    summary="Seasonal color diagnosis from a selfie. The photo is analysed in memory and never stored.",
    version="0.1.0",
    lifespan=_replica_resources,
)
install_error_handlers(api)
api.include_router(history_routes)
# Sign-in, limits, CORS and security headers wrap every route (serve_app.security). Installed before
# the class below is decorated: @serve.ingress freezes the app as it is at that moment.
install_security(api, get_settings().security)

IMAGE_FIELD = "image"
# The upload is parsed by hand (serve_app.upload) so it never spools to disk; describe it for /docs.
_UPLOAD_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [IMAGE_FIELD],
                    "properties": {
                        IMAGE_FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "JPEG, PNG or WebP",
                        },
                        "lighting_score": {
                            "type": "number",
                            "minimum": 0,
                            "maximum": 100,
                            "description": "The app's own lighting check (0-100), if it made one.",
                        },
                        "lang": {"type": "string", "enum": ["ko", "en"]},
                    },
                }
            }
        },
    }
}
_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"description": "IMAGE_TOO_LARGE"},
    415: {"description": "UNSUPPORTED_MEDIA_TYPE: not a JPEG, PNG or WebP"},
    422: {"description": "VALIDATION_ERROR"},
}


# A replica, its worker process or its whole node went away during the analysis (e.g. the AI node was
# lost): nothing was wrong with the photo, and a retry succeeds once Serve has a replica again.
_LOST_REPLICA = (RayActorError, NodeDiedError, ObjectLostError, WorkerCrashedError)

# Scaling up or down is normal operation; UNHEALTHY, DEPLOY_FAILED or still UPDATING are not ready.
_READY = frozenset({"ok", "healthy", "upscaling", "downscaling"})


def _optional_score(raw: str | None) -> float | None:
    if raw is None or not raw.strip():
        return None
    try:
        score = float(raw)
    except ValueError:
        score = -1.0
    if not 0.0 <= score <= 100.0:
        raise PipelineError(ErrorCode.VALIDATION_ERROR, "lighting_score must be a number from 0 to 100.")
    return score


def _language(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return get_settings().pipeline.language
    if raw not in ("ko", "en"):
        raise PipelineError(ErrorCode.VALIDATION_ERROR, "lang must be 'ko' or 'en'.")
    return raw


def _cause(error: BaseException) -> BaseException:
    """The exception a deployment raised, unwrapped from Ray's RayTaskError."""
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, BaseException) else error


@serve.deployment
@serve.ingress(api)
class Ingress:
    def __init__(
        self,
        normalize: DeploymentHandle[Any],
        landmark: DeploymentHandle[Any],
        classify: DeploymentHandle[Any],
        writer: DeploymentHandle[Any],
    ) -> None:
        self._settings = get_settings()
        self._normalize = normalize
        self._landmark = landmark
        self._classify = classify
        self._writer = writer
        self._running: set[asyncio.Task[None]] = set()
        # Runs before the lifespan above, so the schema is in place when the replica starts serving.
        database = self._settings.database
        ensure_sqlite_directory(database.url)
        if database.auto_migrate:
            upgrade_to_head(database.url)

    # --- Analyses -----------------------------------------------------------------------------

    @api.post(
        "/analysis/start",
        status_code=202,
        response_model=AnalysisAccepted,
        openapi_extra=_UPLOAD_REQUEST_BODY,
        responses=_ERROR_RESPONSES,
        summary="Submit a selfie for analysis",
    )
    async def start_analysis(self, request: Request, user: AnalysisUser, session: SessionDep) -> JSONResponse:
        if len(self._running) >= self._settings.pipeline.max_in_flight:
            raise PipelineError(
                ErrorCode.SERVICE_UNAVAILABLE, "Too many photos are being analysed right now. Please retry."
            )
        limit = self._settings.pipeline.max_upload_bytes
        form = await read_upload_form(
            request.headers.get("content-type"),
            request.headers.get("content-length"),
            request.stream(),
            image_field=IMAGE_FIELD,
            max_image_bytes=limit,
        )
        if not form.image:
            raise PipelineError(
                ErrorCode.VALIDATION_ERROR, f"Attach the photo as the form field '{IMAGE_FIELD}'."
            )
        # The declared content type is the client's claim; the first bytes are the truth.
        if sniff_image_type(form.image[:64]) is None:
            raise PipelineError(
                ErrorCode.UNSUPPORTED_MEDIA_TYPE, "The file is not a JPEG, PNG or WebP image."
            )
        score = _optional_score(form.fields.get("lighting_score"))
        lang = _language(form.fields.get("lang"))

        # `user` is None only for an anonymous diagnosis (a setting, off by default).
        task = await run_in_threadpool(create_task, session, user.id if user else None)
        task_id = str(task.id)
        self._spawn(self._analyse(task_id, form.image, score, lang))

        # A path, not an absolute URL: behind a TLS-terminating proxy the scheme and host seen here
        # are not the client's.
        status_url = request.url_for("analysis_status", task_id=task_id).path
        body = AnalysisAccepted(task_id=task_id, status_url=status_url)
        return JSONResponse(body.model_dump(), status_code=202, headers={"Location": status_url})

    @api.get("/analysis/status/{task_id}", response_model=AnalysisStatus, name="analysis_status")
    def analysis_status(self, task_id: str, user: OptionalUser, session: SessionDep) -> AnalysisStatus:
        # `user` is None only for an anonymous caller (a setting): it reads only unowned tasks.
        task = get_task_for_owner(session, parse_id(task_id, "No such analysis."), user.id if user else None)
        if task is None:
            raise PipelineError(ErrorCode.NOT_FOUND, "No such analysis.")
        return task_status(task)

    @api.get("/", include_in_schema=False)
    def index(self) -> dict[str, str]:
        return {"service": "personal-color", "docs": "/docs", "health": "/healthz"}

    # --- Health -------------------------------------------------------------------------------

    @api.get("/healthz", response_model=Health, summary="The ingress process is alive")
    def healthz(self) -> Health:
        return Health(status="ok")

    @api.get("/readyz", response_model=Health, summary="Database reachable and every deployment healthy")
    def readyz(self, request: Request) -> JSONResponse:
        checks = {"database": "ok" if database_reachable(request.app.state.engine) else "unreachable"}
        app_name = serve.get_replica_context().app_name
        application = serve.status().applications.get(app_name)
        for name, deployment in (application.deployments if application else {}).items():
            checks[name] = str(deployment.status.value).lower()
        ready = all(value in _READY for value in checks.values())
        body = Health(status="ok" if ready else "unavailable", checks=checks)
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    # --- The background analysis --------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._running.add(task)  # keep a reference until done, or the loop may drop it
        task.add_done_callback(self._running.discard)

    async def _analyse(self, task_id: str, image: bytes, score: float | None, lang: str) -> None:
        try:
            async with asyncio.timeout(self._settings.pipeline.analysis_timeout_s):
                await self._stage(task_id, "normalizing")
                normalized = await self._normalize.remote(image, score)
                del image
                await self._stage(task_id, "landmarks")
                features = await self._landmark.remote(normalized)
                report = normalized.report
                del normalized
                await self._stage(task_id, "classifying")
                diagnosis = await self._classify.remote((features, report, lang))
                await self._stage(task_id, "saving")
            # Outside the timeout: a finished diagnosis is saved however long the database needs.
            await self._writer.complete.remote(task_id, history_record(diagnosis, report))
        except Exception as raised:
            await self._record_failure(task_id, _cause(raised))

    async def _stage(self, task_id: str, stage: str) -> None:
        """Progress is for the person waiting; failing to record it must not fail their analysis."""
        try:
            await self._writer.stage.remote(task_id, stage)
        except Exception as error:
            logger.warning(
                "Could not record stage %s of %s: %s", stage, task_id, type(_cause(error)).__name__
            )

    async def _record_failure(self, task_id: str, error: BaseException) -> None:
        if isinstance(error, PipelineError):
            code, message = error.code, error.message
        elif isinstance(error, TimeoutError):
            code, message = ErrorCode.TIMEOUT, "The analysis took too long. Please try again."
        elif isinstance(error, _LOST_REPLICA):
            logger.warning("Analysis %s lost its replica: %s", task_id, type(error).__name__)
            code, message = ErrorCode.SERVICE_UNAVAILABLE, "The analysis was interrupted. Please try again."
        else:
            # Only the type: an exception's text might quote its input.
            logger.error("Analysis %s failed unexpectedly: %s", task_id, type(error).__name__)
            code, message = ErrorCode.INTERNAL_ERROR, "The analysis failed on our side. Please try again."
        try:
            await self._writer.fail.remote(task_id, code, message)
        except Exception as write_error:
            logger.error("Could not record the failure of %s: %s", task_id, type(write_error).__name__)
