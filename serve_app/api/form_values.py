"""Strict parsing of the upload form's text fields.

Python's `float()` is generous: it takes `1_0`, `1e2`, `inf`, `nan` and digits of any script
(`５０`, `٥٠`). A form field is a wire format, not Python source, so only plain ASCII decimals
are numbers here.
"""

from __future__ import annotations

import re

from pipeline.errors import ErrorCode
from serve_app.errors import ServiceError

_DECIMAL = re.compile(r"[0-9]{1,3}(\.[0-9]{1,6})?", re.ASCII)


def lighting_score(raw: str | None) -> float | None:
    """The client's 0-100 lighting score, or None when the field is absent or blank.

    Raises ServiceError VALIDATION_ERROR for anything else than a plain decimal in range.
    """
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if _DECIMAL.fullmatch(text) is None or not 0.0 <= (score := float(text)) <= 100.0:
        raise ServiceError(ErrorCode.VALIDATION_ERROR, "lighting_score must be a number from 0 to 100.")
    return score
