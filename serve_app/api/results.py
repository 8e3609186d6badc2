"""Translations between the database rows and the API's response bodies."""

from __future__ import annotations

from db.history import HistoryPage as StoredPage
from db.models import UNFINISHED_STATUSES, AnalysisHistory, AnalysisTask
from serve_app.api.schemas import AnalysisResult, AnalysisStatus, HistoryItem, HistoryPage, TaskError


def task_status(task: AnalysisTask, poll_after_s: float) -> AnalysisStatus:
    error = None
    if task.error_code:
        error = TaskError(code=task.error_code, message=task.error_message or "")
    return AnalysisStatus(
        task_id=str(task.id),
        status=task.status,
        stage=task.stage,
        result_id=str(task.history_id) if task.history_id else None,
        error=error,
        poll_after_s=poll_after_s if task.status in UNFINISHED_STATUSES else None,
    )


def analysis_result(entry: AnalysisHistory) -> AnalysisResult:
    return AnalysisResult.model_validate(entry, from_attributes=True)


def history_page(page: StoredPage) -> HistoryPage:
    return HistoryPage(
        items=[HistoryItem.model_validate(entry, from_attributes=True) for entry in page.items],
        next_cursor=page.next_cursor,
    )
