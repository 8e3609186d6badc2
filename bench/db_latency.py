"""Latency of the database calls on the service's hot paths: `python -m bench.db_latency [-n 500]`.

On the local PostgreSQL (127.0.0.1:5432, its own throwaway database, dropped afterwards), with a
few thousand rows of other people's tasks and results around, it times the calls exactly as the
service makes them, each in a fresh session from the pool (so the figures include the checkout
and its `pool_pre_ping`):

- status lookup by task id and the token's identity (`get_task_for_identity`, what every 0.5 s poll costs);
- completing a task (`complete_task`: row lock, history insert, status update, commit);
- a history page of 20 (`list_history`, first page and a page deep in a long history);
- for scale, a bare one-row UPDATE + COMMIT: the disk's WAL flush, which a durable result must pay.

Targets (issue 5): status lookup <= 1 ms median, completion <= 5 ms median. Wall-clock figures on a
shared machine: the load average is printed alongside.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_session_factory
from db.history import HistoryRecord, list_history
from db.migrate import upgrade_to_head
from db.models import AnalysisHistory, utc_now
from db.tasks import complete_task, create_task, get_or_create_user, get_task_for_identity
from tests.support.postgres import temporary_database

OTHER_USERS = 50
RESULTS_PER_OTHER_USER = 40
OWN_HISTORY = 400
PAGE = 20
WARM_UP = 20

RECORD = HistoryRecord(
    season="spring",
    season_type="spring_warm_light",
    confidence=0.81,
    thumbnail_color="#E8B89A",
    main_colors=["#FFB07C", "#F4D03F", "#98D8C8", "#F7CAC9", "#FFDAB9", "#E9967A"],
    worst_colors=["#2C3E50", "#000000", "#4B0082"],
    makeup={"lip": {"colors": ["#E9967A", "#FF7F50"], "text": "코랄과 피치 계열의 립"}},
    hair={"colors": ["#8B5A2B", "#A0522D"], "text": "따뜻한 브라운"},
    measured={"skin": {"hex": "#E0B090", "lab": [72.0, 12.0, 20.0]}, "ita": 41.5},
    explanation={"undertone": {"text": "웜톤", "numbers": {"skin_b": 20.0}}},
    lighting_score=88.5,
    model_version="bench",
)


def timed(work: Callable[[], object], runs: int) -> list[float]:
    for _ in range(WARM_UP):
        work()
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        work()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def report(name: str, samples: list[float], target_ms: float | None) -> None:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * len(ordered)))]
    median = statistics.median(ordered)
    verdict = (
        ""
        if target_ms is None
        else f"  target <= {target_ms:g} ms: {'ok' if median <= target_ms else 'MISSED'}"
    )
    print(f"{name:<34} median {median:6.2f} ms   p99 {p99:6.2f} ms   (n={len(samples)}){verdict}")


PERSON = ("https://bench.test", "person")  # the (issuer, subject) a token of the benchmarked person names


def seed(sessions: sessionmaker[Session]) -> tuple[uuid.UUID, str]:
    """Other people's results, then one person with a long history; returns that person and a deep cursor."""
    with sessions() as session:
        for index in range(OTHER_USERS):
            other = get_or_create_user(session, "https://bench.test", f"other-{index}")
            session.commit()
            for _ in range(RESULTS_PER_OTHER_USER):
                complete_task(session, create_task(session, other.id).id, RECORD)
        user = get_or_create_user(session, *PERSON)
        session.commit()
        for _ in range(OWN_HISTORY):
            complete_task(session, create_task(session, user.id).id, RECORD)
        # Spread the results over a year, as a real history would be.
        now = utc_now()
        for index, entry in enumerate(list_history(session, user.id, None, OWN_HISTORY).items):
            session.execute(
                update(AnalysisHistory)
                .where(AnalysisHistory.id == entry.id)
                .values(analyzed_at=now - timedelta(days=365) * index / OWN_HISTORY)
            )
        session.commit()
        cursor = None
        for _ in range(OWN_HISTORY // PAGE // 2):  # half way down the history
            cursor = list_history(session, user.id, cursor, PAGE).next_cursor
        assert cursor is not None
        session.execute(text("ANALYZE"))  # plans as on a database that has been running a while
        session.commit()
        return user.id, cursor


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", "--runs", type=int, default=500, help="timed calls per operation")
    args = parser.parse_args()

    with temporary_database("bench") as url:
        upgrade_to_head(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        try:
            print(f"Seeding {OTHER_USERS * RESULTS_PER_OTHER_USER + OWN_HISTORY} results ...")
            user_id, deep_cursor = seed(sessions)
            with sessions() as session:
                pending = [create_task(session, user_id).id for _ in range(args.runs + WARM_UP)]
                polled = create_task(session, user_id).id

            def status() -> object:
                with sessions() as session:
                    return get_task_for_identity(session, polled, PERSON)

            to_complete = iter(pending)

            def complete() -> object:
                with sessions() as session:
                    return complete_task(session, next(to_complete), RECORD)

            def first_page() -> object:
                with sessions() as session:
                    return list_history(session, user_id, None, PAGE)

            def deep_page() -> object:
                with sessions() as session:
                    return list_history(session, user_id, deep_cursor, PAGE)

            load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
            print(f"PostgreSQL, fresh pooled session per call; load average {load}")
            report("status lookup by task id", timed(status, args.runs), 1.0)
            report("complete a task", timed(complete, args.runs), 5.0)
            report("history page of 20 (first)", timed(first_page, args.runs), None)
            report("history page of 20 (deep)", timed(deep_page, args.runs), None)

            def flush_floor() -> object:
                with engine.begin() as connection:
                    return connection.execute(
                        text("UPDATE analysis_tasks SET updated_at = now() WHERE id = :id"), {"id": polled}
                    )

            # What any durable commit costs on this disk (WAL flush): the floor under "complete a task".
            report("one-row UPDATE + COMMIT (floor)", timed(flush_floor, args.runs), None)
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
