"""Engines and transactions for the embedded SQLite file or the shared PostgreSQL server."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db.errors import DatabaseUnavailable, is_unreachable, unavailable

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_LOCK_TIMEOUT_MS = 2000
IDLE_PING_SECONDS = 30.0
DESK_CONNECTIONS = 2
"""Server connections one desk may hold at once (PostgreSQL): its worker runs scans, lists
and polls one at a time on one of them; the other serves the status check, a report or a
print job running beside it. Opened when first needed, never more."""
IDLE_CLOSE_SECONDS = 60.0
"""A pooled connection unused this long is closed (and opened again when next needed)."""
POOL_WAIT_SECONDS = 60.0
"""How long an action waits for one of the desk's connections before it gives up."""
POOLER_OPTION = "pooler"
"""`?pooler=transaction` on a PostgreSQL URL: the desk connects through a transaction
pooler (PgBouncer `pool_mode = transaction`), which hands the server connection to another
client after every transaction. Nothing may then rely on session state: settings are
made per transaction and psycopg never prepares statements (PgBouncer before 1.21 cannot
pass them between server connections)."""
_NETWORK_FILESYSTEMS = {
    "nfs",
    "nfs4",
    "cifs",
    "smb",
    "smbfs",
    "smb3",
    "sshfs",
    "fuse.sshfs",
    "9p",
    "afs",
    "ncpfs",
    "davfs",
    "fuse.davfs2",
    "glusterfs",
    "ceph",
}


class CommitOutcomeUnknown(OperationalError):
    """The connection broke after COMMIT was sent: the change may or may not be saved.

    Only a lookup of something the transaction wrote (a scan's idempotency key) tells; a
    caller must never report "nothing was changed" for it.
    """


class DatabaseConfigError(Exception):
    """The configured database cannot be used as it stands; the message says why and what to do."""


