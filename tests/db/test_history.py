"""A person's stored results: owner-only reads, newest-first pages, deletion and statistics."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from db.history import (
    InvalidCursorError,
    delete_history_entry,
    get_result_for_owner,
    list_history,
    user_stats,
)
from db.models import AnalysisHistory, User
from db.tasks import complete_task, create_task, get_task_for_identity
from tests.db.conftest import a_record


def add_result(
    session: Session, owner: User, season: str = "spring", season_type: str | None = None
) -> uuid.UUID:
    task = create_task(session, owner.id)
    return complete_task(session, task.id, a_record(season, season_type or f"{season}_warm_light"))


def set_analyzed_at(session: Session, history_id: uuid.UUID, when: datetime) -> None:
    session.execute(update(AnalysisHistory).where(AnalysisHistory.id == history_id).values(analyzed_at=when))
    session.commit()


def all_pages(session: Session, owner: User, limit: int) -> list[list[uuid.UUID]]:
    pages, cursor = [], None
    while True:
        page = list_history(session, owner.id, cursor, limit)
        pages.append([entry.id for entry in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_a_result_is_readable_by_its_owner_only(
    session: Session, user: User, make_user: Callable[[], User]
) -> None:
    history_id = add_result(session, user)
    entry = get_result_for_owner(session, history_id, user.id)
    assert entry is not None and entry.season_type == "spring_warm_light"
    assert get_result_for_owner(session, str(history_id), str(user.id)) is not None
    assert get_result_for_owner(session, history_id, make_user().id) is None
    assert get_result_for_owner(session, uuid.uuid4(), user.id) is None


def test_anonymous_results_are_in_nobodys_history(session: Session, user: User) -> None:
    task = create_task(session, None)
    history_id = complete_task(session, task.id, a_record())
    assert get_result_for_owner(session, history_id, user.id) is None
    assert list_history(session, user.id).items == []


def test_history_pages_newest_first_without_gaps_or_repeats(session: Session, user: User) -> None:
    ids = [add_result(session, user) for _ in range(7)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minutes, history_id in enumerate(ids):
        set_analyzed_at(session, history_id, start + timedelta(minutes=minutes))

    pages = all_pages(session, user, limit=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [history_id for page in pages for history_id in page] == ids[::-1]


def test_entries_with_the_same_time_are_all_listed_once(session: Session, user: User) -> None:
    ids = [add_result(session, user) for _ in range(5)]
    same_moment = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
    for history_id in ids:
        set_analyzed_at(session, history_id, same_moment)
    listed = [history_id for page in all_pages(session, user, limit=2) for history_id in page]
    assert sorted(listed) == sorted(ids)


def test_new_results_do_not_shift_the_pages_being_read(session: Session, user: User) -> None:
    older = [add_result(session, user) for _ in range(5)]
    first = list_history(session, user.id, None, 2)
    newer = [add_result(session, user) for _ in range(3)]

    rest = []
    cursor = first.next_cursor
    while cursor is not None:
        page = list_history(session, user.id, cursor, 2)
        rest += [entry.id for entry in page.items]
        cursor = page.next_cursor

    assert [entry.id for entry in first.items] + rest == older[::-1]
    assert {entry.id for entry in list_history(session, user.id, None, 3).items} == set(newer)


def test_the_last_page_has_no_cursor(session: Session, user: User) -> None:
    add_result(session, user)
    assert list_history(session, user.id, None, 1).next_cursor is None
    assert list_history(session, user.id, None, 20).next_cursor is None


@pytest.mark.parametrize("cursor", ["garbage", "", "MjAyNi0wMS0wMXx4", "!!!"])
def test_a_forged_cursor_is_refused(session: Session, user: User, cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        list_history(session, user.id, cursor, 20)


def test_someone_elses_cursor_shows_nothing_of_theirs(
    session: Session, user: User, make_user: Callable[[], User]
) -> None:
    for _ in range(3):
        add_result(session, user)
    cursor = list_history(session, user.id, None, 1).next_cursor
    stranger = make_user()
    assert cursor is not None
    assert list_history(session, stranger.id, cursor, 20).items == []


def test_deleting_an_entry_removes_it_and_its_task(
    session: Session, user: User, make_user: Callable[[], User]
) -> None:
    task = create_task(session, user.id)
    history_id = complete_task(session, task.id, a_record())

    assert not delete_history_entry(session, history_id, make_user().id)
    assert get_result_for_owner(session, history_id, user.id) is not None

    assert delete_history_entry(session, history_id, user.id)
    assert get_result_for_owner(session, history_id, user.id) is None
    assert get_task_for_identity(session, task.id, (user.issuer, user.subject)) is None
    assert not delete_history_entry(session, history_id, user.id)


def test_stats_count_seasons_and_types_and_show_the_trend(
    session: Session, user: User, make_user: Callable[[], User]
) -> None:
    now = datetime.now(UTC)
    plan = [
        ("spring", "spring_warm_light", now - timedelta(days=62)),
        ("spring", "spring_warm_bright", now - timedelta(days=61)),
        ("summer", "summer_cool_mute", now - timedelta(days=1)),
        ("spring", "spring_warm_light", now - timedelta(minutes=5)),
        ("winter", "winter_cool_deep", now - timedelta(days=800)),  # outside the trend window
    ]
    ids = []
    for season, season_type, when in plan:
        history_id = add_result(session, user, season, season_type)
        set_analyzed_at(session, history_id, when)
        ids.append(history_id)
    add_result(session, make_user(), "autumn")  # someone else's result counts for them only

    stats = user_stats(session, user.id)

    assert stats["total"] == 5
    assert stats["by_season"] == {"spring": 3, "summer": 1, "winter": 1}
    assert stats["by_type"] == {
        "spring_warm_bright": 1,
        "spring_warm_light": 2,
        "summer_cool_mute": 1,
        "winter_cool_deep": 1,
    }
    most_recent = stats["most_recent"]
    assert most_recent is not None
    assert (most_recent["id"], most_recent["season_type"]) == (str(ids[3]), "spring_warm_light")
    trend = stats["trend"]
    assert sum(month["count"] for month in trend) == 4
    assert [month["month"] for month in trend] == sorted(month["month"] for month in trend)
    assert trend[-1]["month"] == now.strftime("%Y-%m")
    assert all(set(month["by_season"]) <= {"spring", "summer"} for month in trend)


def test_stats_of_someone_without_results_are_empty(session: Session, user: User) -> None:
    assert user_stats(session, user.id) == {
        "total": 0,
        "by_season": {},
        "by_type": {},
        "most_recent": None,
        "trend": [],
    }
