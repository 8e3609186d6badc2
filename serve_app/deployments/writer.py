"""The result writer: stores task outcomes (text only) through `db/`, retrying blips.

A finished analysis must not be lost because the database restarted or a connection dropped, so
every write retries transient errors with jittered exponential backoff. It never receives image
data: only ids, error codes and the text-only history record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ray import serve
from sqlalchemy.orm import Session

from db.engine import make_engine, make_session_factory
from db.history import HistoryRecord
from db.tasks import complete_task, fail_task
from serve_app.deployments.retry import with_retry
from serve_app.errors import Code
from serve_app.settings import get_settings

T = TypeVar("T")


@serve.deployment
class ResultWriter:
    """Stores task outcomes (text only), so a finished analysis survives a database blip."""

    def __init__(self) -> None:
        self._policy = get_settings().database
        self._sessions = make_session_factory(make_engine(self._policy.url, timeouts=self._policy.timeouts()))

    def _run(self, work: Callable[[Session], T]) -> Callable[[], T]:
        def attempt() -> T:
            with self._sessions() as session:
                return work(session)

        return attempt

    async def complete(self, task_id: str, record: HistoryRecord) -> str:
        history_id = await with_retry(
            self._run(lambda s: complete_task(s, task_id, record)), self._policy, "saving a result"
        )
        return str(history_id)

    async def fail(
        self, task_id: str, code: Code, message: str, details: dict[str, Any] | None = None
    ) -> None:
        await with_retry(
            self._run(lambda s: fail_task(s, task_id, code.value, message, details)),
            self._policy,
            "saving a failure",
        )
