"""A client-side read timeout for psycopg2, which has none of its own.

When the network path to PostgreSQL drops packets silently (a black hole), libpq waits in `poll()`
for an answer that never comes: `statement_timeout` runs on the server, which never saw the query,
and TCP keepalives or `tcp_user_timeout` only help when nothing acknowledges the packets (a proxy
or a load balancer in between does). psycopg2's documented hook for cooperative waiting,
`psycopg2.extensions.set_wait_callback`, lets us do the waiting ourselves: the callback below is
`psycopg2.extras.wait_select` with a bound. After `socket_s` of silence (or `connect_s` while
connecting) it raises `OperationalError("could not receive data from server ...")`, a message
SQLAlchemy recognises as a disconnect, so the pool closes and discards the connection.

The callback is per process (psycopg2 has one), so the bounds are too: the last engine made wins.
A service replica makes one engine; tests make several with the same defaults.
"""

from __future__ import annotations

import select
import time
from typing import Any

import psycopg2
from psycopg2 import extensions

_bounds = {"socket_s": 5.0, "connect_s": 3.0}


def install_socket_timeout(socket_s: float, connect_s: float) -> None:
    """Bound every wait of every psycopg2 connection in this process (idempotent)."""
    _bounds["socket_s"] = socket_s
    _bounds["connect_s"] = connect_s
    if extensions.get_wait_callback() is not _wait_with_timeout:
        extensions.set_wait_callback(_wait_with_timeout)


def _wait_with_timeout(connection: Any) -> None:
    connecting = connection.status == extensions.STATUS_SETUP
    limit = _bounds["connect_s"] if connecting else _bounds["socket_s"]
    deadline = time.monotonic() + limit
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
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not any(select.select(*waiting, [], remaining)[:2]):
            # Not closed here: psycopg2 holds the connection's lock while it calls us.
            raise psycopg2.OperationalError(
                f"could not receive data from server: no answer within {limit:g} s"
            )
        if not connecting:
            # A wait that made progress starts the silence count again, as a socket timeout does.
            deadline = time.monotonic() + limit
