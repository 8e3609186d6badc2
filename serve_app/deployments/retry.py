"""Retrying database work through outages: transient errors only, jittered exponential backoff, for as
long as `DatabaseSettings.write_retry_s` allows (minutes: a finished diagnosis outlives a database
restart or fail-over). What waits meanwhile is the caller's text-only record, never a photo."""

from __future__ import annotations

import asyncio
import logging
import random
import time
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
    """Run a blocking database call in a thread, retrying transient failures with jittered backoff
    until `policy.write_retry_s` has passed since the first attempt."""
    delay = policy.retry_initial_s
    give_up_at = time.monotonic() + policy.write_retry_s
    attempt_number = 0
    while True:
        attempt_number += 1
        try:
            return await asyncio.to_thread(attempt)
        except Exception as error:
            if not is_transient(error) or time.monotonic() + delay > give_up_at:
                raise
            logger.warning(
                "Database unavailable while %s (attempt %d, %s); retrying in %.1f s",
                what,
                attempt_number,
                type(error).__name__,
                delay,
            )
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 (jitter, not crypto)
            delay = min(delay * 2, policy.retry_max_s)
