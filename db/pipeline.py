"""PostgreSQL pipeline mode for a transaction that must cost two round trips.

`pipelined(session)` opens the transaction with a queued BEGIN (psycopg's own BEGIN would
cost a round trip of its own) and closes it with a queued COMMIT that goes with the writes
when the pipeline ends. Inside it, `rows(conn, statement, params)` runs a statement whose
rows are needed now: the queue so far (BEGIN included) goes in the same round trip.

A failed statement makes the server skip the rest of the batch, COMMIT included, so nothing
is half-written; the error comes back as the usual SQLAlchemy exception (`DatabaseUnavailable`
when the connection broke). On SQLite, on a libpq before 14, or inside a caller's
transaction, statements simply run one by one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db.engine import DISCARDED, CommitOutcomeUnknown
from db.errors import DatabaseUnavailable, is_unreachable, unavailable

if TYPE_CHECKING:
    import psycopg

_READING: dict[int, Any] = {}  # id(driver connection) -> its reading cursor factory


def _reading_cursor(pipeline: psycopg.Pipeline) -> Any:
    """A cursor factory whose statements are answered at once: BEGIN rides along."""
    import psycopg

    class ReadingCursor(psycopg.Cursor[Any]):
        def execute(self, *args: Any, **kwargs: Any) -> ReadingCursor:
            super().execute(*args, **kwargs)
            pipeline.sync()  # the SELECT's rows (and the lock) before SQLAlchemy reads them
            return self

    return ReadingCursor


@contextmanager
def pipelined(session: Session) -> Iterator[Connection]:
    """The session's connection; on PostgreSQL in pipeline mode, committed on leaving.

    The transaction is opened by a queued BEGIN statement (autocommit on for the while, so
    psycopg sends none) and closed by a queued COMMIT that goes with the writes.
    """
    conn = session.connection()
    driver = conn.connection.driver_connection
    if conn.dialect.name != "postgresql" or driver is None:
        yield conn
        return
    import psycopg

    if not isinstance(driver, psycopg.Connection) or not psycopg.Pipeline.is_supported():
        yield conn  # a libpq before 14 has no pipeline mode: one statement at a time
        return
    driver.autocommit = True
    failed = True
    commit_sent = False
    try:
        try:
            with driver.pipeline() as pipeline:
                conn.exec_driver_sql("BEGIN")
                _READING[id(driver)] = _reading_cursor(pipeline)
                try:
                    yield conn
                finally:
                    del _READING[id(driver)]
                try:
                    conn.exec_driver_sql("COMMIT")  # sent with the writes when the pipeline ends
                except DBAPIError as exc:
                    # The line broke, or the server went away (a FATAL such as an
                    # administrator's shutdown, read before psycopg saw the socket close),
                    # while the batch, COMMIT included, was on its way: the server may have
                    # committed. Only the scan's key can tell.
                    away = isinstance(exc, DatabaseUnavailable)
                    if exc.connection_invalidated or driver.broken or away:
                        raise CommitOutcomeUnknown("COMMIT", None, exc.orig or exc) from exc
                    raise
                commit_sent = True
        except psycopg.Error as exc:  # raised by the batch: SQLAlchemy has not seen it
            # No SQLSTATE: the client lost the connection ("cannot exit pipeline mode while
            # busy" after the server went away), as opposed to the server refusing a write.
            lost = driver.broken or getattr(exc, "sqlstate", None) is None
            if lost:
                conn.invalidate(exc)
                if commit_sent:  # the server may have committed before the line went
                    raise CommitOutcomeUnknown("COMMIT", None, exc) from exc
            if lost or is_unreachable(exc, disconnect=False, connecting=False):
                raise unavailable(exc, invalidated=lost) from exc
            raise DBAPIError.instance("COMMIT", None, exc, psycopg.Error) from exc
        failed = False
    finally:
        if not driver.closed:
            try:
                if failed and driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    driver.rollback()
                driver.autocommit = False
            except psycopg.Error as exc:  # died mid-pipeline: discard it, quietly, counted
                DISCARDED.add()
                conn.invalidate(exc)


def in_pipeline(conn: Connection) -> bool:
    """Whether statements on `conn` are queued (their row counts are not known yet)."""
    return id(conn.connection.driver_connection) in _READING


@contextmanager
def _reading(conn: Connection) -> Iterator[None]:
    """Inside a pipeline, statements whose rows are needed now (one round trip each)."""
    driver = conn.connection.driver_connection
    factory = _READING.get(id(driver))
    if factory is None:
        yield
        return
    previous = driver.cursor_factory  # type: ignore[union-attr]
    driver.cursor_factory = factory  # type: ignore[union-attr]
    try:
        yield
    finally:
        driver.cursor_factory = previous  # type: ignore[union-attr]


def rows(conn: Connection, statement: Any, params: dict[str, Any]) -> list[Row[Any]]:
    """Run `statement` and return its rows now, in or out of a pipeline."""
    with _reading(conn):
        return list(conn.execute(statement, params).all())
