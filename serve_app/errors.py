"""The service's own error codes, and one JSON error shape for the whole API: `{"error": {"code", "message",
"details"?}}`.

Every failure a client can see goes through here: pipeline errors (bad photo, poor lighting, codes from
`pipeline.errors.ErrorCode`), the service's own (`ServiceCode`: sign-in, limits, routes, outages),
request validation, unknown routes and anything unexpected. Each code has exactly one HTTP status.
Nothing here echoes request content back: validation details carry the field location and reason,
never the submitted value (it could be image bytes).
"""

from __future__ import annotations

import logging
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.errors import ErrorCode, PipelineError

logger = logging.getLogger("ray.serve")


class ServiceCode(StrEnum):
    """Codes of the HTTP service itself; like the pipeline's, never renamed, only added."""

    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    UNAUTHORIZED = "UNAUTHORIZED"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    TIMEOUT = "TIMEOUT"
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # The replica holding the photo went away (the photo is never stored): take it again.
    INTERRUPTED = "INTERRUPTED"


Code = ErrorCode | ServiceCode


class ServiceError(Exception):
    """A refusal by the service with a stable code and a human message; raised by the service's own
    code (the pipeline raises `PipelineError`). Input checks reuse the pipeline's VALIDATION_ERROR."""

    def __init__(
        self,
        code: Code,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        retry_after_s: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}
        self.retry_after_s = retry_after_s  # sent as Retry-After: when trying again makes sense

    def to_dict(self) -> dict[str, Any]:
        """The inside of the error shape, as `PipelineError.to_dict` gives it."""
        body: dict[str, Any] = error_body(self.code, self.message, self.details)["error"]
        return body


HTTP_STATUS: dict[Code, int] = {
    ErrorCode.INVALID_IMAGE: 422,
    ErrorCode.IMAGE_TOO_LARGE: 413,
    ServiceCode.REQUEST_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.NOT_A_COLOR_IMAGE: 422,
    ErrorCode.POOR_LIGHTING_CONDITION: 422,
    ErrorCode.NO_FACE_DETECTED: 422,
    ErrorCode.MULTIPLE_FACES: 422,
    ErrorCode.FACE_TOO_SMALL: 422,
    ErrorCode.FACE_NOT_FRONTAL: 422,
    ErrorCode.EYES_NOT_VISIBLE: 422,
    # A model that does not match the code is the operator's problem, not the client's.
    ErrorCode.MODEL_MISMATCH: 503,
    ErrorCode.VALIDATION_ERROR: 422,
    ServiceCode.NOT_FOUND: 404,
    ServiceCode.METHOD_NOT_ALLOWED: 405,
    ServiceCode.UNAUTHORIZED: 401,
    ServiceCode.CONFLICT: 409,
    ServiceCode.RATE_LIMITED: 429,
    ServiceCode.TIMEOUT: 504,
    ServiceCode.REQUEST_TIMEOUT: 408,
    ServiceCode.SERVICE_UNAVAILABLE: 503,
    ServiceCode.INTERNAL_ERROR: 500,
    ServiceCode.INTERRUPTED: 503,
}

# Statuses Starlette raises by itself (unknown route, wrong method, ...), mapped onto our codes.
_CODE_FOR_STATUS: dict[int, Code] = {
    400: ErrorCode.VALIDATION_ERROR,
    401: ServiceCode.UNAUTHORIZED,
    404: ServiceCode.NOT_FOUND,
    405: ServiceCode.METHOD_NOT_ALLOWED,
    408: ServiceCode.REQUEST_TIMEOUT,
    409: ServiceCode.CONFLICT,
    413: ErrorCode.IMAGE_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.VALIDATION_ERROR,
    429: ServiceCode.RATE_LIMITED,
    503: ServiceCode.SERVICE_UNAVAILABLE,
}


def http_status(code: Code) -> int:
    """The status of a code; a code added without a status here is most likely about the photo."""
    return HTTP_STATUS.get(code, 422)


def error_body(code: Code, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code.value, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def error_response(
    code: Code,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=http_status(code), headers=headers)


async def _coded_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PipelineError | ServiceError)
    retry_after = exc.retry_after_s if isinstance(exc, ServiceError) else None
    headers = None if retry_after is None else {"Retry-After": str(retry_after)}
    return error_response(exc.code, exc.message, exc.details, headers=headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"location": [str(part) for part in error.get("loc", ())], "reason": str(error.get("msg", ""))}
        for error in exc.errors()
    ]
    return error_response(ErrorCode.VALIDATION_ERROR, "The request is not valid.", {"errors": problems})


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    fallback = ServiceCode.INTERNAL_ERROR if exc.status_code >= 500 else ErrorCode.VALIDATION_ERROR
    code = _CODE_FOR_STATUS.get(exc.status_code, fallback)
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return JSONResponse(
        error_body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None)
    )


async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
    logger.warning("Database unavailable: %s", type(exc).__name__)
    return error_response(
        ServiceCode.SERVICE_UNAVAILABLE,
        "The service is briefly unavailable. Please try again in a moment.",
        headers={"Retry-After": "5"},
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # The type and route are enough to find it; the exception text could quote request content.
    logger.error("Unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return error_response(ServiceCode.INTERNAL_ERROR, "Something went wrong on our side. Please try again.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PipelineError, _coded_error)
    app.add_exception_handler(ServiceError, _coded_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # A database that is down, unreachable or too slow: the connection failed or was cut
    # (OperationalError, InterfaceError) or no pooled connection came free in time.
    for unavailable in (OperationalError, InterfaceError, PoolTimeoutError):
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
