"""Password hashing for local accounts: Argon2id through pwdlib, off the event loop and bounded.

Only the hash is ever stored. `verify_password` also reports when a stored hash was made with
other parameters than today's, so a successful login can replace it in place.

Sizing. Argon2id with m = 19 MiB, t = 2, p = 1 is the OWASP Password Storage Cheat Sheet's first
recommendation; pwdlib's default (m = 64 MiB, t = 3, p = 4, RFC 9106's second option) took about
1.1 s of a core per hash on the 2-core build machine under load, against about 0.19 s for these
(`python -m bench.password_hashing`). Hashes run on one thread of their own per ingress replica, so
however many people register or sign in at once, hashing holds at most one core and 19 MiB, and
the event loop and the request thread pool (which serves the status polls of running analyses)
never wait on it; callers queue, with the wait bounded by `MAX_QUEUE_WAIT_S` (then 503).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from serve_app.errors import ServiceCode, ServiceError

HASHES_AT_ONCE = 1
MAX_QUEUE_WAIT_S = 15.0

R = TypeVar("R")

HASHER = PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19 * 1024, parallelism=1),))
_executor = ThreadPoolExecutor(max_workers=HASHES_AT_ONCE, thread_name_prefix="password-hash")
# Verifying against this when the account does not exist keeps a failed login for an unknown name
# as slow as one for a known name, so response times do not reveal which names are registered.
_DECOY_HASH = HASHER.hash("decoy password that matches nothing")


@dataclass(frozen=True)
class PasswordCheck:
    ok: bool
    upgraded_hash: str | None = None  # set when the stored hash should be replaced


async def hash_password(password: str) -> str:
    return await _on_hash_thread(functools.partial(_hash, password))


async def verify_password(password: str, stored_hash: str | None) -> PasswordCheck:
    return await _on_hash_thread(functools.partial(_verify, password, stored_hash))


def _hash(password: str) -> str:
    return str(HASHER.hash(password))


def _verify(password: str, stored_hash: str | None) -> PasswordCheck:
    if stored_hash is None:
        HASHER.verify(password, _DECOY_HASH)
        return PasswordCheck(ok=False)
    ok, new_hash = HASHER.verify_and_update(password, stored_hash)
    return PasswordCheck(ok=bool(ok), upgraded_hash=new_hash if ok else None)


async def _on_hash_thread(work: Callable[[], R]) -> R:
    """Run `work` on the hash thread; a call that waited in its queue past `MAX_QUEUE_WAIT_S` is
    skipped (503) instead of run, so the wait stays bounded however many callers pile up."""
    queued = time.monotonic()

    def unless_stale() -> R | None:
        return None if time.monotonic() - queued > MAX_QUEUE_WAIT_S else work()

    result = await asyncio.wrap_future(_executor.submit(unless_stale))
    if result is None:
        raise ServiceError(
            ServiceCode.SERVICE_UNAVAILABLE, "Too many sign-ins at once right now. Please try again."
        )
    return result
