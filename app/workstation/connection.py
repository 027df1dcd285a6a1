"""Open the chosen database and make sure its schema fits this version of the code."""

from __future__ import annotations

from app.library.errors import DatabaseUnavailable
from app.workstation.secrets import with_database_password
from db import schema
from db.engine import Database


def open_database(url: str, *, upgrade_embedded: bool = True) -> Database:
    """An SQLite file is upgraded in place; a shared server only by `illdesk db upgrade`."""
    database = Database(with_database_password(url))
    try:
        if database.is_sqlite and upgrade_embedded:
            current = schema.current_revision(database.engine)
            if current is not None and not schema.is_known_revision(current):
                schema.ensure_current(database.engine)  # raises: made by a newer version
            if current != schema.head_revision():  # the usual start costs no migration run
                schema.upgrade(database.engine)
        else:
            schema.ensure_current(database.engine)
    except DatabaseUnavailable as exc:
        database.dispose()
        raise DatabaseUnavailable(
            f"Cannot reach the database at {database.info.location}: {_first_line(exc)}. "
            "Check the network and that the database server is running, then try again."
        ) from exc
    except Exception:
        database.dispose()
        raise
    return database


def _first_line(exc: DatabaseUnavailable) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
