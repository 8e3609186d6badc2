"""Translations between the database rows and the API's response bodies."""

from __future__ import annotations

from typing import TypeVar

from db.history import HistoryPage as StoredPage
from db.models import UNFINISHED_STATUSES, AnalysisHistory, AnalysisTask
from pipeline.seasons import season_type
from serve_app.api.schemas import AnalysisResult, AnalysisStatus, HistoryItem, HistoryPage, TaskError

Item = TypeVar("Item", bound=HistoryItem)


def task_status(task: AnalysisTask, poll_after_s: float) -> AnalysisStatus:
    error = None
    if task.error_code:
        error = TaskError(code=task.error_code, message=task.error_message or "", details=task.error_details)
    return AnalysisStatus(
        task_id=str(task.id),
        status=task.status,
        stage=task.stage,
        result_id=str(task.history_id) if task.history_id else None,
        error=error,
        poll_after_s=poll_after_s if task.status in UNFINISHED_STATUSES else None,
    )


def _names(type_id: str) -> dict[str, dict[str, str]]:
    """The type's names follow from its id, so they are added on the way out, not stored."""
    kind = season_type(type_id)
    return {
        "type_name": {"ko": kind.name_ko, "en": kind.name_en},
        "season_name": {"ko": kind.season_name_ko, "en": kind.season_name_en},
    }


def _item(model: type[Item], entry: AnalysisHistory) -> Item:
    stored = {name: getattr(entry, name) for name in model.model_fields if hasattr(entry, name)}
    return model.model_validate({**stored, **_names(entry.season_type)})


def analysis_result(entry: AnalysisHistory) -> AnalysisResult:
    return _item(AnalysisResult, entry)


def history_page(page: StoredPage) -> HistoryPage:
    items = [_item(HistoryItem, entry) for entry in page.items]
    return HistoryPage(items=items, next_cursor=page.next_cursor)
