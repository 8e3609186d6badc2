"""A last line of defence that keeps credentials out of every log line.

By construction the service never logs request bodies or headers. This filter still scrubs, at the
moment a log record is created, anything shaped like a bearer token, a JWT, one of our refresh
tokens (`rt_...`) or a `password=...` pair, whichever library logged it. It is installed as the
process's log-record factory so it covers loggers and handlers that exist now and later (Ray Serve,
uvicorn, SQLAlchemy) without touching their configuration.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

REDACTED = "[REDACTED]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    # A JWT: base64url header that starts with '{"' (eyJ), a payload and a signature.
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"\brt_[A-Za-z0-9_-]{20,}"), REDACTED),
    (
        re.compile(
            r"(?i)([\"']?(?:password|passwd|secret|refresh_token|access_token)[\"']?\s*[:=]\s*)"
            r"(\"[^\"]*\"|'[^']*'|[^\s,;&}]+)"
        ),
        r"\1" + REDACTED,
    ),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redacting_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string is the logging call's bug; leave it alone
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    factory.redacts_credentials = True  # type: ignore[attr-defined]
    return factory


def install_log_redaction() -> None:
    """Idempotent: safe to call from every replica's start-up."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "redacts_credentials", False):
        logging.setLogRecordFactory(_redacting_factory(current))
