"""The one error every layer above sees when the database cannot be reached.

Raised at the engine (`db.engine`), whatever the cause: a refused or dropped connection,
a server shutting down, an SQLite file that cannot be opened. It stays an
`OperationalError`, so code written against SQLAlchemy's own exceptions keeps working, but
nothing above `db/` needs to look inside one to tell "the database is away" from "another
desk holds this row": that is `is_lock_busy`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import OperationalError

# PostgreSQL SQLSTATEs: the connection itself failed or the server is going away.
_UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03")
# Another transaction holds what we need: a lock timeout or a deadlock, not an outage.
_LOCK_STATES = ("55P03", "40P01")
_SQLITE_UNREACHABLE = ("unable to open database file", "disk i/o error")


class DatabaseUnavailable(OperationalError):
    """The database cannot be reached; `message` says so in words staff can act on."""

    code = "database_unavailable"

    def __init__(
        self,
        message: str,
        *,
        orig: BaseException | None = None,
        statement: str | None = None,
        params: Any = None,
        connection_invalidated: bool = False,
    ) -> None:
        super().__init__(
            statement,
            params,
            orig if orig is not None else ConnectionError(message),
            connection_invalidated=connection_invalidated,
        )
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> Any:
        return (_rebuild, (self.message,))


def _rebuild(message: str) -> DatabaseUnavailable:
    return DatabaseUnavailable(message)


def reason_of(exc: BaseException | None) -> str:
    """The first line of what the driver said, for the message."""
    if exc is None:
        return "no answer"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_lock_busy(exc: BaseException) -> bool:
    """Another desk held the row (PostgreSQL's lock timeout, a deadlock, SQLite's busy)."""
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None) in _LOCK_STATES or "locked" in str(orig)


def is_unreachable(orig: BaseException, *, disconnect: bool, connecting: bool) -> bool:
    """Whether a driver error means the database is away (not a lock, not bad SQL)."""
    if is_lock_busy(orig):
        return False
    if disconnect:
        return True
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        return state.startswith(_UNREACHABLE_STATES[0]) or state in _UNREACHABLE_STATES[1:]
    if connecting:
        return type(orig).__name__ == "OperationalError"
    return str(orig).strip().lower().startswith(_SQLITE_UNREACHABLE)


def unavailable(
    orig: BaseException,
    *,
    statement: str | None = None,
    params: Any = None,
    invalidated: bool = False,
) -> DatabaseUnavailable:
    """The `DatabaseUnavailable` for a driver error, its message naming the reason.

    Only a COMMIT that was sent leaves the outcome open (`CommitOutcomeUnknown`); any other
    failed statement or connection changed nothing, and the message says so.
    """
    sent_commit = (statement or "").strip().upper().startswith("COMMIT")
    return DatabaseUnavailable(
        f"The database cannot be reached ({reason_of(orig)})"
        + ("" if sent_commit else ", so nothing was changed")
        + ". Check the network and that the database server is running, then try again.",
        orig=orig,
        statement=statement,
        params=params,
        connection_invalidated=invalidated,
    )
