"""Stored results: one diagnosis, the paginated history, deleting an entry, and per-user stats.

Plain route functions over `db/`: no Ray here. Every id answers only its owner; anyone else gets
the same 404 as for an id that never existed.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from db.history import (
    InvalidCursorError,
    delete_history_entry,
    get_result_for_owner,
    list_history,
    user_stats,
)
from pipeline.errors import ErrorCode
from serve_app.api.results import analysis_result, history_page
from serve_app.api.schemas import AnalysisResult, HistoryPage, Stats
from serve_app.database import SessionDep
from serve_app.errors import ServiceCode, ServiceError
from serve_app.security.auth import CurrentUser, OptionalUser

history_routes = APIRouter()

_NOT_FOUND = "No such result."


def parse_id(raw: str, message: str = _NOT_FOUND) -> uuid.UUID:
    """Ids are UUIDs; anything else cannot name a row, so it is simply not found."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ServiceError(ServiceCode.NOT_FOUND, message) from None


@history_routes.get("/analysis/result/{history_id}", response_model=AnalysisResult, summary="One diagnosis")
def get_result(history_id: str, user: OptionalUser, session: SessionDep) -> AnalysisResult:
    # `user` is None only for an anonymous caller (a setting): it reads only unowned results.
    entry = get_result_for_owner(session, parse_id(history_id), user.id if user else None)
    if entry is None:
        raise ServiceError(ServiceCode.NOT_FOUND, _NOT_FOUND)
    return analysis_result(entry)


@history_routes.get("/history", response_model=HistoryPage, summary="Your diagnoses, newest first")
def get_history(
    user: CurrentUser,
    session: SessionDep,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> HistoryPage:
    try:
        page = list_history(session, user.id, cursor, limit)
    except InvalidCursorError:
        raise ServiceError(ErrorCode.VALIDATION_ERROR, "Not a next_cursor of this history.") from None
    return history_page(page)


@history_routes.delete("/history/{history_id}", status_code=204, summary="Delete one diagnosis")
def delete_entry(history_id: str, user: CurrentUser, session: SessionDep) -> Response:
    if not delete_history_entry(session, parse_id(history_id), user.id):
        raise ServiceError(ServiceCode.NOT_FOUND, _NOT_FOUND)
    return Response(status_code=204)


@history_routes.get(
    "/stats", response_model=Stats, summary="How your diagnoses spread over seasons and types, and over time"
)
def get_stats(user: CurrentUser, session: SessionDep) -> Stats:
    return Stats.model_validate(user_stats(session, user.id))
