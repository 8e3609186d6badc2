"""Latency of the database calls on the service's hot paths: `python -m bench.db_latency`.

Prints median and p99 milliseconds, on a throwaway PostgreSQL database (created on the local server
and dropped afterwards), for:

- status lookup: `get_task_for_owner` by task id, as `GET /analysis/status/{id}` runs it every
  0.5 s per waiting person (target: median <= 1 ms);
- completion: `complete_task`, the history insert and the task update in one transaction
  (target: median <= 5 ms), and the same call repeated on completed tasks (the idempotent path a
  retried write takes);
- a history page of 20: `list_history`, walking one person's whole history page by page.

Each call opens and closes its own session, as a request does, so the pool checkout (with its
`pool_pre_ping` round trip) is part of every figure. `--sqlite` adds the embedded default (a file
under /tmp) for comparison. Figures are wall-clock times on a shared machine: compare ratios within
one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_session_factory
from db.history import HistoryRecord, list_history
from db.migrate import upgrade_to_head
from db.tasks import complete_task, create_task, get_or_create_user, get_task_for_owner

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
TARGETS_MS = {"status lookup": 1.0, "completion": 5.0}
PAGE_SIZE = 20


@dataclass(frozen=True)
class Timing:
    name: str
    samples_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def a_record(rng: random.Random) -> HistoryRecord:
    """A result of realistic size: the fields a diagnosis stores, with a dozen palette colours."""

    def hex_color() -> str:
        return f"#{rng.randrange(0x1000000):06X}"

    season = rng.choice(["spring", "summer", "autumn", "winter"])
    return HistoryRecord(
        season=season,
        season_type=f"{season}_{rng.choice(['warm', 'cool'])}_{rng.choice(['light', 'bright', 'mute'])}",
        confidence=round(rng.uniform(0.4, 0.95), 3),
        thumbnail_color=hex_color(),
        main_colors=[hex_color() for _ in range(12)],
        worst_colors=[hex_color() for _ in range(6)],
        makeup={"lip": [hex_color() for _ in range(3)], "cheek": [hex_color()], "note": "Coral and peach."},
        hair={"colors": [hex_color() for _ in range(3)], "note": "Warm brown tones."},
        measured={
            region: {"hex": hex_color(), "lab": [round(rng.uniform(20, 80), 2), 10.5, 18.25]}
            for region in ("skin", "eyes", "hair")
        },
        explanation={"summary": "Warm, light and clear.", "reasons": ["yellow undertone", "high value"]},
        lighting_score=round(rng.uniform(60, 99), 1),
        model_version="bench",
    )


def timed(calls: Sequence[Callable[[], Any]]) -> list[float]:
    samples = []
    for call in calls:
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples


def run(url: str, args: argparse.Namespace) -> list[Timing]:
    upgrade_to_head(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    rng = random.Random(args.seed)
    try:
        reader, others = seed_users(sessions, args.background_users)
        calls = args.runs + args.warmup
        open_tasks = new_tasks(sessions, reader, calls)
        lookups = [rng.choice(open_tasks) for _ in range(calls)]

        walk = seed_history(sessions, reader, others, args.history, rng)
        cursors = (walk * (calls // len(walk) + 1))[:calls]

        def call(work: Callable[..., Any], *arguments: Any) -> Callable[[], Any]:
            def in_session() -> Any:
                with sessions() as session:
                    return work(session, *arguments)

            return in_session

        status = timed([call(get_task_for_owner, task, reader) for task in lookups])
        completion = timed([call(complete_task, task, a_record(rng)) for task in open_tasks])
        repeated = timed([call(complete_task, task, a_record(rng)) for task in open_tasks])
        pages = timed([call(list_history, reader, cursor, PAGE_SIZE) for cursor in cursors])
    finally:
        engine.dispose()
    warm = args.warmup
    return [
        Timing("status lookup", status[warm:]),
        Timing("completion", completion[warm:]),
        Timing("completion (repeated)", repeated[warm:]),
        Timing(f"history page of {PAGE_SIZE}", pages[warm:]),
    ]


def seed_users(sessions: sessionmaker[Session], background: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    with sessions() as session:
        users = [get_or_create_user(session, "bench", f"user-{index}") for index in range(background + 1)]
        session.commit()
        ids = [user.id for user in users]
    return ids[0], ids[1:]


def seed_history(
    sessions: sessionmaker[Session],
    reader: uuid.UUID,
    others: list[uuid.UUID],
    entries: int,
    rng: random.Random,
) -> list[str | None]:
    """`entries` results for the reader and as many spread over the other users (so the index has to
    pick one person's rows out of many); returns the cursors of every page of the reader's history."""
    owners = (
        [reader] * entries + [rng.choice(others) for _ in range(entries)] if others else [reader] * entries
    )
    rng.shuffle(owners)
    with sessions() as session:
        for owner in owners:
            complete_task(session, create_task(session, owner).id, a_record(rng))
    cursors: list[str | None] = [None]
    with sessions() as session:
        while True:
            page = list_history(session, reader, cursors[-1], PAGE_SIZE)
            if page.next_cursor is None:
                break
            cursors.append(page.next_cursor)
    return cursors


def new_tasks(sessions: sessionmaker[Session], owner: uuid.UUID, count: int) -> list[uuid.UUID]:
    with sessions() as session:
        return [create_task(session, owner).id for _ in range(count)]


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """A new database on the local server for this run, dropped (with its connections) at the end."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"bench_db_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def report(label: str, timings: list[Timing]) -> None:
    print(f"\n{label}")
    print(f"{'operation':<24} {'n':>6} {'median ms':>10} {'p99 ms':>8}  target")
    for timing in timings:
        target = TARGETS_MS.get(timing.name)
        verdict = ""
        if target is not None:
            verdict = f"median <= {target:g} ms: " + ("met" if timing.median <= target else "NOT met")
        figures = f"{len(timing.samples_ms):>6} {timing.median:>10.3f} {timing.p99:>8.3f}"
        print(f"{timing.name:<24} {figures}  {verdict}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="timed calls per operation")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--history", type=int, default=400, help="stored results of the reader")
    parser.add_argument("--background-users", type=int, default=50)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--sqlite", action="store_true", help="also run on a SQLite file, for comparison")
    args = parser.parse_args(argv)

    print(
        f"Database latency: {args.runs} timed calls per operation after {args.warmup} warm-up calls, "
        f"{args.history} results in the reader's history, {args.background_users} other users"
    )
    if hasattr(os, "getloadavg"):
        print("Load average (1, 5, 15 min) at the start: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    with scratch_postgres() as url:
        report(f"PostgreSQL ({make_url(url).host}:{make_url(url).port}, a fresh database)", run(url, args))
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="bench-db-") as folder:
            report("SQLite (WAL, a file under /tmp)", run(f"sqlite:///{Path(folder) / 'bench.db'}", args))
    if hasattr(os, "getloadavg"):
        print("\nLoad average (1, 5, 15 min) at the end: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
