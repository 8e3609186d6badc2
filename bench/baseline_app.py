"""The original design, kept as the capacity benchmark's baseline: one FastAPI app, no Ray.

`POST /analysis/start` stores a task row in SQLite and runs the whole pipeline (`Analyzer` +
`Diagnoser`) in FastAPI's `BackgroundTasks`; `GET /analysis/status/{task_id}` reads the row. Run it
with several uvicorn workers (`bench.capacity` starts two); each worker loads its own models. The
task table's file comes from `BASELINE_DATABASE` (a path; the benchmark puts it in /dev/shm).

Not part of the service: no sign-in, no limits, no history. It exists so the service's throughput
can be compared, in one run, with what a plain web app does with the same pipeline on the same cores.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from contextlib import closing
from functools import lru_cache
from typing import Annotated, Any

from fastapi import BackgroundTasks, FastAPI, File, Form
from fastapi.responses import JSONResponse

from pipeline.analysis import Analyzer
from pipeline.diagnosis import Diagnoser
from pipeline.errors import PipelineError

app = FastAPI(title="Personal color, original design (benchmark baseline)")


@lru_cache(maxsize=1)
def _analyzer() -> Analyzer:
    return Analyzer(diagnoser=Diagnoser.load(None))


def _database() -> sqlite3.Connection:
    connection = sqlite3.connect(os.environ["BASELINE_DATABASE"], timeout=30, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, status TEXT NOT NULL, result TEXT)"
    )
    return connection


def _set(task_id: str, status: str, result: str | None = None) -> None:
    with closing(_database()) as connection:
        connection.execute("UPDATE tasks SET status = ?, result = ? WHERE id = ?", (status, result, task_id))


def _analyse(task_id: str, photo: bytes, lang: str) -> None:
    _set(task_id, "processing")
    try:
        analysis = _analyzer().analyze(photo, lang=lang)
    except PipelineError as error:
        _set(task_id, "failed", error.code.value)
        return
    diagnosis = analysis.diagnosis
    _set(task_id, "completed", None if diagnosis is None else str(diagnosis.to_dict()["season_type"]))


@app.post("/analysis/start", status_code=202)
def start(
    background: BackgroundTasks, image: Annotated[bytes, File()], lang: Annotated[str, Form()] = "en"
) -> JSONResponse:
    task_id = str(uuid.uuid4())
    with closing(_database()) as connection:
        connection.execute("INSERT INTO tasks (id, status) VALUES (?, 'queued')", (task_id,))
    background.add_task(_analyse, task_id, image, lang)
    status_url = f"/analysis/status/{task_id}"
    return JSONResponse({"task_id": task_id, "status_url": status_url}, status_code=202)


@app.get("/analysis/status/{task_id}")
def status(task_id: str) -> dict[str, Any]:
    with closing(_database()) as connection:
        row = connection.execute("SELECT status, result FROM tasks WHERE id = ?", (task_id,)).fetchone()
    if row is None:
        return {"task_id": task_id, "status": "failed", "error": {"code": "NOT_FOUND"}}
    return {"task_id": task_id, "status": row[0], "result": row[1]}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    _analyzer()  # loads the models, so the benchmark waits for a warm worker
    return {"status": "ok"}
