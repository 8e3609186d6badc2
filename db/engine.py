"""The one place that creates database engines and sessions, from a URL.

PostgreSQL (psycopg2) is the production target; SQLite is the embedded default for a local quick
start. Every Ray replica builds its own engine, so pool sizes are per replica: with the defaults a
replica holds at most `POOL_SIZE + MAX_OVERFLOW` connections, and a handful of replicas stay well
under PostgreSQL's default `max_connections = 100`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

POOL_SIZE = 5
MAX_OVERFLOW = 5
# Recycle before common proxies and firewalls drop idle connections (often 30-60 min).
POOL_RECYCLE_S = 1800

# Execution option asking SQLite to take its write lock when the transaction starts (see `write_session`).
SQLITE_WRITE_LOCK = "sqlite_begin_immediate"


@dataclass(frozen=True)
class Timeouts:
    """How long a unit of work waits on the database before it fails (and the API answers 503).

    `connect_s` bounds opening a connection (PostgreSQL: whole seconds, at least 2, as libpq's
    `connect_timeout` takes it), `statement_s` one statement on the server
    (PostgreSQL's `statement_timeout`), `socket_s` any silence of the server on an open connection
    (a black-holed network: no error ever arrives, so only the client can end the wait; see
    `db.pg_socket_timeout`), `pool_s` the wait for a free pooled connection, and `sqlite_busy_s`
    SQLite's wait for another writer's lock. The service reads them from its settings.
    """

    connect_s: float = 3.0
    statement_s: float = 4.0
    socket_s: float = 5.0
    pool_s: float = 3.0
    sqlite_busy_s: float = 5.0

    def __post_init__(self) -> None:
        if min(self.connect_s, self.statement_s, self.socket_s, self.pool_s, self.sqlite_busy_s) <= 0:
            raise ValueError("database timeouts must be positive")
        if self.socket_s <= self.statement_s:
            # Otherwise a slow but healthy statement would be cut as a dead connection.
            raise ValueError("socket_s must exceed statement_s")


def make_engine(
    url: str | URL,
    *,
    pool_size: int = POOL_SIZE,
    max_overflow: int = MAX_OVERFLOW,
    timeouts: Timeouts = Timeouts(),
) -> Engine:
    """An engine with liveness checks on checkout (`pool_pre_ping`), so a restarted database costs
    one failed ping instead of a failed request, and with every wait bounded by `timeouts`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, timeouts)
    connect_args: dict[str, Any] = {}
    if parsed.get_driver_name() == "psycopg2":
        from db.pg_socket_timeout import install_socket_timeout

        install_socket_timeout()
        connect_args = {
            # libpq's bound (whole seconds, at least 2); with the wait callback installed it is the
            # callback that enforces it, and `tcp_user_timeout` as the bound on silence.
            "connect_timeout": max(2, round(timeouts.connect_s)),
            "application_name": "personal-color",
            "options": f"-c statement_timeout={round(timeouts.statement_s * 1000)}",
            # A peer that vanished (no RST) is noticed by the kernel: unacknowledged data fails
            # after tcp_user_timeout, an idle pooled connection after the keepalive probes.
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": round(timeouts.socket_s * 1000),
        }
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=timeouts.pool_s,
        pool_recycle=POOL_RECYCLE_S,
        connect_args=connect_args,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit: results are handed on after their unit of work."""
    return sessionmaker(engine, expire_on_commit=False)


def _sqlite_engine(url: URL, timeouts: Timeouts) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    engine = create_engine(
        url,
        pool_pre_ping=True,
        # Sessions move between threads (FastAPI's thread pool, Ray's executor); SQLite's own
        # serialisation of writers, not Python's thread check, is what keeps the file consistent.
        # `timeout` is the sqlite3 module's busy timeout; the PRAGMA below restates it for
        # connections SQLAlchemy configures itself.
        connect_args={"check_same_thread": False, "timeout": timeouts.sqlite_busy_s},
        # An in-memory database lives and dies with its one connection: share it.
        **({"poolclass": StaticPool} if in_memory else {}),
    )
    busy_ms = round(timeouts.sqlite_busy_s * 1000)
    event.listen(engine, "connect", lambda dbapi, record: _configure_sqlite_connection(dbapi, busy_ms))
    event.listen(engine, "begin", _begin_sqlite_transaction)
    event.listen(engine, "before_cursor_execute", _lock_before_first_write)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, busy_timeout_ms: int) -> None:
    # The sqlite3 module's own implicit BEGIN is turned off: the hooks below decide (see
    # `_lock_before_first_write` for why).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer, nor it them
        cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite; cascades depend on it
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across crashes of the process in WAL mode
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    if connection.get_execution_options().get(SQLITE_WRITE_LOCK, False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# Statements that write (or open a savepoint, which starts a transaction that will write).
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "ALTER", "DROP", "SAVEPOINT")


def _lock_before_first_write(_connection: Connection, cursor: Any, statement: str, *_args: Any) -> None:
    """Take SQLite's write lock with BEGIN IMMEDIATE just before a unit of work's first write.

    In WAL mode a transaction that has read holds a snapshot; if another connection commits before
    it writes, its write fails at once with "database is locked", busy timeout or not. So reads
    that precede the first write run outside a transaction (each statement sees the latest
    commit, as PostgreSQL's READ COMMITTED does), and the transaction starts at the first write,
    waiting up to the busy timeout for the lock. Units that must read and write consistently
    (`complete_task`) take the lock up front with `write_session`.
    """
    dbapi_connection = cursor.connection
    if not dbapi_connection.in_transaction and statement.lstrip()[:9].upper().startswith(_WRITES):
        dbapi_connection.execute("BEGIN IMMEDIATE")


def write_session(session: Session) -> None:
    """Start the session's transaction as a writer, if it has not started yet.

    On SQLite a transaction that reads and then writes can fail at once with "database is locked"
    when another writer committed in between (the busy timeout does not apply to that upgrade).
    Taking the write lock at BEGIN makes such units of work wait their turn instead. PostgreSQL
    ignores the option: there, row locks (`SELECT ... FOR UPDATE`) do this job.
    """
    if not session.in_transaction():
        session.connection(execution_options={SQLITE_WRITE_LOCK: True})
