"""Refresh-token rotation under concurrency, on real PostgreSQL: one token, many simultaneous uses."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.accounts import RotationOutcome, create_local_account, rotate_refresh_token, store_refresh_token
from db.auth_models import RefreshToken
from db.engine import make_engine, make_session_factory
from serve_app.security.auth.refresh_tokens import hash_refresh_token, new_refresh_token

pytestmark = pytest.mark.postgres

RACERS = 8


@pytest.fixture(scope="module")
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url, pool_size=RACERS)
    yield make_session_factory(engine)
    engine.dispose()


def test_a_token_used_by_many_requests_at_once_rotates_exactly_once(sessions: sessionmaker[Session]) -> None:
    token = new_refresh_token()
    family = uuid.uuid4()
    with sessions() as session:
        user = create_local_account(
            session,
            issuer="personal-color",
            login_name=f"race-{uuid.uuid4().hex[:10]}",
            password_hash="not-a-real-hash",
            display_name=None,
        )
        store_refresh_token(
            session,
            user_id=user.id,
            token_hash=hash_refresh_token(token),
            family_id=family,
            expires_at=datetime.now(UTC) + timedelta(days=1),
        )
        session.commit()

    outcomes: list[RotationOutcome] = []
    start = threading.Barrier(RACERS)

    def use_token() -> None:
        with sessions() as session:
            start.wait()
            rotation = rotate_refresh_token(session, hash_refresh_token(token), datetime.now(UTC))
            session.commit()
            outcomes.append(rotation.outcome)

    threads = [threading.Thread(target=use_token) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count(RotationOutcome.ROTATED) == 1
    assert outcomes.count(RotationOutcome.REUSED) == RACERS - 1
    # The losers look like a replayed token, so the family is revoked.
    with sessions() as session:
        revoked = session.scalars(
            select(RefreshToken.revoked_at).where(RefreshToken.family_id == family)
        ).all()
    assert revoked and all(at is not None for at in revoked)
