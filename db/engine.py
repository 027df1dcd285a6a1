"""Engines and transactions for the embedded SQLite file or the shared PostgreSQL server."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db.errors import DatabaseUnavailable, is_unreachable, unavailable

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_LOCK_TIMEOUT_MS = 2000
IDLE_PING_SECONDS = 30.0
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
        connect_args = {
            "connect_timeout": 5,
            "options": f"-c lock_timeout={POSTGRES_LOCK_TIMEOUT_MS}",
            "application_name": "illdesk",
        }
        kwargs.setdefault("pool_reset_on_return", None)  # `_reset_quietly` does it
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        _ping_connections_left_idle(engine)
        event.listen(engine, "handle_error", _unreachable_as_one_error)
        _reset_quietly(engine)
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

    def dispose(self) -> None:
        self.engine.dispose()
