"""Data access for users and analysis tasks: the writes an analysis makes as it runs.

Plain functions over a `Session`. Each task function is one unit of work and commits it, so the
service's writer can retry a call as a whole. The two exceptions are building blocks of larger
units owned by the caller, who commits: `get_or_create_user` (sign-in, account registration) and
`delete_user_data` (account deletion, see db.accounts).

Status changes are conditional, so they are safe to retry and to race: a finished task (completed
or failed) is never moved back, `fail_task` never overwrites a completed task, and completing a task
twice yields one history row. Ids may be given as `uuid.UUID` or as their string form.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.engine import write_session
from db.history import HistoryRecord
from db.models import (
    COMPLETED,
    ERROR_CODE_LENGTH,
    ERROR_MESSAGE_LENGTH,
    FAILED,
    PROCESSING,
    STAGE_LENGTH,
    UNFINISHED_STATUSES,
    AnalysisHistory,
    AnalysisTask,
    Base,
    Id,
    User,
    as_uuid,
    utc_now,
)

HISTORY_TABLE: Final = Base.metadata.tables[AnalysisHistory.__tablename__]
TASK_TABLE: Final = Base.metadata.tables[AnalysisTask.__tablename__]

# The same string as serve_app.errors.ServiceCode.INTERRUPTED (db/ does not import the service; a test
# checks). The photo went with the replica that held it (it is never stored), so only a new one helps.
INTERRUPTED_CODE: Final = "INTERRUPTED"
INTERRUPTED_MESSAGE: Final = "The analysis was interrupted on our side. Please take the photo again."


class TaskNotFoundError(LookupError):
    """No task has this id."""


def get_or_create_user(session: Session, issuer: str, subject: str, display_name: str | None = None) -> User:
    """The user with this identity, created on first sight. Flushes; the caller commits.

    Two first requests of the same person may race: the loser's insert hits the unique
    (issuer, subject) constraint inside a savepoint and it reads the winner's row instead.
    """
    user = _find_user(session, issuer, subject)
    if user is not None:
        return user
    try:
        with session.begin_nested():
            user = User(issuer=issuer, subject=subject, display_name=display_name)
            session.add(user)
    except IntegrityError:
        user = _find_user(session, issuer, subject)
        if user is None:  # the conflict was something else
            raise
    return user


def _find_user(session: Session, issuer: str, subject: str) -> User | None:
    return session.scalar(select(User).where(User.issuer == issuer, User.subject == subject))


def create_task(session: Session, user_id: Id | None) -> AnalysisTask:
    """A new queued task for this user (None: an anonymous diagnosis). Commits."""
    task = AnalysisTask(user_id=None if user_id is None else as_uuid(user_id))
    session.add(task)
    session.commit()
    return task


def record_progress(session: Session, stages: Mapping[Id, str]) -> int:
    """Record the stage each unfinished task has reached and renew its lease, in one transaction.
    Commits; returns how many tasks were still unfinished. A late report never reopens a finished task.

    An ingress replica calls this once per heartbeat for all the analyses it holds (one statement per
    distinct stage, so a handful), instead of a write per stage per analysis. `updated_at` is the
    lease: a task nobody renews for a while belongs to a dead replica (`sweep_stuck_tasks`).

    Progress is not worth a disk flush: on PostgreSQL this commit does not wait for the WAL to reach
    the disk (a crash could lose a stage or a renewal, never a result).
    """
    if not stages:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    by_stage: dict[str, list[uuid.UUID]] = {}
    for task_id, stage in stages.items():
        by_stage.setdefault(stage[:STAGE_LENGTH], []).append(as_uuid(task_id))
    now = utc_now()
    renewed = 0
    for stage, task_ids in sorted(by_stage.items()):
        result = session.execute(
            update(AnalysisTask)
            .where(AnalysisTask.id.in_(task_ids), AnalysisTask.status.in_(UNFINISHED_STATUSES))
            .values(status=PROCESSING, stage=stage, updated_at=now)
        )
        renewed += int(result.rowcount)  # type: ignore[attr-defined]
    session.commit()
    return renewed


def complete_task(session: Session, task_id: Id, record: HistoryRecord) -> uuid.UUID:
    """Store the result and mark the task completed, in one transaction. Returns the history id.

    Idempotent and race-safe: the task row is locked (`SELECT ... FOR UPDATE` on PostgreSQL, the
    write lock on SQLite) before its status is read, so concurrent completions of one task run one
    after the other and every one after the first returns the first one's history id. The result
    row and the status change commit together, so "has a result" and "completed" never disagree;
    the unique `task_id` of the history table backs this up. A task already marked failed (say, by
    the sweeper while the result was on its way) is completed anyway: a finished diagnosis is not
    thrown away.

    Plain Core statements on the session's connection rather than ORM objects: this is the
    service's hottest write, and the ORM's bookkeeping cost more than the database round trips
    (see bench/db_latency.py). Objects already loaded in this session are not refreshed; the
    readers here load with `populate_existing`.
    """
    task_uuid = as_uuid(task_id)
    write_session(session)
    try:
        task = session.execute(
            select(AnalysisTask.user_id, AnalysisTask.status, AnalysisTask.history_id)
            .where(AnalysisTask.id == task_uuid)
            .with_for_update()
        ).one_or_none()
        if task is None:
            raise TaskNotFoundError(str(task_uuid))
        if task.status == COMPLETED and task.history_id is not None:
            history_id: uuid.UUID = task.history_id
        else:
            history_id = uuid.uuid4()
            now = utc_now()
            connection = session.connection()
            connection.execute(
                insert(HISTORY_TABLE).values(
                    id=history_id, user_id=task.user_id, task_id=task_uuid, analyzed_at=now, **asdict(record)
                )
            )
            connection.execute(
                update(TASK_TABLE)
                .where(TASK_TABLE.c.id == task_uuid)
                .values(
                    status=COMPLETED,
                    history_id=history_id,
                    error_code=None,
                    error_message=None,
                    updated_at=now,
                    finished_at=now,
                )
            )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return history_id


def fail_task(
    session: Session, task_id: Id, code: str, message: str, details: dict[str, Any] | None = None
) -> bool:
    """Mark an unfinished task failed with a machine-readable code, a human message and the error's
    details (plain JSON, e.g. the lighting problems found). Commits.

    False if the task was already finished: a failure never overwrites a completed task (nor the
    first recorded failure).
    """
    now = utc_now()
    result = session.execute(
        update(AnalysisTask)
        .where(AnalysisTask.id == as_uuid(task_id), AnalysisTask.status.in_(UNFINISHED_STATUSES))
        .values(
            status=FAILED,
            error_code=str(code)[:ERROR_CODE_LENGTH],
            error_message=message[:ERROR_MESSAGE_LENGTH],
            error_details=details or None,
            updated_at=now,
            finished_at=now,
        )
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def get_task_for_identity(
    session: Session, task_id: Id, identity: tuple[str, str] | None
) -> AnalysisTask | None:
    """The task if it belongs to the person a token names by (issuer, subject), else None.

    One indexed query (the task by primary key joined to its owner by primary key), with no user row
    looked up or created first: the status poll's path. `identity=None` is an anonymous caller: it
    reads only tasks that have no owner. A deleted account has no tasks left to read.
    """
    query = select(AnalysisTask).where(AnalysisTask.id == as_uuid(task_id))
    if identity is None:
        query = query.where(AnalysisTask.user_id.is_(None))
    else:
        issuer, subject = identity
        query = query.join(User, User.id == AnalysisTask.user_id).where(
            User.issuer == issuer, User.subject == subject
        )
    return session.scalar(query.execution_options(populate_existing=True))


def delete_user_data(session: Session, user_id: Id) -> None:
    """Delete the user and every task and result of theirs. Flushes; the caller commits.

    The foreign keys cascade too; deleting explicitly keeps this correct on a SQLite file opened
    without `PRAGMA foreign_keys`, and makes the order obvious.
    """
    owner = as_uuid(user_id)
    session.execute(delete(AnalysisTask).where(AnalysisTask.user_id == owner))
    session.execute(delete(AnalysisHistory).where(AnalysisHistory.user_id == owner))
    session.execute(delete(User).where(User.id == owner))
    session.flush()


def sweep_stuck_tasks(session: Session, older_than: timedelta) -> int:
    """Fail with INTERRUPTED every queued or processing task whose lease (`updated_at`, renewed by
    `record_progress`) is older than `older_than`, so nobody polls forever for an analysis whose
    replica died. Commits; returns how many. Safe to run from every replica at once."""
    now = utc_now()
    result = session.execute(
        update(AnalysisTask)
        .where(
            AnalysisTask.status.in_(UNFINISHED_STATUSES),
            AnalysisTask.updated_at < now - older_than,
        )
        .values(
            status=FAILED,
            error_code=INTERRUPTED_CODE,
            error_message=INTERRUPTED_MESSAGE,
            updated_at=now,
            finished_at=now,
        )
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
