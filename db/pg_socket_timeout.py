"""A client-side read timeout for psycopg2, which has none of its own.

When the network path to PostgreSQL drops packets silently (a black hole), libpq waits in `poll()`
for an answer that never comes: `statement_timeout` runs on the server, which never saw the query,
and TCP keepalives or `tcp_user_timeout` only help when nothing acknowledges the packets (a proxy
or a load balancer in between does). psycopg2's documented hook for cooperative waiting,
`psycopg2.extensions.set_wait_callback`, lets us do the waiting ourselves: the callback below is
`psycopg2.extras.wait_select` with a bound. After `tcp_user_timeout` of silence (or
`connect_timeout` while connecting), both read from the connection's own parameters, it raises
`OperationalError("could not receive data from server ...")`, a message SQLAlchemy recognises as a
disconnect, so the pool closes and discards the connection.

psycopg2 has one callback per process; connections that name neither parameter (opened outside
`db.engine`) wait without a bound, as they would without the callback.
"""

from __future__ import annotations

import functools
import select
import time
from typing import Any

import psycopg2
from psycopg2 import extensions


def install_socket_timeout() -> None:
    """Bound the waits of psycopg2 connections in this process (idempotent)."""
    if extensions.get_wait_callback() is not _wait_with_timeout:
        extensions.set_wait_callback(_wait_with_timeout)


@functools.lru_cache(maxsize=64)
def _bounds(dsn: str) -> tuple[float | None, float | None]:
    """(connect, silence) bounds in seconds from a DSN's connect_timeout and tcp_user_timeout."""
    parameters = extensions.parse_dsn(dsn)
    connect = parameters.get("connect_timeout")
    silence = parameters.get("tcp_user_timeout")
    return (float(connect) if connect else None, float(silence) / 1000 if silence else None)


def _wait_with_timeout(connection: Any) -> None:
    connecting = connection.status == extensions.STATUS_SETUP
    connect_s, silence_s = _bounds(connection.dsn)
    limit = connect_s if connecting else silence_s
    deadline = None if limit is None else time.monotonic() + limit
    while True:
        try:
            state = connection.poll()
        except KeyboardInterrupt:
            connection.cancel()
            continue
        if state == extensions.POLL_OK:
            return
        if state == extensions.POLL_READ:
            waiting: tuple[list[int], list[int]] = ([connection.fileno()], [])
        elif state == extensions.POLL_WRITE:
            waiting = ([], [connection.fileno()])
        else:
            raise psycopg2.OperationalError(f"bad state from poll: {state}")
        if deadline is None:
            select.select(*waiting, [])
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not any(select.select(*waiting, [], remaining)[:2]):
            # Not closed here: psycopg2 holds the connection's lock while it calls us.
            raise psycopg2.OperationalError(
                f"could not receive data from server: no answer within {limit:g} s"
            )
        if not connecting and limit is not None:
            # A wait that made progress starts the silence count again, as a socket timeout does.
            deadline = time.monotonic() + limit
