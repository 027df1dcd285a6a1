"""A desk's pooled connection that went stale while idle is replaced without an error."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from db import engine as engine_module
from db.engine import Database


def _kill_other_sessions(database: Database) -> None:
    with database.engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    killer = Database(database.url)
    with killer.engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()
    killer.dispose()


def test_an_idle_connection_killed_by_the_server_is_replaced_quietly(
    pg_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)
    database = Database(pg_database_url)
    try:
        _kill_other_sessions(database)  # the pooled connection dies while the desk is idle
        with database.reading() as session:
            assert session.execute(text("SELECT 1")).scalar() == 1
    finally:
        database.dispose()


def test_a_busy_desk_is_not_pinged_and_recovers_on_the_next_action(
    pg_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 3600.0)
    database = Database(pg_database_url)
    try:
        _kill_other_sessions(database)
        with (
            pytest.raises(OperationalError, match=r"terminat|closed|connection"),
            database.reading() as session,
        ):
            session.execute(text("SELECT 1"))
        with database.reading() as session:  # the failure invalidated the pool: reconnect
            assert session.execute(text("SELECT 1")).scalar() == 1
    finally:
        database.dispose()
