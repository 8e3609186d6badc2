"""One analysis from upload to outcome, and the heartbeat that shows its progress and proves it alive.

The ingress hands each accepted photo to `AnalysisRunner.start`, which runs it as an asyncio task of
the replica. The three stage calls are chained on the AI node: each `DeploymentResponse` goes straight
into the next handle call, so the decoded photo moves Normalize -> Landmark inside the AI node's object
store and the web node gets back only Classify's text-only record, which it gives to the ResultWriter.

Progress without a write or a remote call per stage: the runner notes locally which stage each of its
analyses is in (it waits for each intermediate output to *exist*, without fetching it), and once per
heartbeat (`DatabaseSettings.heartbeat_s`) records the stages of all of them in one transaction. That
write also renews their lease (`updated_at`), and each heartbeat then fails as INTERRUPTED every task
whose lease has run out (`lease_s`): the analyses of a replica that died, whatever replica notices.
After a database outage a replica renews its own leases before it judges anyone else's, so a
healthy replica's analyses are not swept because nobody could write during the outage.

The photo lives only in this process's memory until Normalize's call takes it, and in Ray's in-memory
object store: it is never written to disk, logged, or put into an error message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ray.exceptions import NodeDiedError, ObjectLostError, RayActorError, RayTaskError, WorkerCrashedError
from ray.serve.handle import DeploymentHandle, DeploymentResponse, DeploymentResponseGenerator
from sqlalchemy.orm import Session, sessionmaker

from db.history import HistoryRecord
from db.models import Id
from db.tasks import INTERRUPTED_MESSAGE, record_progress, sweep_stuck_tasks
from pipeline.errors import PipelineError
from serve_app.errors import Code, ServiceCode, ServiceError
from serve_app.settings import DatabaseSettings, PipelineSettings

logger = logging.getLogger("ray.serve")

# A replica, its worker process or its whole node (e.g. the AI node) went away during the analysis, taking
# the photo's only copies with it: nothing was wrong with the photo, and taking it again will work once
# Serve has a replica again.
_LOST_REPLICA = (RayActorError, NodeDiedError, ObjectLostError, WorkerCrashedError)

# What `GET /analysis/status` shows as `stage`, in order.
NORMALIZING, LANDMARKS, CLASSIFYING, SAVING = "normalizing", "landmarks", "classifying", "saving"


@dataclass(frozen=True)
class StageHandles:
    """The deployments one analysis goes through, in order, and the writer of its outcome."""

    normalize: DeploymentHandle[Any]
    landmark: DeploymentHandle[Any]
    classify: DeploymentHandle[Any]
    writer: DeploymentHandle[Any]


def _cause(error: BaseException) -> BaseException:
    """The exception a deployment raised, unwrapped from Ray's RayTaskErrors (one per chained call)."""
    while isinstance(error, RayTaskError) and isinstance(error.cause, BaseException):
        error = error.cause
    return error


async def _exists(response: DeploymentResponse[Any] | DeploymentResponseGenerator[Any]) -> None:
    """Wait until a stage's output exists (or its error does) without fetching it into this process.

    `_to_object_ref` is Serve's developer API for this; `ObjectRef._ready` is what Serve's own router
    awaits when it chains a response into the next call, for the same reason: the value stays where
    it is (here: pixels, on the AI node).
    """
    assert isinstance(response, DeploymentResponse)  # a unary call, never streamed
    reference = await response._to_object_ref()
    await reference._ready()


async def diagnose(
    handles: StageHandles, image: bytes, score: float | None, lang: str, at_stage: Callable[[str], None]
) -> HistoryRecord:
    """The three stage calls chained on the AI node; only the stored record comes back here.

    `at_stage` hears each stage as the previous one's output appears.
    """
    normalized = handles.normalize.remote(image, score)
    measured = handles.landmark.remote(normalized)
    classified = handles.classify.remote(measured, lang)
    await _exists(normalized)
    at_stage(LANDMARKS)
    await _exists(measured)
    at_stage(CLASSIFYING)
    record: HistoryRecord = await classified
    return record


