"""Batch work at the database's speed, on both databases: matching, inserting, pacing.

`any_of`: batch jobs and lists match thousands of ids or codes at a time. An IN list of
thousands of parameters costs more to build than the statement takes to run, so the values
go as one parameter: an array on PostgreSQL (`column = ANY(:values)`), a JSON text read by
`json_each` on SQLite. `insert_rows`: COPY on PostgreSQL. `Pacing`: desks get their turn.
`plan_for_these_values`: a batch's statements planned for its own arrays.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from enum import Enum
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    String,
    Table,
    any_,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import NullType


class AnyOf(ColumnElement[bool]):
    """True where `column` equals one of `values` (compiled per database)."""

    inherit_cache = False  # the values are part of the element, not cacheable parameters
    type = NullType()  # type: ignore[assignment]  # no "= 1" added on SQLite

    def __init__(self, column: ColumnElement[Any], values: Sequence[Any]) -> None:
        self.column = column
        self.values = list(values)


def any_of(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    return AnyOf(column, values)


@compiles(AnyOf)
def _as_json_list(element: AnyOf, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite: the values as one JSON text, read back by `json_each` (one parameter too)."""
    values = bindparam(None, json.dumps(element.values), type_=String())
    listed: Any = select(literal_column("value")).select_from(func.json_each(values))
    return compiler.process(element.column.in_(listed.scalar_subquery()), **kw)


@compiles(AnyOf, "postgresql")
def _as_array(element: AnyOf, compiler: SQLCompiler, **kw: Any) -> str:
    array = bindparam(None, element.values, type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(array), **kw)


# SQLite has one write lock for the whole file. A desk waiting for it polls through SQLite's
# busy handler, every 100 ms once it has waited a while; a batch job that took the lock again
# straight after each commit could keep a desk out for seconds. Between two batches the job
# leaves the lock free a little longer than one poll.
SQLITE_DESK_WINDOW = 0.12
# How long one batch may hold SQLite's write lock: a desk that asks for it just after it was
# taken waits this long plus its poll, well inside the half second a scan may wait.
SQLITE_HOLD_TARGET = 0.3


class Pacing:
    """Spaces a batch job's write transactions so a waiting desk gets its turn (SQLite only).

    On SQLite it also sizes the batches: a batch that held the write lock for less than
    `SQLITE_HOLD_TARGET` lets the next one grow (at most doubling), a slower one shrinks it,
    so the job goes at the disk's pace without keeping a desk out longer than the target.
    """

    def __init__(self, sqlite: bool) -> None:
        self.window = SQLITE_DESK_WINDOW if sqlite else 0.0
        self._released: float | None = None
        self._taken: float | None = None
        self.held = 0.0  # seconds the last write transaction held the lock

    def wait_turn(self) -> None:
        """Before a write transaction: let the lock rest after the previous one, if needed."""
        if self._released is not None and self.window:
            remaining = self._released + self.window - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)
        self._taken = time.monotonic()

    def released(self) -> None:
        """After a write transaction ended (committed or not)."""
        self._released = time.monotonic()
        if self._taken is not None:
            self.held = self._released - self._taken
            self._taken = None

    def next_size(self, size: int, least: int, most: int) -> int:
        """How many rows the next batch takes, after one of `size` rows (SQLite only)."""
        if not self.window or self.held <= 0:
            return size
        fitted = int(size * SQLITE_HOLD_TARGET / self.held)
        return max(least, min(most, 2 * size, fitted))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many new rows in one go: COPY on PostgreSQL, one executemany on SQLite.

    Every row names the same columns, every column without a server default included (COPY
    knows nothing of the models' Python-side defaults). COPY goes through the session's own
    connection, so the rows are part of its transaction; a unique key already taken fails the
    whole batch, as an INSERT would (IntegrityError).
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    raw: Any = connection.connection.driver_connection
    names = ", ".join(f'"{name}"' for name in columns)
    try:
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_copy_value(row[name]) for name in columns])
    except raw.IntegrityError as exc:
        raise IntegrityError(f"COPY {table.name}", None, exc) from exc


def _copy_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def plan_for_these_values(session: Session) -> None:
    """PostgreSQL: plan the rest of this transaction's statements for the values they carry.

    A statement run again and again is prepared (psycopg, from its sixth run) and PostgreSQL
    may then settle on one generic plan for it, which cannot hash the array of an
    `= ANY(:values)`: each row of a scan is compared with thousands of values in turn. The
    privacy run's look-up of a batch's charges went from 30 ms to 100 ms from its eleventh
    batch on. Planning a batch's few statements afresh costs a fraction of a millisecond.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


__all__ = ["AnyOf", "Pacing", "any_of", "insert_rows", "plan_for_these_values"]
