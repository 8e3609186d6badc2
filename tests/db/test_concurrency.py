"""Many writers at once: completions, duplicate completions and failures of the same tasks racing.

Whatever the interleaving, each task ends with exactly one history row, every completion of a task
reports that row's id, and no task is left in an impossible state.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import make_engine, make_session_factory
from db.models import AnalysisHistory, AnalysisTask, User
from db.tasks import complete_task, create_task, fail_task
from tests.db.conftest import a_record

THREADS = 50


def test_racing_completions_leave_one_result_per_task(
    database_url: str, session: Session, user: User
) -> None:
    task_ids = [create_task(session, user.id).id for _ in range(THREADS)]
    # Enough connections that all 50 threads really are in the database at the same moment.
    engine = make_engine(database_url, pool_size=THREADS, max_overflow=0)
    sessions = make_session_factory(engine)
    start = threading.Barrier(THREADS)
    reported: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    lock = threading.Lock()

    def worker(index: int) -> None:
        own, neighbours = task_ids[index], task_ids[(index + 1) % THREADS]
        other = task_ids[(index + 2) % THREADS]
        start.wait()
        for task_id, action in ((own, "complete"), (other, "fail"), (neighbours, "complete")):
            with sessions() as worker_session:
                if action == "complete":
                    history_id = complete_task(worker_session, task_id, a_record())
                    with lock:
                        reported[task_id].append(history_id)
                else:
                    fail_task(worker_session, task_id, "INTERNAL_ERROR", "racing failure")

    try:
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            for future in [pool.submit(worker, index) for index in range(THREADS)]:
                future.result()  # re-raises any worker's error
    finally:
        engine.dispose()

    session.expire_all()
    for task_id in task_ids:
        rows = session.scalars(select(AnalysisHistory).where(AnalysisHistory.task_id == task_id)).all()
        assert len(rows) == 1, f"task {task_id} has {len(rows)} history rows"
        assert reported[task_id] == [rows[0].id, rows[0].id]  # both completions saw the same result
        task = session.get(AnalysisTask, task_id)
        assert task is not None
        # A finished diagnosis wins over a racing failure, in whichever order they arrived.
        assert (task.status, task.history_id, task.error_code) == ("completed", rows[0].id, None)
        assert task.finished_at is not None and task.finished_at <= datetime.now(UTC)
    total = select(func.count()).select_from(AnalysisHistory).where(AnalysisHistory.user_id == user.id)
    assert session.scalar(total) == THREADS