class AnalysisRunner:
    """Runs the analyses of one ingress replica in the background and bounds how many it holds."""

    def __init__(self, handles: StageHandles, settings: PipelineSettings) -> None:
        self._handles = handles
        self._settings = settings
        self._running: set[asyncio.Task[None]] = set()
        self._stages: dict[Id, str] = {}  # task id -> stage, for the next heartbeat

    def check_capacity(self) -> None:
        """Refuse a new photo (503, retry) while this replica already holds as many as it may."""
        if len(self._running) >= self._settings.max_in_flight:
            raise ServiceError(
                ServiceCode.SERVICE_UNAVAILABLE,
                "Too many photos are being analysed right now. Please retry.",
                retry_after_s=1,
            )

    def start(self, task_id: str, image: bytes, score: float | None, lang: str) -> None:
        self._stages[task_id] = NORMALIZING
        self._spawn(self._analyse(task_id, image, score, lang))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._running.add(task)  # keep a reference until done, or the loop may drop it
        task.add_done_callback(self._running.discard)

    async def _analyse(self, task_id: str, image: bytes, score: float | None, lang: str) -> None:
        def at_stage(stage: str) -> None:
            self._stages[task_id] = stage

        try:
            try:
                async with asyncio.timeout(self._settings.analysis_timeout_s):
                    record = await diagnose(self._handles, image, score, lang, at_stage)
                at_stage(SAVING)
                # Outside the timeout: the writer keeps a finished diagnosis through a database outage.
                await self._handles.writer.complete.remote(task_id, record)
            except Exception as raised:
                await self._record_failure(task_id, _cause(raised))
        finally:
            self._stages.pop(task_id, None)

    async def _record_failure(self, task_id: str, error: BaseException) -> None:
        code: Code
        details: dict[str, Any] = {}
        if isinstance(error, PipelineError | ServiceError):
            code, message, details = error.code, error.message, error.details
        elif isinstance(error, TimeoutError):
            code, message = ServiceCode.TIMEOUT, "The analysis took too long. Please try again."
        elif isinstance(error, _LOST_REPLICA):
            logger.warning("Analysis %s lost its replica: %s", task_id, type(error).__name__)
            code, message = ServiceCode.INTERRUPTED, INTERRUPTED_MESSAGE
        else:
            # Only the type: an exception's text might quote its input.
            logger.error("Analysis %s failed unexpectedly: %s", task_id, type(error).__name__)
            code, message = ServiceCode.INTERNAL_ERROR, "The analysis failed on our side. Please try again."
        try:
            await self._handles.writer.fail.remote(task_id, code, message, details)
        except Exception as write_error:
            # The lease runs out and a heartbeat ends the task as INTERRUPTED.
            logger.error("Could not record the failure of %s: %s", task_id, type(write_error).__name__)

    async def keep_leases(self, sessions: sessionmaker[Session], policy: DatabaseSettings) -> None:
        """The heartbeat, until cancelled: record stages, renew leases, sweep the expired ones."""
        lease = timedelta(seconds=policy.lease_s)
        renewed_last_time = False
        while True:
            await asyncio.sleep(policy.heartbeat_s)
            try:
                stages = dict(self._stages)
                swept = await asyncio.to_thread(
                    _heartbeat, sessions, stages, lease if renewed_last_time else None
                )
            except Exception as error:
                if renewed_last_time:
                    logger.warning("Heartbeat could not reach the database: %s", type(error).__name__)
                renewed_last_time = False
                continue
            renewed_last_time = True
            if swept:
                logger.warning("Ended %d analyses of a lost replica as INTERRUPTED", swept)


def _heartbeat(sessions: sessionmaker[Session], stages: Mapping[Id, str], lease: timedelta | None) -> int:
    with sessions() as session:
        record_progress(session, stages)
        return 0 if lease is None else sweep_stuck_tasks(session, lease)
