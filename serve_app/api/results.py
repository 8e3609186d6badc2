"""Translations between the pipeline, the database rows and the API's response bodies.

`history_record` is where a diagnosis becomes what is stored: text and numbers only (season, hex
colours, advice, measured Lab values, the lighting score). Nothing derived from pixels beyond those
summary numbers is kept.
"""

from __future__ import annotations

from db.history import HistoryPage as StoredPage
from db.history import HistoryRecord
from db.models import AnalysisHistory, AnalysisTask
from pipeline.diagnosis import Diagnosis
from pipeline.normalize import LightingReport
from serve_app.api.schemas import AnalysisResult, AnalysisStatus, HistoryItem, HistoryPage, TaskError


def history_record(diagnosis: Diagnosis, lighting: LightingReport) -> HistoryRecord:
    return HistoryRecord(
        season=diagnosis.season,
        season_type=diagnosis.season_type,
        confidence=diagnosis.confidence,
        thumbnail_color=diagnosis.thumbnail_color,
        main_colors=list(diagnosis.main_colors),
        worst_colors=list(diagnosis.worst_colors),
        makeup=diagnosis.makeup,
        hair=diagnosis.hair,
        measured=diagnosis.measured,
        explanation=diagnosis.explanation,
        lighting_score=lighting.score,
        model_version=diagnosis.model_version,
    )


def task_status(task: AnalysisTask) -> AnalysisStatus:
    error = None
    if task.error_code:
        error = TaskError(code=task.error_code, message=task.error_message or "")
    return AnalysisStatus(
        task_id=str(task.id),
        status=task.status,
        stage=task.stage,
        result_id=str(task.history_id) if task.history_id else None,
        error=error,
    )


def analysis_result(entry: AnalysisHistory) -> AnalysisResult:
    return AnalysisResult.model_validate(entry, from_attributes=True)


def history_page(page: StoredPage) -> HistoryPage:
    return HistoryPage(
        items=[HistoryItem.model_validate(entry, from_attributes=True) for entry in page.items],
        next_cursor=page.next_cursor,
    )
