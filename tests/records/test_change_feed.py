"""The change feed every desk polls every 3 s: one statement, one index step, whatever the
number of desks or events; behind a pooler, through the sign-in role's shared pool."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text

from app.desk.checkin import check_in
from app.library.runtime import Runtime
from app.people.staff import actor_for
from app.records.change_feed import _NEWEST, ChangeFeed, feed_database
from db import roles
from db.engine import Database

ON_SERVERS = pytest.mark.parametrize("backend", ["postgresql", "pgbouncer"], indirect=True)


@ON_SERVERS
def test_a_poll_is_one_statement_in_autocommit(demo_rt: Runtime) -> None:
    sent: list[tuple[str, bool]] = []

    def seen(_conn: Any, cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append((statement, bool(cursor.connection.autocommit)))

    feed = ChangeFeed(demo_rt.db)
    feed.poll()  # the connection is open and pinged
    event.listen(demo_rt.db.engine, "before_cursor_execute", seen)
    try:
        assert feed.poll() is False
    finally:
        event.remove(demo_rt.db.engine, "before_cursor_execute", seen)
    assert len(sent) == 1 and sent[0][1] is True  # no BEGIN, no settings, no ROLLBACK
    assert "max(audit_events.id)" in sent[0][0]


@ON_SERVERS
def test_a_poll_reads_one_end_of_the_primary_key_index(demo_rt: Runtime) -> None:
    with demo_rt.db.engine.begin() as conn:  # a library's year of events, roughly
        conn.execute(
            text(
                "INSERT INTO audit_events (at, username, branch_code, workstation, action, "
                "entity, detail) SELECT now(), 'desk', 'METRO', 'pc', 'check_in', 'item', '' "
                "FROM generate_series(1, 50000)"
            )
        )
    with demo_rt.db.engine.connect() as conn:
        conn.execute(text("ANALYZE audit_events"))
        sql = str(_NEWEST.compile(conn))
        plan = conn.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")).scalar_one()
    nodes: list[dict[str, Any]] = []
    todo = [plan[0]["Plan"]]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo.extend(node.get("Plans", []))
    scans = [n for n in nodes if "Scan" in n["Node Type"]]
    assert [n["Node Type"] for n in scans] == ["Index Only Scan"]
    assert scans[0]["Scan Direction"] == "Backward"
    assert scans[0]["Actual Rows"] == 1  # one index entry read, not the table


@pytest.mark.parametrize("backend", ["pgbouncer"], indirect=True)
def test_behind_a_pooler_signed_in_desks_poll_through_the_sign_in_role(demo_rt: Runtime) -> None:
    with demo_rt.db.engine.connect() as conn:
        prefix = roles.current_prefix(conn)
    signin = Database(roles.login_url(demo_rt.db.url, prefix + roles.SIGNIN, None))
    own = Database(roles.login_url(demo_rt.db.url, roles.staff_role(prefix, "desk"), None))
    try:
        assert feed_database(signin, own) is signin
        feed = ChangeFeed(feed_database(signin, own))
        assert feed.poll() is False
        check_in(demo_rt, actor_for(demo_rt, "desk", "SE", "pc"), "ILL00000018")
        assert feed.poll() is True  # the sign-in role may read the newest event's number
    finally:
        signin.dispose()
        own.dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_straight_to_the_server_a_desk_polls_on_its_own_connections(demo_rt: Runtime) -> None:
    other = Database(demo_rt.db.url)
    try:
        assert feed_database(other, demo_rt.db) is demo_rt.db
    finally:
        other.dispose()
