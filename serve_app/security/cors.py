"""Starlette's CORS middleware, with its refusals in the API's error shape.

A preflight from an origin (or with a method or header) the API does not allow gets Starlette's
plain-text `400 Disallowed CORS origin`; browsers do not read it either way, but every answer of
the API has one shape, so the same 400 carries the JSON error body here. Everything else is
Starlette's behaviour unchanged.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response

from pipeline.errors import ErrorCode
from serve_app.errors import error_body

_DISALLOWED_PREFIX = "Disallowed CORS "


class JsonCORSMiddleware(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refused = bytes(response.body).decode("utf-8").removeprefix(_DISALLOWED_PREFIX).split(", ")
        headers = {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}
        return JSONResponse(
            error_body(
                ErrorCode.VALIDATION_ERROR,
                "This cross-origin request is not allowed.",
                {"disallowed": refused},
            ),
            status_code=400,
            headers=headers,
        )