@dataclass(frozen=True)
class DatabaseInfo:
    """What the status bar shows: an embedded file or a shared server."""

    backend: str  # "sqlite" or "postgresql"
    location: str  # file path, or host[:port]/dbname

    @property
    def label(self) -> str:
        kind = "embedded" if self.backend == "sqlite" else "shared"
        return f"{kind}: {self.location}"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def is_network_path(path: Path) -> bool:
    """True when `path` lives on a network share, where SQLite's file locking is unsafe."""
    text = str(path)
    if text.startswith(("\\\\", "//")):
        return True
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows desks only
        import ctypes

        drive = os.path.splitdrive(os.path.abspath(text))[0] + "\\"
        return bool(ctypes.windll.kernel32.GetDriveTypeW(drive) == 4)  # type: ignore[attr-defined]
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    resolved = str(Path(text).resolve())
    best, best_fs = "", ""
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount_point = parts[1].replace("\\040", " ")
        if (resolved == mount_point or resolved.startswith(mount_point.rstrip("/") + "/")) and len(
            mount_point
        ) > len(best):
            best, best_fs = mount_point, parts[2]
    return best_fs in _NETWORK_FILESYSTEMS


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL with FULL sync: a check-in the banner has confirmed survives a power cut (NORMAL
    would keep the file consistent but could lose the last commits); each commit then costs
    one flush of the write-ahead log, well under a millisecond on an SSD."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _on_sqlite_begin(conn: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN; take the write lock up front
    # so two processes never deadlock upgrading a read lock.
    read_only = conn.get_execution_options().get("illdesk_read_only", False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _ping_connections_left_idle(engine: Engine) -> None:
    """Check a pooled connection is alive only when it sat idle a while.

    A connection goes stale when it idles (server restart, a firewall dropping quiet
    sessions); pinging at every checkout would add a round trip to every scan of a busy
    desk. A connection used in the last IDLE_PING_SECONDS is trusted; a failure then still
    invalidates the pool and the next action reconnects.
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure means this connection is gone
            raise DisconnectionError(str(exc)) from exc
        if not alive:
            raise DisconnectionError("the database did not answer a ping")


def _unreachable_as_one_error(ctx: ExceptionContext) -> DatabaseUnavailable | None:
    """Every "the database is away" failure becomes `DatabaseUnavailable`, here and only here.

    Lock timeouts and deadlocks pass unchanged: another desk holds the row, the database is
    there, and the service's own retry or "scan again" deals with them.
    """
    orig = ctx.original_exception
    if isinstance(orig, DatabaseUnavailable) or not isinstance(orig, Exception):
        return None
    if not is_unreachable(orig, disconnect=ctx.is_disconnect, connecting=ctx.connection is None):
        return None
    return unavailable(
        orig, statement=ctx.statement, params=ctx.parameters, invalidated=ctx.is_disconnect
    )


class DiscardedConnections:
    """How many pooled connections were thrown away because they could not be reset.

    A connection that died mid-pipeline cannot even be rolled back ("cannot exit pipeline
    mode while busy"); the pool used to print a traceback for each. It is discarded quietly
    (the next action opens a fresh one) and counted here, for the status bar and the soak.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1


DISCARDED = DiscardedConnections()


def _reset_quietly(engine: Engine) -> None:
    """Roll back a connection returned to the pool; discard it if even that fails."""

    @event.listens_for(engine, "reset")
    def _reset(dbapi_connection: Any, record: Any, reset_state: Any) -> None:
        if reset_state.terminate_only:
            return
        try:
            if getattr(dbapi_connection, "closed", False) or getattr(
                dbapi_connection, "broken", False
            ):
                raise DisconnectionError("the connection was already lost")
            dbapi_connection.rollback()
        except Exception as exc:  # any failure means: do not reuse it
            DISCARDED.add()
            log.info("discarded a pooled connection that could not be reset: %s", exc)
            record.invalidate(exc)


class _IdleCloser:
    """Closes a pooled connection nobody used for IDLE_CLOSE_SECONDS, so a quiet desk holds
    no server connection; the pool opens it again at the next action.

    Only connections sitting in the pool are closed (the pool's own `checkin`/`checkout`
    events say which), under a lock the checkout takes too: a connection handed out just
    as it was closed is refused at checkout and the pool opens a fresh one in its place.
    A thread runs only while some connection sits idle, and ends when none does.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._idle: dict[Any, float] = {}  # pool record -> monotonic time it came back
        self._thread: threading.Thread | None = None

    def returned(self, record: Any) -> None:
        with self._lock:
            self._idle[record] = time.monotonic()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="illdesk-idle-close", daemon=True
                )
                self._thread.start()

    def taken(self, dbapi_connection: Any, record: Any) -> None:
        with self._lock:
            self._idle.pop(record, None)
            if record.dbapi_connection is not dbapi_connection:  # closed as it was taken
                raise DisconnectionError("the connection was closed while idle")

    def _run(self) -> None:
        with self._lock:
            while self._idle:
                now = time.monotonic()
                expired = [
                    r for r, since in self._idle.items() if now - since >= IDLE_CLOSE_SECONDS
                ]
                for record in expired:
                    del self._idle[record]
                    try:
                        record.invalidate()  # closes it; the record stays in the pool
                    except Exception as exc:  # closing a dead connection may fail: it is gone
                        log.debug("closing an idle connection failed: %s", exc)
                if self._idle:
                    oldest = min(self._idle.values())
                    self._lock.wait(max(0.05, oldest + IDLE_CLOSE_SECONDS - time.monotonic()))
            self._thread = None


def _close_connections_left_idle(engine: Engine) -> None:
    closer = _IdleCloser()
    event.listen(engine, "checkin", lambda _dbapi, record: closer.returned(record))
    event.listen(engine, "checkout", lambda dbapi, record, _proxy: closer.taken(dbapi, record))


# Settings each transaction of an engine behind a transaction pooler makes for itself.
_PER_TRANSACTION: weakref.WeakKeyDictionary[Engine, dict[str, str]] = weakref.WeakKeyDictionary()


def behind_transaction_pooler(engine: Engine) -> bool:
    """True when `engine` connects through a transaction pooler (`?pooler=transaction`)."""
    return engine in _PER_TRANSACTION


_SETTINGS_DUE = "illdesk_settings_due"
_BRACKETS = frozenset({"BEGIN", "COMMIT", "ROLLBACK"})


def _set_per_transaction(engine: Engine) -> None:
    """Each transaction makes its settings before its first statement, in the same round
    trip as that statement's BEGIN when the transaction is pipelined (db/pipeline.py).
    `set_config(..., true)` ends them with the transaction, so the next client of the same
    server connection never inherits them."""
    settings = _PER_TRANSACTION[engine]

    @event.listens_for(engine, "begin")
    def _begun(conn: Any) -> None:
        # A statement in autocommit (the change feed's poll) is a transaction of its own
        # and takes no lock worth a timeout: it pays no extra round trip for settings.
        autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        conn.info[_SETTINGS_DUE] = not autocommit

    @event.listens_for(engine, "before_cursor_execute")
    def _first_statement(
        conn: Any, cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        if not conn.info.get(_SETTINGS_DUE) or statement in _BRACKETS:
            return
        conn.info[_SETTINGS_DUE] = False
        calls = ", ".join(f"set_config('{k}', '{v}', true)" for k, v in settings.items())
        cursor.connection.execute(f"SELECT {calls}")


def use_setting(engine: Engine, name: str, value: int) -> None:
    """Every transaction of `engine` runs with the server setting `name` = `value`.

    Directly on PostgreSQL it is set once per connection; behind a transaction pooler a
    connection is shared, so each transaction sets it for itself (`set_config(..., true)`).
    """
    if engine.dialect.name != "postgresql":
        return
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a setting name: {name!r}")
    settings = _PER_TRANSACTION.get(engine)
    if settings is not None:
        settings[name] = str(int(value))
        return

    def apply(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET {name} = {int(value)}")
        cursor.close()
        dbapi_connection.commit()

    event.listen(engine, "connect", apply)
    engine.dispose()  # connections made before this get it when they are made again


def _behind_pooler(parsed: URL) -> bool:
    """The URL's `pooler` option: absent (straight to the server) or "transaction"."""
    value = parsed.query.get(POOLER_OPTION)
    if value is None:
        return False
    if value != "transaction":
        raise DatabaseConfigError(
            f"The database URL says {POOLER_OPTION}={value}: the only pooler mode ILL Desk "
            f"knows is {POOLER_OPTION}=transaction (PgBouncer pool_mode = transaction). "
            "Leave the option out to connect to PostgreSQL directly."
        )
    return True


def create_database_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings each backend needs for many desks and safe writes."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            path = Path(database)
            if is_network_path(path):
                raise DatabaseConfigError(
                    f"The database file {path} is on a network share. SQLite cannot lock files "
                    "safely there and records would be corrupted. Keep the embedded database on "
                    "this PC's own disk, or point every desk at the shared PostgreSQL server."
                )
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                # Patron records: owner-only from the first byte (SQLite gives its -wal and
                # -shm files the same permissions as the database file).
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "isolation_level": None},
            **kwargs,
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        event.listen(engine, "handle_error", _unreachable_as_one_error)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        pooled = _behind_pooler(parsed)
        parsed = parsed.difference_update_query([POOLER_OPTION])
        connect_args: dict[str, Any] = {"connect_timeout": 5}
        if "application_name" not in parsed.query:
            connect_args["application_name"] = "illdesk"
        if pooled:
            # Statements are not prepared: a pooler hands each transaction whichever server
            # connection is free, where a statement prepared on another does not exist.
            connect_args["prepare_threshold"] = None
        else:
            connect_args["options"] = f"-c lock_timeout={POSTGRES_LOCK_TIMEOUT_MS}"
        kwargs.setdefault("pool_reset_on_return", None)  # `_reset_quietly` does it
        kwargs.setdefault("pool_size", DESK_CONNECTIONS)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_timeout", POOL_WAIT_SECONDS)
        kwargs.setdefault("pool_use_lifo", True)  # the spare connection goes idle and closes
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        _ping_connections_left_idle(engine)
        event.listen(engine, "handle_error", _unreachable_as_one_error)
        _reset_quietly(engine)
        _close_connections_left_idle(engine)
        if pooled:
            _PER_TRANSACTION[engine] = {"lock_timeout": str(POSTGRES_LOCK_TIMEOUT_MS)}
            _set_per_transaction(engine)
        return engine
    raise DatabaseConfigError(
        f"Unsupported database URL {parsed.render_as_string(hide_password=True)}: "
        "use sqlite:///path/to/file.db or postgresql://user@host/dbname."
    )


# The session of a unit of work open in this thread (or task), with its database.
_UNIT_OF_WORK: ContextVar[tuple[Database, Session] | None] = ContextVar(
    "illdesk_unit_of_work", default=None
)


class Database:
    """One engine and its session factory: the only door to the data."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or create_database_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(illdesk_read_only=True), expire_on_commit=False
        )

    @property
    def info(self) -> DatabaseInfo:
        parsed = self.engine.url
        if parsed.get_backend_name() == "sqlite":
            return DatabaseInfo("sqlite", parsed.database or ":memory:")
        host = parsed.host or "localhost"
        port = f":{parsed.port}" if parsed.port else ""
        return DatabaseInfo("postgresql", f"{host}{port}/{parsed.database}")

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def _joined(self) -> Session | None:
        current = _UNIT_OF_WORK.get()
        return current[1] if current is not None and current[0] is self else None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back on any exception.

        A connection to the server lost during COMMIT raises `CommitOutcomeUnknown` (the
        server may have committed); a failure before COMMIT was sent is raised as it is.
        Inside `unit_of_work()` it joins the caller's transaction instead, so several
        service calls that one message asks for commit or roll back together.
        """
        joined = self._joined()
        if joined is not None:
            yield joined
            return
        with self._sessions() as session:
            session.begin()
            try:
                yield session
                session.flush()
            except BaseException:
                try:
                    session.rollback()
                except DBAPIError:  # the connection died with the work: the first error counts
                    DISCARDED.add()
                raise
            try:
                session.commit()
            except DBAPIError as exc:
                if self.is_sqlite or not exc.connection_invalidated or exc.orig is None:
                    raise
                raise CommitOutcomeUnknown(
                    exc.statement, exc.params, exc.orig, connection_invalidated=True
                ) from exc

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction that every service call made inside the block joins."""
        if self._joined() is not None:
            raise RuntimeError("a unit of work is already open in this context")
        with self._sessions.begin() as session:
            token = _UNIT_OF_WORK.set((self, session))
            try:
                yield session
            finally:
                _UNIT_OF_WORK.reset(token)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session (no commit); inside a unit of work, that work's session."""
        joined = self._joined()
        if joined is not None:
            yield joined
            return
        with self._readers() as session:
            yield session

    def allow_connections(self, count: int) -> None:
        """A service answering `count` requests at once (the NCIP responder) may hold as many
        server connections; a desk keeps DESK_CONNECTIONS. Call it before any other setup
        of the engine: the engine is replaced."""
        size = getattr(self.engine.pool, "size", None)
        if self.is_sqlite or size is None or size() >= count:
            return
        old = self.engine
        self.engine = create_database_engine(self.url, pool_size=count)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(illdesk_read_only=True), expire_on_commit=False
        )
        old.dispose()

    def dispose(self) -> None:
        self.engine.dispose()
