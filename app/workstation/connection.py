"""Open the chosen database and make sure its schema fits this version of the code."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from app.library.errors import DatabaseUnavailable, InvalidInput
from app.library.runtime import Runtime
from app.workstation import config
from app.workstation.secrets import with_database_password
from db import roles, schema
from db.engine import Database


def open_database(url: str, *, upgrade_embedded: bool = True) -> Database:
    """An SQLite file is upgraded in place; a shared server only by `illdesk db upgrade`."""
    full_url = with_database_password(url)
    database = Database(full_url)
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


def open_runtime(db_url: str | None) -> tuple[Runtime, config.WorkstationSettings]:
    """The desk's start: its settings and its database (`--db`, else the environment, the
    settings file, the embedded file), opened as `open_database` does.

    Raises ServiceError, SchemaMismatch, DatabaseConfigError or a database error.
    """
    settings = config.load_settings()
    choice = config.choose_database(db_url, settings)
    return Runtime(open_database(choice.url)), settings


def connect(url: str) -> Database:
    """The database at `url` with its schema unchecked, for commands that look at the schema."""
    return Database(url)


def ping(database: Database) -> None:
    """The cheapest round trip that proves the database answers; raises when it does not."""
    # Read-only: on SQLite this begins a plain (not IMMEDIATE) transaction, no write lock.
    engine = database.engine.execution_options(illdesk_read_only=True)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


@dataclass(frozen=True)
class SchemaVersion:
    """Which schema a database has, and which this version of ILL Desk needs."""

    database: str  # the database's label, without the password
    current: str | None  # None: an empty database
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def schema_version(url: str) -> SchemaVersion:
    """`illdesk db current`: read the schema version, change nothing."""
    database = connect(url)
    try:
        return SchemaVersion(
            database.info.label, schema.current_revision(database.engine), schema.head_revision()
        )
    finally:
        database.dispose()


def upgrade_schema(url: str) -> tuple[SchemaVersion, str | None]:
    """`illdesk db upgrade`, an administrator's step: the version after, and the one before."""
    database = connect(url)
    try:
        before = schema.current_revision(database.engine)
        schema.upgrade(database.engine)
        after = SchemaVersion(
            database.info.label, schema.current_revision(database.engine), schema.head_revision()
        )
        return after, before
    finally:
        database.dispose()


@dataclass(frozen=True)
class RolesSetUp:
    """`illdesk db roles`: the database, its role-name prefix and the roles it now has."""

    database: str
    prefix: str
    roles: tuple[str, ...]


def install_roles(url: str) -> RolesSetUp:
    """`illdesk db roles`, run by the database owner once and after each upgrade: the
    PostgreSQL roles, grants and audit triggers (db/roles.py, db/server_functions.py).
    SQLite has no roles."""
    database = connect(url)
    try:
        if database.is_sqlite:
            raise InvalidInput(
                "An embedded SQLite database has no roles: the computer account owning the "
                "file is the boundary. `illdesk db roles` is for a shared PostgreSQL database."
            )
        with database.engine.begin() as conn:
            report = roles.install(conn)
        return RolesSetUp(database.info.label, report.prefix, report.roles)
    finally:
        database.dispose()


def _first_line(exc: DatabaseUnavailable) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
