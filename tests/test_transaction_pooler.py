"""Behind PgBouncer in transaction mode (`?pooler=transaction`) nothing relies on session
state: settings are made per transaction, statements are never prepared, and the login
role (`session_user`) is still the staff member's."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.library.runtime import Runtime
from app.ncip.http_server import STATEMENT_TIMEOUT_MS, _limit_statement_time
from db.engine import (
    POSTGRES_LOCK_TIMEOUT_MS,
    Database,
    DatabaseConfigError,
    behind_transaction_pooler,
    create_database_engine,
)

pytestmark = pytest.mark.parametrize("backend", ["pgbouncer"], indirect=True)


def _plain_libpq(url: str) -> str:
    """The same address for psycopg itself: no SQLAlchemy driver name, no desk option."""
    parsed = make_url(url).difference_update_query(["pooler"])
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _setting(rt: Runtime, name: str) -> str:
    with rt.db.reading() as session:
        return str(session.execute(text(f"SHOW {name}")).scalar())


def test_the_lock_timeout_holds_in_every_transaction_and_never_leaks(rt: Runtime) -> None:
    assert behind_transaction_pooler(rt.db.engine)
    assert _setting(rt, "lock_timeout") == f"{POSTGRES_LOCK_TIMEOUT_MS // 1000}s"
    with rt.db.transaction() as session:
        assert session.execute(text("SHOW lock_timeout")).scalar() == "2s"
    # Another client of the same pooled server connection starts with the server's default.
    with psycopg.connect(_plain_libpq(rt.db.url), autocommit=True) as other:
        row = other.execute("SHOW lock_timeout").fetchone()
        assert row is not None and row[0] == "0"


def test_the_ncip_statement_limit_is_made_per_transaction(rt: Runtime) -> None:
    _limit_statement_time(rt)
    assert _setting(rt, "statement_timeout") == f"{STATEMENT_TIMEOUT_MS // 1000}s"
    assert _setting(rt, "lock_timeout") == "2s"


def test_no_statement_is_prepared_where_server_connections_are_shared(rt: Runtime) -> None:
    """PgBouncer before 1.21 cannot follow a prepared statement from one client to another:
    a desk that prepared its frequent queries would leave them on a server connection the
    next desk is then handed ("prepared statement already exists" / "does not exist")."""
    for _desk in range(3):  # one after another: each gets the server connection just freed
        database = Database(rt.db.url)
        try:
            for number in range(8):  # psycopg would prepare it at the sixth
                with database.transaction() as session:
                    session.execute(text("SELECT count(*) FROM staff WHERE id > :n"), {"n": number})
        finally:
            database.dispose()


def test_an_unknown_pooler_mode_is_refused_with_what_to_write(rt: Runtime) -> None:
    url = make_url(rt.db.url).update_query_dict({"pooler": "session"})
    with pytest.raises(DatabaseConfigError, match="pooler=transaction"):
        create_database_engine(url.render_as_string(hide_password=False))
