"""The database's own failures, under the names the window and the command line catch.

`ui/` and `app/cli/` never import the database layer (`db`, SQLAlchemy): the services are
their only way to the data. A failure of the database itself (the server gone, a schema
from another version, a bad address) still reaches them as an exception, so this module
names those exceptions for them.
"""

from __future__ import annotations

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from db.engine import CommitOutcomeUnknown, DatabaseConfigError
from db.schema import SchemaMismatch

DatabaseError = SQLAlchemyError
"""Any failure reported by the database or its driver."""

DatabaseBusy = OperationalError
"""The database answered but another desk holds what is needed (a lock, a deadlock).

A database that cannot be reached raises `app.library.errors.DatabaseUnavailable`, a
subclass: catch that first.
"""

__all__ = [
    "CommitOutcomeUnknown",
    "DatabaseBusy",
    "DatabaseConfigError",
    "DatabaseError",
    "SchemaMismatch",
]
