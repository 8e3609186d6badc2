"""Data access for stored results: one diagnosis, a person's history, deletion and statistics.

A result is a `HistoryRecord`: text and numbers only. It is checked on the way in, so that nothing
resembling image data (bytes, or an oversized blob such as a base64 data URL) can be stored even by
mistake. Every read takes the owner's id and answers None or an empty page for anyone else.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypedDict

from sqlalchemy import ColumnElement, delete, func, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from db.models import AnalysisHistory, AnalysisTask, Id, as_uuid, utc_now

HEX_COLOR: Final = re.compile(r"#[0-9A-Fa-f]{6}")
# A generous bound for one result's JSON (real ones are a few KB); a photo would be far larger.
MAX_RECORD_JSON_CHARS: Final = 64_000
DEFAULT_PAGE_SIZE: Final = 20
MAX_PAGE_SIZE: Final = 100
TREND_MONTHS: Final = 12


class InvalidRecordError(ValueError):
    """A result that is not text-only, or not the shape the history table stores."""


class InvalidCursorError(ValueError):
    """A pagination cursor that this module did not produce."""


@dataclass(frozen=True)
class HistoryRecord:
    """The stored part of a diagnosis: text and numbers only, never pixels."""

    season: str
    season_type: str
    confidence: float
    thumbnail_color: str
    main_colors: list[str]
    worst_colors: list[str]
    makeup: dict[str, Any]
    hair: dict[str, Any]
    measured: dict[str, Any]
    explanation: Any
    lighting_score: float | None
    model_version: str
    runner_up: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        colors = [self.thumbnail_color, *self.main_colors, *self.worst_colors]
        bad = [color for color in colors if not (isinstance(color, str) and HEX_COLOR.fullmatch(color))]
        if bad:
            raise InvalidRecordError(f"colours must be #RRGGBB hex strings, got {bad[:3]!r}")
        try:
            size = len(json.dumps(asdict(self), allow_nan=False))
        except (TypeError, ValueError) as error:  # bytes, arrays, NaN: not plain JSON text
            raise InvalidRecordError(f"a result must be plain JSON text and numbers: {error}") from None
        if size > MAX_RECORD_JSON_CHARS:
            raise InvalidRecordError(f"a result of {size} characters is too large to be text only")


@dataclass(frozen=True)
class HistoryPage:
    items: list[AnalysisHistory]
    # Pass back to list_history for the next page; None on the last page.
    next_cursor: str | None


class MostRecent(TypedDict):
    id: str
    analyzed_at: str
    season: str
    season_type: str


class MonthTrend(TypedDict):
    month: str  # "YYYY-MM", UTC
    count: int
    by_season: dict[str, int]


class UserStats(TypedDict):
    total: int
    by_season: dict[str, int]
    by_type: dict[str, int]
    most_recent: MostRecent | None
    trend: list[MonthTrend]  # the last TREND_MONTHS months that have entries, oldest first


def _owned_by(user_id: Id) -> ColumnElement[bool]:
    # Anonymous results have no owner (NULL), so they never match: they are in nobody's history.
    return AnalysisHistory.user_id == as_uuid(user_id)


def get_result_for_owner(session: Session, history_id: Id, user_id: Id | None) -> AnalysisHistory | None:
    """`user_id=None` is an anonymous caller: it can read only results that have no owner."""
    owner = AnalysisHistory.user_id.is_(None) if user_id is None else _owned_by(user_id)
    return session.scalar(select(AnalysisHistory).where(AnalysisHistory.id == as_uuid(history_id), owner))


def list_history(
    session: Session, user_id: Id, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> HistoryPage:
    """One page of a person's results, newest first.

    Keyset pagination on (analyzed_at, id): a page starts strictly after the last entry of the
    previous one, so results added meanwhile never shift entries between pages (no repeats, no
    gaps), and each page costs one index range scan however deep it is.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = select(AnalysisHistory).where(_owned_by(user_id))
    if cursor is not None:
        after_at, after_id = decode_cursor(cursor)
        query = query.where(tuple_(AnalysisHistory.analyzed_at, AnalysisHistory.id) < (after_at, after_id))
    query = query.order_by(AnalysisHistory.analyzed_at.desc(), AnalysisHistory.id.desc()).limit(limit + 1)
    rows = list(session.scalars(query))
    items = rows[:limit]
    next_cursor = encode_cursor(items[-1]) if len(rows) > limit else None
    return HistoryPage(items=items, next_cursor=next_cursor)


