"""Retrying database work through short outages: transient errors only, jittered exponential backoff."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

from serve_app.settings import DatabaseSettings

logger = logging.getLogger("ray.serve")

T = TypeVar("T")


def is_transient(error: BaseException) -> bool:
    """Errors worth retrying: the database went away or refused a connection for a moment."""
    if isinstance(error, OperationalError | DisconnectionError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


async def with_retry(attempt: Callable[[], T], policy: DatabaseSettings, what: str) -> T:
    """Run a blocking database call in a thread, retrying transient failures with jittered backoff."""
    delay = policy.retry_initial_s
    attempt_number = 0
    while True:
        attempt_number += 1
        try:
            return await asyncio.to_thread(attempt)
        except Exception as error:
            if not is_transient(error) or attempt_number >= policy.write_attempts:
                raise
            logger.warning(
                "Database unavailable while %s (attempt %d of %d, %s); retrying in %.1f s",
                what,
                attempt_number,
                policy.write_attempts,
                type(error).__name__,
                delay,
            )
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 (jitter, not crypto)
            delay = min(delay * 2, policy.retry_max_s)
