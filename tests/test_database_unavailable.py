"""Every "the database cannot be reached" failure surfaces as one `DatabaseUnavailable`,
raised at the engine; a row held by another desk stays a lock error the services retry."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

import db.engine
from app.library import errors
from db.engine import Database
from db.errors import DatabaseUnavailable, is_lock_busy


def _closed_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_service_layer_sees_the_same_error_the_engine_raises() -> None:
    assert errors.DatabaseUnavailable is DatabaseUnavailable


def test_an_sqlite_file_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    folder = tmp_path / "illdesk.db"
    database = Database(f"sqlite:///{folder}")
    folder.unlink()
    folder.mkdir()  # the path is now a folder: SQLite cannot open it
    try:
        with (
            pytest.raises(DatabaseUnavailable, match="cannot be reached") as raised,
            database.reading() as session,
        ):
            session.execute(text("SELECT 1"))
        assert "unable to open database file" in str(raised.value)
        assert not is_lock_busy(raised.value)
    finally:
        database.dispose()


LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def test_an_sqlite_file_locked_by_another_program_is_busy_not_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db.engine, "SQLITE_BUSY_TIMEOUT_MS", 100)
    path = tmp_path / "illdesk.db"
    database = Database(f"sqlite:///{path}")
    with database.transaction() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        with (
            pytest.raises(OperationalError, match="locked") as raised,
            database.transaction() as session,
        ):
            session.execute(text("INSERT INTO t VALUES (1)"))
        assert not isinstance(raised.value, DatabaseUnavailable)
        assert is_lock_busy(raised.value)
    finally:
        assert locker.stdin is not None
        locker.stdin.write("\n")
        locker.stdin.close()
        locker.wait(10)
        database.dispose()


def test_a_refused_postgresql_connection_is_unavailable(pg_database_url: str) -> None:
    refused = make_url(pg_database_url).set(host="127.0.0.1", port=_closed_port())
    database = Database(refused.render_as_string(hide_password=False))
    try:
        with (
            pytest.raises(DatabaseUnavailable, match="cannot be reached") as raised,
            database.transaction() as session,
        ):
            session.execute(text("SELECT 1"))
        assert "Check the network" in raised.value.message
        assert raised.value.code == "database_unavailable"
    finally:
        database.dispose()


def test_a_postgresql_connection_dropped_mid_session_is_unavailable(
    pg_database_url: str,
) -> None:
    database = Database(pg_database_url)
    try:
        with database.reading() as session:
            mine = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin = Database(pg_database_url)
        with admin.engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": mine})
            conn.commit()
        admin.dispose()
        with pytest.raises(DatabaseUnavailable), database.reading() as session:
            session.execute(text("SELECT 1"))
        with database.reading() as session:  # the pool reconnects on the next action
            assert session.execute(text("SELECT 1")).scalar() == 1
    finally:
        database.dispose()
