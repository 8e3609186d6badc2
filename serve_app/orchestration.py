"""One analysis from upload to outcome: the stage calls, the progress shown to the poller, the result.

The ingress hands each accepted photo to `AnalysisRunner.start`, which runs the analysis as an asyncio
task of the ingress replica: Normalize -> Landmark -> Classify through their deployment handles, then
the ResultWriter. Every outcome ends the task row as `completed` or `failed` with a stable code.

The photo lives only in this process's memory and Ray's in-memory object store: it is never written
to disk, logged, or put into an error message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from ray.serve.handle import DeploymentHandle

from pipeline.errors import PipelineError
from serve_app.api.results import history_record
from serve_app.errors import Code, ServiceCode, ServiceError
from serve_app.settings import PipelineSettings

logger = logging.getLogger("ray.serve")


@dataclass(frozen=True)
class StageHandles:
    """The deployments one analysis goes through, in order, and the writer of its outcome."""

    normalize: DeploymentHandle[Any]
    landmark: DeploymentHandle[Any]
    classify: DeploymentHandle[Any]
    writer: DeploymentHandle[Any]


def _cause(error: BaseException) -> BaseException:
    """The exception a deployment raised, unwrapped from Ray's RayTaskError."""
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, BaseException) else error


class AnalysisRunner:
    """Runs the analyses of one ingress replica in the background and bounds how many it holds."""

    def __init__(self, handles: StageHandles, settings: PipelineSettings) -> None:
        self._handles = handles
        self._settings = settings
        self._running: set[asyncio.Task[None]] = set()

    def check_capacity(self) -> None:
        """Refuse a new photo (503, retry) while this replica already holds as many as it may."""
        if len(self._running) >= self._settings.max_in_flight:
            raise ServiceError(
                ServiceCode.SERVICE_UNAVAILABLE, "Too many photos are being analysed right now. Please retry."
            )

    def start(self, task_id: str, image: bytes, score: float | None, lang: str) -> None:
        self._spawn(self._analyse(task_id, image, score, lang))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._running.add(task)  # keep a reference until done, or the loop may drop it
        task.add_done_callback(self._running.discard)

    async def _analyse(self, task_id: str, image: bytes, score: float | None, lang: str) -> None:
        stages = self._handles
        try:
            async with asyncio.timeout(self._settings.analysis_timeout_s):
                await self._stage(task_id, "normalizing")
                normalized = await stages.normalize.remote(image, score)
                del image
                await self._stage(task_id, "landmarks")
                features = await stages.landmark.remote(normalized)
                report = normalized.report
                del normalized
                await self._stage(task_id, "classifying")
                diagnosis = await stages.classify.remote((features, report, lang))
                await self._stage(task_id, "saving")
            # Outside the timeout: a finished diagnosis is saved however long the database needs.
            await stages.writer.complete.remote(task_id, history_record(diagnosis, report))
        except Exception as raised:
            await self._record_failure(task_id, _cause(raised))

    async def _stage(self, task_id: str, stage: str) -> None:
        """Progress is for the person waiting; failing to record it must not fail their analysis."""
        try:
            await self._handles.writer.stage.remote(task_id, stage)
        except Exception as error:
            logger.warning(
                "Could not record stage %s of %s: %s", stage, task_id, type(_cause(error)).__name__
            )

    async def _record_failure(self, task_id: str, error: BaseException) -> None:
        code: Code
        if isinstance(error, PipelineError | ServiceError):
            code, message = error.code, error.message
        elif isinstance(error, TimeoutError):
            code, message = ServiceCode.TIMEOUT, "The analysis took too long. Please try again."
        else:
            # Only the type: an exception's text might quote its input.
            logger.error("Analysis %s failed unexpectedly: %s", task_id, type(error).__name__)
            code, message = ServiceCode.INTERNAL_ERROR, "The analysis failed on our side. Please try again."
        try:
            await self._handles.writer.fail.remote(task_id, code, message)
        except Exception as write_error:
            logger.error("Could not record the failure of %s: %s", task_id, type(write_error).__name__)
