"""The stable error codes of the analysis itself: what is wrong with the photo, its lighting or its face.

The pipeline raises `PipelineError` with one of these codes; the service turns any of them into its
single JSON error shape. Codes that only the HTTP service has (sign-in, limits, routes, outages) are
defined there, in `serve_app.errors`. Codes are part of the public contract: clients switch on them,
so a code is never renamed, only added.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    # Input
    INVALID_IMAGE = "INVALID_IMAGE"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    NOT_A_COLOR_IMAGE = "NOT_A_COLOR_IMAGE"
    # Lighting
    POOR_LIGHTING_CONDITION = "POOR_LIGHTING_CONDITION"
    # Face
    NO_FACE_DETECTED = "NO_FACE_DETECTED"
    MULTIPLE_FACES = "MULTIPLE_FACES"
    FACE_TOO_SMALL = "FACE_TOO_SMALL"
    FACE_NOT_FRONTAL = "FACE_NOT_FRONTAL"
    EYES_NOT_VISIBLE = "EYES_NOT_VISIBLE"
    # Model
    MODEL_MISMATCH = "MODEL_MISMATCH"
    # A parameter of the analysis (e.g. the client's lighting score) out of range
    VALIDATION_ERROR = "VALIDATION_ERROR"


class PipelineError(Exception):
    """A failure a person can act on, carrying a stable code and a human message.

    `details` holds machine-readable specifics (for example the lighting problems found), and must
    never contain image data.
    """

    def __init__(self, code: ErrorCode, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code.value, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions cross process boundaries (Ray pickles them); keep code and details intact.
        return (type(self), (self.code, self.message, self.details))
