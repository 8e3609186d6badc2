"""Submitting a photo and polling its analysis: `POST /analysis/start`, `GET /analysis/status/{task_id}`.

`start` reads the photo into memory, creates the task row, hands the photo to the replica's
`AnalysisRunner` and answers `202` at once. `status` is what the front end polls.
"""

# No `from __future__ import annotations`: FastAPI must see the route annotations as objects.

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker

from db.tasks import create_task, get_task_for_identity
from pipeline.decode import sniff_image_type
from pipeline.errors import ErrorCode
from serve_app.api.form_values import lighting_score
from serve_app.api.history import parse_id
from serve_app.api.results import task_status
from serve_app.api.schemas import AnalysisAccepted, AnalysisStatus
from serve_app.api.upload import read_upload_form
from serve_app.database import SessionDep
from serve_app.errors import ServiceCode, ServiceError
from serve_app.orchestration import AnalysisRunner
from serve_app.security.auth import AnalysisUser, TokenIdentity
from serve_app.settings import get_settings

analysis_routes = APIRouter()

IMAGE_FIELD = "image"
# The upload is parsed by hand (serve_app.api.upload) so it never spools to disk; describe it for /docs.
_UPLOAD_FORM: dict[str, Any] = {
    "type": "object",
    "required": [IMAGE_FIELD],
    "properties": {
        IMAGE_FIELD: {"type": "string", "format": "binary", "description": "JPEG, PNG or WebP"},
        "lighting_score": {
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "description": "The app's own lighting check (0-100), if it made one.",
        },
        "lang": {"type": "string", "enum": ["ko", "en"]},
    },
}
_UPLOAD_REQUEST_BODY = {
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _UPLOAD_FORM}}}
}
_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"description": "IMAGE_TOO_LARGE"},
    415: {"description": "UNSUPPORTED_MEDIA_TYPE: not a JPEG, PNG or WebP"},
    422: {"description": "VALIDATION_ERROR"},
    503: {"description": "SERVICE_UNAVAILABLE: too many photos in flight; retry after Retry-After"},
}


def _runner(request: Request) -> AnalysisRunner:
    runner: AnalysisRunner = request.app.state.runner
    return runner


Runner = Annotated[AnalysisRunner, Depends(_runner)]


def _language(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return get_settings().pipeline.language
    if raw not in ("ko", "en"):
        raise ServiceError(ErrorCode.VALIDATION_ERROR, "lang must be 'ko' or 'en'.")
    return raw


@analysis_routes.post(
    "/analysis/start",
    status_code=202,
    response_model=AnalysisAccepted,
    openapi_extra=_UPLOAD_REQUEST_BODY,
    responses=_ERROR_RESPONSES,
    summary="Submit a selfie for analysis",
)
async def start_analysis(
    request: Request, user: AnalysisUser, session: SessionDep, runner: Runner
) -> JSONResponse:
    runner.check_capacity()
    form = await read_upload_form(
        request.headers.get("content-type"),
        request.headers.get("content-length"),
        request.stream(),
        image_field=IMAGE_FIELD,
        max_image_bytes=get_settings().pipeline.max_upload_bytes,
    )
    if not form.image:
        raise ServiceError(ErrorCode.VALIDATION_ERROR, f"Attach the photo as the form field '{IMAGE_FIELD}'.")
    # The declared content type is the client's claim; the first bytes are the truth.
    if sniff_image_type(form.image[:64]) is None:
        raise ServiceError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "The file is not a JPEG, PNG or WebP image.")
    score = lighting_score(form.fields.get("lighting_score"))
    lang = _language(form.fields.get("lang"))

    # `user` is None only for an anonymous diagnosis (a setting, off by default).
    task = await run_in_threadpool(create_task, session, user.id if user else None)
    task_id = str(task.id)
    runner.start(task_id, form.image, score, lang)

    # A path, not an absolute URL: behind a TLS-terminating proxy the scheme and host seen here are
    # not the client's.
    status_url = request.url_for("analysis_status", task_id=task_id).path
    body = AnalysisAccepted(task_id=task_id, status_url=status_url)
    return JSONResponse(body.model_dump(), status_code=202, headers={"Location": status_url})


@analysis_routes.get(
    "/analysis/status/{task_id}",
    response_model=AnalysisStatus,
    name="analysis_status",
    summary="Where an analysis is; poll until completed or failed, every `poll_after_s` (0.5 s)",
)
async def analysis_status(task_id: str, caller: TokenIdentity, request: Request) -> AnalysisStatus:
    # The poll's whole cost is the token check and one indexed query (no user row, no remote call),
    # in one hop to a worker thread. `caller` is None only for an anonymous caller (a setting): it
    # reads only unowned tasks.
    status = await run_in_threadpool(
        _status_of, request.app.state.sessions, parse_id(task_id, "No such analysis."), caller
    )
    if status is None:
        raise ServiceError(ServiceCode.NOT_FOUND, "No such analysis.")
    return status


def _status_of(
    sessions: sessionmaker[Session], task_id: uuid.UUID, caller: tuple[str, str] | None
) -> AnalysisStatus | None:
    with sessions() as session:
        task = get_task_for_identity(session, task_id, caller)
        return None if task is None else task_status(task, get_settings().pipeline.poll_interval_s)
