"""The result writer: stores task progress and outcomes (text only) through `db/`, retrying blips.

A finished analysis must not be lost because the database restarted or a connection dropped, so
every write retries transient errors with jittered exponential backoff. It never receives image
data: only ids, stage names, error codes and the text-only history record.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import TypeVar

from db.engine import make_engine, make_session_factory
from db.tasks import complete_task, fail_task, mark_processing
from ray import serve
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session

from pipeline.errors import ErrorCode
from serve_app.results import HistoryRecord
from serve_app.settings import DatabaseSettings, get_settings

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


@serve.deployment
class ResultWriter:
    """Stores task progress and outcomes (text only), so a finished analysis survives a database blip."""

    def __init__(self) -> None:
        self._policy = get_settings().database
        self._sessions = make_session_factory(make_engine(self._policy.url))

    def _run(self, work: Callable[[Session], T]) -> Callable[[], T]:
        def attempt() -> T:
            with self._sessions() as session:
                return work(session)

        return attempt

    async def stage(self, task_id: str, stage: str) -> None:
        await with_retry(
            self._run(lambda s: mark_processing(s, task_id, stage)), self._policy, "saving a stage"
        )

    async def complete(self, task_id: str, record: HistoryRecord) -> str:
        history_id = await with_retry(
            self._run(lambda s: complete_task(s, task_id, record)), self._policy, "saving a result"
        )
        return str(history_id)

    async def fail(self, task_id: str, code: ErrorCode, message: str) -> None:
        await with_retry(
            self._run(lambda s: fail_task(s, task_id, code.value, message)), self._policy, "saving a failure"
        )
