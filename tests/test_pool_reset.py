"""A pooled connection that cannot be reset is discarded quietly and counted."""

from __future__ import annotations

import logging

import psycopg
import pytest
from sqlalchemy import text

import db.engine
from db.engine import DISCARDED, create_database_engine


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_connection_that_cannot_be_reset_is_discarded_without_a_traceback(
    database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_database_engine(database_url)
    try:
        raw = engine.raw_connection()
        raw.driver_connection.execute("SELECT 1")  # a transaction is open
        before = DISCARDED.count

        def busy(_self: object) -> None:
            raise psycopg.OperationalError("cannot exit pipeline mode while busy")

        with caplog.at_level(logging.DEBUG), monkeypatch.context() as patched:
            patched.setattr(psycopg.Connection, "rollback", busy)
            raw.close()  # back to the pool: the reset fails
        assert DISCARDED.count == before + 1
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
        with engine.connect() as conn:  # the pool opened a fresh one
            assert conn.execute(text("SELECT 2")).scalar() == 2
        assert db.engine.DISCARDED is DISCARDED
    finally:
        engine.dispose()
