"""Faults under a desk action: each fails cleanly, writes nothing half, and the desk recovers.

- PostgreSQL: the server kills the desk's connection between two statements of a check-in,
  and again after its writes but before COMMIT (pg_terminate_backend from another session).
- SQLite: another process holds the database file locked beyond the busy timeout.
- SQLite: the disk is full (PRAGMA max_page_count caps the file at its current size).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import OperationalError

import db.engine
from app.cli.main import main
from app.desk.checkin import check_in
from app.desk.routing import Outcome
from app.library.actors import Actor
from app.library.errors import DatabaseUnavailable
from app.library.runtime import Runtime
from db.engine import Database
from db.models import AuditEvent, HoldShelfEntry, Item, Transit

ActorAt = Callable[[str, str], Actor]
IN_TRANSIT_TO_SE = "ILL00000018"


def snapshot(rt: Runtime) -> dict[str, Any]:
    """What a half-written check-in would change."""
    with rt.db.reading() as session:
        return {
            "status": session.scalar(select(Item.status).where(Item.barcode == IN_TRANSIT_TO_SE)),
            "audit": session.scalar(select(func.count()).select_from(AuditEvent)),
            "holds": session.scalar(select(func.count()).select_from(HoldShelfEntry)),
            "open_transits": session.scalar(
                select(func.count()).select_from(Transit).where(Transit.received_at.is_(None))
            ),
        }


@contextmanager
def killed_after(rt: Runtime, admin_url: str, pattern: str) -> Iterator[list[int]]:
    """Terminate the desk's server session right after its first statement matching `pattern`."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    killed: list[int] = []
    matcher = re.compile(pattern, re.IGNORECASE | re.DOTALL)
    me = threading.current_thread()

    def kill(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if killed or threading.current_thread() is not me or not matcher.search(statement):
            return
        pid = cursor.connection.info.backend_pid
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killed.append(pid)

    event.listen(rt.db.engine, "after_cursor_execute", kill)
    try:
        yield killed
    finally:
        event.remove(rt.db.engine, "after_cursor_execute", kill)
        admin.dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize(
    "moment",
    [r"FOR UPDATE", r"INSERT INTO audit_events"],
    ids=["between_statements", "before_commit"],
)
def test_connection_killed_mid_check_in(
    demo_rt: Runtime, database_url: str, actor_at: ActorAt, moment: str
) -> None:
    desk = actor_at("desk", "SE")
    before = snapshot(demo_rt)
    # Killed before COMMIT: either the error itself, or (when COMMIT was already queued in
    # the batch) the lookup of the scan's key proved nothing was saved.
    with (
        killed_after(demo_rt, database_url, moment) as killed,
        pytest.raises((OperationalError, DatabaseUnavailable)) as raised,
    ):
        check_in(demo_rt, desk, IN_TRANSIT_TO_SE)
    if isinstance(raised.value, DatabaseUnavailable):
        assert "nothing was changed" in raised.value.message
    assert killed, "the fault was never injected"
    assert snapshot(demo_rt) == before  # nothing half-written
    result = check_in(demo_rt, desk, IN_TRANSIT_TO_SE)  # the fault is over: works again
    assert result.outcome is Outcome.HOLD_SHELF


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_server_gone_as_the_commit_leaves_is_answered_by_the_scans_key(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    """The server's farewell (an administrator's shutdown) read as COMMIT is queued, before
    the driver has seen the socket close: the outcome is open until the key is looked up."""
    desk = actor_at("desk", "SE")
    before = snapshot(demo_rt)

    def farewell(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.strip().upper() == "COMMIT":
            raise psycopg.errors.AdminShutdown(
                "terminating connection due to administrator command"
            )

    event.listen(demo_rt.db.engine, "before_cursor_execute", farewell)
    try:
        with pytest.raises(DatabaseUnavailable) as raised:
            check_in(demo_rt, desk, IN_TRANSIT_TO_SE)
    finally:
        event.remove(demo_rt.db.engine, "before_cursor_execute", farewell)
    assert "nothing was changed" in raised.value.message  # the key was not in the database
    assert snapshot(demo_rt) == before
    assert check_in(demo_rt, desk, IN_TRANSIT_TO_SE).outcome is Outcome.HOLD_SHELF


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_cli_names_a_database_it_cannot_reach_and_exits_3(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_url = database_url.rsplit("/", 1)[0] + "/illdesk_no_such_database"
    code = main(["--db", bad_url, "checkin", "--branch", "SE", "--staff", "desk", "X1"])
    err = capsys.readouterr().err
    assert code == 3
    assert "illdesk_no_such_database" in err or "cannot be reached" in err
    assert "Traceback" not in err


LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_locked_by_another_process(
    demo_rt: Runtime,
    database_url: str,
    actor_at: ActorAt,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    desk = actor_at("desk", "SE")
    monkeypatch.setattr(db.engine, "SQLITE_BUSY_TIMEOUT_MS", 150)
    short = Runtime(Database(database_url), demo_rt.clock)
    path = database_url.removeprefix("sqlite:///")
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        before = snapshot(demo_rt)
        with pytest.raises(OperationalError, match="locked"):
            check_in(short, desk, IN_TRANSIT_TO_SE)
        code = main(["--db", database_url, "checkin", "--branch", "SE", "--staff", "desk", "X"])
        err = capsys.readouterr().err
        assert code == 3 and "database is locked" in err and "try again" in err
        assert "Traceback" not in err
    finally:
        assert locker.stdin is not None
        locker.stdin.write("\n")
        locker.stdin.close()
        locker.wait(10)
    assert snapshot(demo_rt) == before
    assert check_in(short, desk, IN_TRANSIT_TO_SE).outcome is Outcome.HOLD_SHELF
    short.db.dispose()


OWNED_METRO = "31234000000001"


def item_state(rt: Runtime, barcode: str) -> tuple[Any, ...]:
    with rt.db.reading() as session:
        item = session.scalar(select(Item).where(Item.barcode == barcode))
        assert item is not None
        transits = session.scalar(
            select(func.count()).select_from(Transit).where(Transit.item_id == item.id)
        )
        audit = session.scalar(select(func.count()).select_from(AuditEvent))
        return item.status, item.current_branch_id, item.version, transits, audit


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_disk_full(demo_rt: Runtime, database_url: str, actor_at: ActorAt) -> None:
    """An owned item goes back and forth between two desks until the file may not grow."""
    desks = (actor_at("desk", "SE"), actor_at("desk", "METRO"))
    full = Database(database_url)

    def cap(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    event.listen(full.engine, "connect", cap)
    disk_full = Runtime(full, demo_rt.clock)
    failure: OperationalError | None = None
    for n in range(3000):
        before = item_state(demo_rt, OWNED_METRO)
        try:
            check_in(disk_full, desks[n % 2], OWNED_METRO)
        except OperationalError as exc:
            failure = exc
            break
    full.dispose()
    assert failure is not None, "the database never filled up"
    assert "full" in str(failure.orig)
    assert item_state(demo_rt, OWNED_METRO) == before  # the failed check-in left nothing

    roomy = Runtime(Database(database_url), demo_rt.clock)  # space again: works
    result = check_in(roomy, desks[n % 2], OWNED_METRO)
    assert result.outcome in (Outcome.TRANSIT, Outcome.RESHELVE) and result.changed
    assert item_state(demo_rt, OWNED_METRO) != before
    roomy.db.dispose()