def encode_cursor(entry: AnalysisHistory) -> str:
    raw = f"{entry.analyzed_at.astimezone(UTC).isoformat()}|{entry.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, entry_id = raw.split("|")
        analyzed_at = datetime.fromisoformat(at)
        if analyzed_at.tzinfo is None:
            raise ValueError("naive timestamp")
        return analyzed_at, uuid.UUID(entry_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursorError("not a cursor of this history") from None


def delete_history_entry(session: Session, history_id: Id, user_id: Id) -> bool:
    """Delete one of the owner's results, with the task that produced it. Commits.

    False (and nothing deleted) if it does not exist or is someone else's.
    """
    entry_id = session.scalar(
        select(AnalysisHistory.id).where(AnalysisHistory.id == as_uuid(history_id), _owned_by(user_id))
    )
    if entry_id is None:
        return False
    session.execute(delete(AnalysisTask).where(AnalysisTask.history_id == entry_id))
    session.execute(delete(AnalysisHistory).where(AnalysisHistory.id == entry_id))
    session.commit()
    return True


def user_stats(session: Session, user_id: Id) -> UserStats:
    """How a person's results spread over seasons and types, the latest one, and the monthly trend."""
    owned = _owned_by(user_id)
    by_type = _count_by(session, AnalysisHistory.season_type, owned)
    by_season = _count_by(session, AnalysisHistory.season, owned)
    latest = session.execute(
        select(
            AnalysisHistory.id,
            AnalysisHistory.analyzed_at,
            AnalysisHistory.season,
            AnalysisHistory.season_type,
        )
        .where(owned)
        .order_by(AnalysisHistory.analyzed_at.desc(), AnalysisHistory.id.desc())
        .limit(1)
    ).one_or_none()
    most_recent: MostRecent | None = None
    if latest is not None:
        most_recent = {
            "id": str(latest.id),
            "analyzed_at": latest.analyzed_at.isoformat(),
            "season": latest.season,
            "season_type": latest.season_type,
        }
    return {
        "total": sum(by_type.values()),
        "by_season": by_season,
        "by_type": by_type,
        "most_recent": most_recent,
        "trend": _monthly_trend(session, owned),
    }


def _count_by(
    session: Session, column: InstrumentedAttribute[str], owned: ColumnElement[bool]
) -> dict[str, int]:
    """Result counts per value of `column`, in the column's order."""
    rows = session.execute(select(column, func.count()).where(owned).group_by(column).order_by(column))
    return {value: count for value, count in rows.tuples()}


def _monthly_trend(session: Session, owned: ColumnElement[bool]) -> list[MonthTrend]:
    # Months are bucketed here rather than in SQL: PostgreSQL and SQLite spell date truncation
    # differently, and one person's last year of results is small.
    since = utc_now() - timedelta(days=31 * TREND_MONTHS)
    months: dict[str, Counter[str]] = {}
    for analyzed_at, season in session.execute(
        select(AnalysisHistory.analyzed_at, AnalysisHistory.season)
        .where(owned, AnalysisHistory.analyzed_at >= since)
        .order_by(AnalysisHistory.analyzed_at)
    ):
        months.setdefault(analyzed_at.strftime("%Y-%m"), Counter())[season] += 1
    recent = sorted(months)[-TREND_MONTHS:]
    return [
        {
            "month": month,
            "count": sum(months[month].values()),
            "by_season": dict(sorted(months[month].items())),
        }
        for month in recent
    ]
