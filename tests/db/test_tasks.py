"""Tasks through their life: queued, processing, completed or failed, only ever moving forward."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.history import HistoryRecord, InvalidRecordError
from db.models import AnalysisHistory, AnalysisTask, User
from db.tasks import (
    INTERRUPTED_CODE,
    TaskNotFoundError,
    complete_task,
    create_task,
    delete_user_data,
    fail_task,
    get_or_create_user,
    get_task_for_identity,
    record_progress,
    sweep_stuck_tasks,
)
from pipeline.errors import ErrorCode
from serve_app.errors import ServiceCode
from tests.db.conftest import a_record

MakeTask = Callable[[User | None], uuid.UUID]


def task_of(session: Session, task_id: uuid.UUID) -> AnalysisTask:
    task = session.get(AnalysisTask, task_id, populate_existing=True)
    assert task is not None
    return task


def history_rows(session: Session, task_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(AnalysisHistory).where(AnalysisHistory.task_id == task_id)
    return session.scalar(query) or 0


def test_a_new_task_is_queued_and_visible_to_its_owner_only(
    session: Session, user: User, make_user: Callable[[], User]
) -> None:
    task = create_task(session, user.id)
    assert task.status == "queued"
    assert task.created_at.tzinfo is not None

    stranger = make_user()
    assert get_task_for_identity(session, task.id, (user.issuer, user.subject)) is not None
    assert get_task_for_identity(session, str(task.id), (user.issuer, user.subject)) is not None
    assert get_task_for_identity(session, task.id, (stranger.issuer, stranger.subject)) is None
    assert get_task_for_identity(session, task.id, (user.issuer, stranger.subject)) is None
    assert get_task_for_identity(session, task.id, None) is None
    assert get_task_for_identity(session, uuid.uuid4(), (user.issuer, user.subject)) is None


def test_anonymous_tasks_are_readable_only_without_an_owner(session: Session, user: User) -> None:
    task = create_task(session, None)
    assert get_task_for_identity(session, task.id, None) is not None
    assert get_task_for_identity(session, task.id, (user.issuer, user.subject)) is None


def test_processing_records_the_stage(session: Session, user: User, make_task: MakeTask) -> None:
    task_id = make_task(user)
    assert record_progress(session, {str(task_id): "normalizing"})
    assert record_progress(session, {task_id: "landmarks"})
    task = task_of(session, task_id)
    assert (task.status, task.stage) == ("processing", "landmarks")


def test_completion_stores_the_result_and_links_it(session: Session, user: User, make_task: MakeTask) -> None:
    task_id = make_task(user)
    record_progress(session, {task_id: "saving"})
    record = a_record()

    history_id = complete_task(session, str(task_id), record)

    task = task_of(session, task_id)
    assert (task.status, task.history_id, task.error_code) == ("completed", history_id, None)
    assert task.finished_at is not None and task.finished_at.tzinfo is not None
    entry = session.get(AnalysisHistory, history_id)
    assert entry is not None
    assert (entry.user_id, entry.task_id) == (user.id, task_id)
    assert entry.analyzed_at.tzinfo is not None
    stored = HistoryRecord(**{name: getattr(entry, name) for name in HistoryRecord.__dataclass_fields__})
    assert stored == record  # JSON documents, Korean text and floats come back unchanged


def test_completing_twice_keeps_one_result(session: Session, user: User, make_task: MakeTask) -> None:
    task_id = make_task(user)
    first = complete_task(session, task_id, a_record())
    second = complete_task(session, task_id, a_record("winter", "winter_cool_deep"))
    assert second == first
    assert history_rows(session, task_id) == 1
    entry = session.get(AnalysisHistory, first, populate_existing=True)
    assert entry is not None and entry.season == "spring"


def test_completing_an_unknown_task_is_an_error(session: Session) -> None:
    with pytest.raises(TaskNotFoundError):
        complete_task(session, uuid.uuid4(), a_record())


def test_a_failure_never_overwrites_a_completed_task(
    session: Session, user: User, make_task: MakeTask
) -> None:
    task_id = make_task(user)
    history_id = complete_task(session, task_id, a_record())
    assert not fail_task(session, task_id, "INTERNAL_ERROR", "late failure")
    assert not record_progress(session, {task_id: "classifying"})
    task = task_of(session, task_id)
    assert (task.status, task.history_id, task.error_code) == ("completed", history_id, None)


def test_the_first_failure_is_the_one_kept(session: Session, user: User, make_task: MakeTask) -> None:
    task_id = make_task(user)
    record_progress(session, {task_id: "landmarks"})
    assert fail_task(session, task_id, ErrorCode.NO_FACE_DETECTED.value, "No face in the photo.")
    assert not fail_task(session, task_id, "INTERNAL_ERROR", "second")
    assert not record_progress(session, {task_id: "classifying"})
    task = task_of(session, task_id)
    assert (task.status, task.stage) == ("failed", "landmarks")
    assert (task.error_code, task.error_message) == ("NO_FACE_DETECTED", "No face in the photo.")
    assert task.finished_at is not None and task.history_id is None


def test_a_failure_keeps_its_details_for_the_app(session: Session, user: User, make_task: MakeTask) -> None:
    task_id = make_task(user)
    details = {"problems": ["too_dark"], "score": 12.5, "min_score": 50.0, "advice": ["Face a window."]}
    assert fail_task(session, task_id, ErrorCode.POOR_LIGHTING_CONDITION.value, "Too dark.", details)
    assert task_of(session, task_id).error_details == details


def test_a_long_error_message_is_shortened_to_fit(session: Session, user: User, make_task: MakeTask) -> None:
    task_id = make_task(user)
    assert fail_task(session, task_id, "INTERNAL_ERROR", "x" * 5000)
    assert len(task_of(session, task_id).error_message or "") == 500


def test_a_result_arriving_after_a_timeout_still_completes_the_task(
    session: Session, user: User, make_task: MakeTask
) -> None:
    task_id = make_task(user)
    fail_task(session, task_id, INTERRUPTED_CODE, "took too long")
    history_id = complete_task(session, task_id, a_record())
    task = task_of(session, task_id)
    assert (task.status, task.history_id, task.error_code, task.error_message) == (
        "completed",
        history_id,
        None,
        None,
    )


def test_the_database_refuses_impossible_task_states(
    session: Session, user: User, make_task: MakeTask
) -> None:
    task_id = make_task(user)
    for values in ({"status": "done"}, {"status": "completed"}, {"status": "failed"}):
        with pytest.raises(IntegrityError):
            session.execute(update(AnalysisTask).where(AnalysisTask.id == task_id).values(**values))
            session.flush()
        session.rollback()


def test_the_sweeper_fails_only_tasks_that_stopped_moving(
    session: Session, user: User, make_task: MakeTask
) -> None:
    stuck_queued, stuck_processing, fresh, finished = (make_task(user) for _ in range(4))
    record_progress(session, {stuck_processing: "landmarks"})
    complete_task(session, finished, a_record())
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    session.execute(
        update(AnalysisTask)
        .where(AnalysisTask.id.in_([stuck_queued, stuck_processing, finished]))
        .values(updated_at=an_hour_ago)
    )
    session.commit()

    swept = sweep_stuck_tasks(session, timedelta(minutes=10))

    assert swept >= 2  # other tests' leftovers of the same age may be swept too
    for task_id in (stuck_queued, stuck_processing):
        task = task_of(session, task_id)
        assert (task.status, task.error_code) == ("failed", INTERRUPTED_CODE)
        assert task.error_message and task.finished_at is not None
    assert task_of(session, fresh).status == "queued"
    assert task_of(session, finished).status == "completed"
    assert sweep_stuck_tasks(session, timedelta(minutes=10)) == 0


def test_the_timeout_code_is_the_services_error_code() -> None:
    assert ServiceCode(INTERRUPTED_CODE) is ServiceCode.INTERRUPTED


def test_a_user_is_created_once_per_identity(session: Session) -> None:
    subject = uuid.uuid4().hex
    first = get_or_create_user(session, "https://issuer.test", subject, "Kim")
    session.commit()
    again = get_or_create_user(session, "https://issuer.test", subject, "Other name")
    other_issuer = get_or_create_user(session, "https://other.test", subject)
    session.commit()
    assert again.id == first.id
    assert other_issuer.id != first.id


def test_concurrent_first_sign_ins_create_one_user(sessions: sessionmaker[Session], session: Session) -> None:
    subject = uuid.uuid4().hex
    with sessions() as other:
        # `other` has not seen the row `session` is about to insert; its insert must not fail.
        assert other.scalar(select(User).where(User.subject == subject)) is None
        mine = get_or_create_user(session, "https://issuer.test", subject)
        session.commit()
        theirs = get_or_create_user(other, "https://issuer.test", subject)
        other.commit()
    assert theirs.id == mine.id


def test_deleting_a_users_data_leaves_everyone_else_alone(
    session: Session, user: User, make_user: Callable[[], User], make_task: MakeTask
) -> None:
    neighbour = make_user()
    for owner in (user, neighbour):
        complete_task(session, make_task(owner), a_record())
        make_task(owner)

    delete_user_data(session, user.id)
    session.commit()

    def count(model: type[AnalysisTask] | type[AnalysisHistory], owner: User) -> int:
        return session.scalar(select(func.count()).select_from(model).where(model.user_id == owner.id)) or 0

    assert session.get(User, user.id, populate_existing=True) is None
    assert count(AnalysisTask, user) == count(AnalysisHistory, user) == 0
    assert session.get(User, neighbour.id) is not None
    assert (count(AnalysisTask, neighbour), count(AnalysisHistory, neighbour)) == (2, 1)


@pytest.mark.parametrize(
    "change",
    [
        {"thumbnail_color": "red"},
        {"main_colors": ["#FFB07C", "data:image/png;base64,iVBORw0KGgo="]},
        {"measured": {"skin": b"\x89PNG\r\n"}},
        {"explanation": {"overlay": "A" * 100_000}},
        {"confidence": float("nan")},
    ],
    ids=["not-hex", "data-url", "bytes", "blob", "nan"],
)
def test_a_result_that_is_not_text_only_is_refused(change: dict[str, object]) -> None:
    fields = {name: getattr(a_record(), name) for name in HistoryRecord.__dataclass_fields__}
    with pytest.raises(InvalidRecordError):
        HistoryRecord(**{**fields, **change})
