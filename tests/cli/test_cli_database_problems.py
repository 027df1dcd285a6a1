"""A local database file's trouble is named as what it is, not as a network problem."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from app.cli.main import database_problem
from db.engine import CommitOutcomeUnknown


def sqlite_failure(tmp_path: Path, fault: Callable[[Path], None]) -> OperationalError:
    path = tmp_path / "desk.db"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (x TEXT)")
    setup.commit()
    setup.close()
    try:
        fault(path)
    except sqlite3.OperationalError as exc:
        return OperationalError("INSERT INTO t VALUES (?)", None, exc)
    raise AssertionError("the fault was never injected")


def locked(path: Path) -> None:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        sqlite3.connect(path, timeout=0.05).execute("INSERT INTO t VALUES ('x')")
    finally:
        holder.execute("ROLLBACK")


def full(path: Path) -> None:
    conn = sqlite3.connect(path)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    for _ in range(1000):
        conn.execute("INSERT INTO t VALUES (?)", ("x" * 4000,))


def read_only(path: Path) -> None:
    sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("INSERT INTO t VALUES ('x')")


@pytest.mark.parametrize(
    ("fault", "words"),
    [(locked, "in use by another program"), (full, "disk"), (read_only, "read-only")],
    ids=["locked", "full", "read_only"],
)
def test_sqlite_trouble_is_named_without_blaming_the_network(
    tmp_path: Path, fault: Callable[[Path], None], words: str
) -> None:
    message = database_problem(sqlite_failure(tmp_path, fault))
    assert words in message
    assert "network" not in message and "try again" in message


def test_a_lost_commit_reply_is_never_nothing_changed() -> None:
    lost = CommitOutcomeUnknown("COMMIT", None, Exception("server closed the connection"))
    message = database_problem(lost)
    assert "Not sure" in message and "nothing was changed" not in message.lower()
