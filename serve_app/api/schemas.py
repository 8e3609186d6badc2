"""Response bodies of the HTTP API, as they appear in the OpenAPI document at /docs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

TaskStatus = Literal["queued", "processing", "completed", "failed"]


class AnalysisAccepted(BaseModel):
    task_id: str
    status_url: str = Field(
        description="Poll this until status is final, every `poll_after_s` of its answers."
    )


class TaskError(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. POOR_LIGHTING_CONDITION.")
    message: str
    details: dict[str, Any] | None = Field(
        None, description="Machine-readable specifics, e.g. the lighting problems found and advice."
    )


class AnalysisStatus(BaseModel):
    task_id: str
    status: TaskStatus
    stage: str | None = Field(
        None,
        description="What the analysis is doing now while processing (normalizing, landmarks, classifying, "
        "saving); recorded about once a second, so a quick analysis may skip stages.",
    )
    result_id: str | None = Field(None, description="GET /analysis/result/{result_id} once completed.")
    error: TaskError | None = None
    poll_after_s: float | None = Field(
        None, description="While unfinished: ask again after this many seconds (not sooner). Null once final."
    )


class HistoryItem(BaseModel):
    id: uuid.UUID
    analyzed_at: datetime
    season: str
    season_type: str
    confidence: float
    thumbnail_color: str
    type_name: dict[str, str] = Field(description="The type's name in Korean and English.")
    season_name: dict[str, str]


class AnalysisResult(HistoryItem):
    """One stored diagnosis: text and numbers only, never the photo."""

    main_colors: list[Any]
    worst_colors: list[Any]
    makeup: dict[str, Any]
    hair: dict[str, Any]
    measured: dict[str, Any]
    explanation: Any
    lighting_score: float | None
    model_version: str
    runner_up: dict[str, Any] | None = Field(
        None, description="The second most likely type: season_type, type_name, confidence."
    )


class HistoryPage(BaseModel):
    items: list[HistoryItem]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null at the end.")


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)


class MostRecent(BaseModel):
    id: uuid.UUID
    analyzed_at: datetime
    season: str
    season_type: str


class MonthTrend(BaseModel):
    month: str = Field(description="YYYY-MM (UTC)")
    count: int
    by_season: dict[str, int]


class Stats(BaseModel):
    total: int
    by_season: dict[str, int]
    by_type: dict[str, int]
    most_recent: MostRecent | None
    trend: list[MonthTrend] = Field(description="Recent months with diagnoses, oldest first.")
