"""One JSON error shape for the whole API: `{"error": {"code", "message", "details"?}}`.

Every failure a client can see goes through here: pipeline errors (bad photo, poor lighting), request
validation, unknown routes and anything unexpected. Codes come from `pipeline.errors.ErrorCode` and
each has exactly one HTTP status. Nothing here echoes request content back: validation details carry
the field location and reason, never the submitted value (it could be image bytes).
"""

from __future__ import annotations

import logging
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

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_IMAGE: 422,
    ErrorCode.IMAGE_TOO_LARGE: 413,
    ErrorCode.REQUEST_TOO_LARGE: 413,
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
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.CONFLICT: 409,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.REQUEST_TIMEOUT: 408,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_ERROR: 500,
}

# Statuses Starlette raises by itself (unknown route, wrong method, ...), mapped onto our codes.
_CODE_FOR_STATUS: dict[int, ErrorCode] = {
    400: ErrorCode.VALIDATION_ERROR,
    401: ErrorCode.UNAUTHORIZED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    408: ErrorCode.REQUEST_TIMEOUT,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.IMAGE_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.VALIDATION_ERROR,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}


def http_status(code: ErrorCode) -> int:
    """The status of a code; a code added without a status here is most likely about the photo."""
    return HTTP_STATUS.get(code, 422)


def error_body(code: ErrorCode, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code.value, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def error_response(
    code: ErrorCode,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=http_status(code), headers=headers)


async def _pipeline_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PipelineError)
    return error_response(exc.code, exc.message, exc.details)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"location": [str(part) for part in error.get("loc", ())], "reason": str(error.get("msg", ""))}
        for error in exc.errors()
    ]
    return error_response(ErrorCode.VALIDATION_ERROR, "The request is not valid.", {"errors": problems})


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    fallback = ErrorCode.INTERNAL_ERROR if exc.status_code >= 500 else ErrorCode.VALIDATION_ERROR
    code = _CODE_FOR_STATUS.get(exc.status_code, fallback)
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return JSONResponse(
        error_body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None)
    )


async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
    logger.warning("Database unavailable: %s", type(exc).__name__)
    return error_response(
        ErrorCode.SERVICE_UNAVAILABLE,
        "The service is briefly unavailable. Please try again in a moment.",
        headers={"Retry-After": "5"},
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # The type and route are enough to find it; the exception text could quote request content.
    logger.error("Unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return error_response(ErrorCode.INTERNAL_ERROR, "Something went wrong on our side. Please try again.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PipelineError, _pipeline_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # A database that is down, unreachable or too slow: the connection failed or was cut
    # (OperationalError, InterfaceError) or no pooled connection came free in time.
    for unavailable in (OperationalError, InterfaceError, PoolTimeoutError):
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
