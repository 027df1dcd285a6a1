"""PostgreSQL itself refuses what a role may not do, and writes who and when in the trail.

Each test signs in to the database as a real login role (the demo staff's, created by the
demo loader; this machine's server trusts local connections) and speaks plain SQL, as
anyone holding the desk's database address could: nothing here goes through the services.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import errors
from sqlalchemy.engine import make_url

from app.library.runtime import Runtime
from db import roles

ON_POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

FORBIDDEN = errors.InsufficientPrivilege


def _prefix(rt: Runtime) -> str:
    return roles.prefix_for(str(rt.db.engine.url.database))


@contextmanager
def signed_in_as(rt: Runtime, role: str) -> Iterator[psycopg.Connection]:
    """A plain psycopg connection logged in as `<prefix><role>`, committing each statement."""
    url = make_url(rt.db.url)
    with psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        dbname=url.database,
        user=_prefix(rt) + role,
        autocommit=True,
    ) as conn:
        yield conn


def _staff_role(name: str) -> str:
    return roles.STAFF_MARK + name


def _refused(conn: psycopg.Connection, statement: str) -> None:
    with pytest.raises(FORBIDDEN):
        conn.execute(statement)


AUDIT_ROW = (
    "INSERT INTO audit_events (at, staff_id, username, branch_code, workstation, action, "
    "entity, detail) VALUES ('2001-01-01', {staff}, 'admin', 'NEC', 'pc-7', 'forged', "
    "'staff', 'an event blamed on someone else')"
)


def _admin_id(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT id FROM staff WHERE username = 'admin'").fetchone()
    assert row is not None
    return int(row[0])


@ON_POSTGRESQL
def test_a_desk_login_does_circulation_and_nothing_it_must_not(demo_rt: Runtime) -> None:
    with signed_in_as(demo_rt, _staff_role("desk")) as desk:
        assert desk.execute("SELECT count(*) FROM items").fetchone() != (0,)
        desk.execute("UPDATE items SET note = 'shelved by hand' WHERE id = 1")
        desk.execute(
            "INSERT INTO not_found_scans (at, barcode, branch_id, review_note) "
            "VALUES (now(), '999', 1, '')"
        )
        _refused(desk, "UPDATE staff SET role = 'admin' WHERE username = 'desk'")
        _refused(desk, "DELETE FROM audit_events")
        _refused(desk, "UPDATE audit_events SET detail = ''")
        _refused(desk, "UPDATE charges SET amount = 0")
        _refused(
            desk,
            "INSERT INTO charges (patron_id, kind, amount, reason) VALUES (1, 'other', 1, 'x')",
        )
        _refused(desk, "UPDATE library_settings SET value = '\"x\"'")
        _refused(desk, "UPDATE ncip_partners SET active = true")
        _refused(desk, "UPDATE notice_templates SET body = ''")
        _refused(desk, "CREATE ROLE sneaky")


@pytest.mark.parametrize("who", ["ctl", "office"])
@ON_POSTGRESQL
def test_team_leads_and_the_office_cannot_touch_staff_settings_or_the_trail(
    demo_rt: Runtime, who: str
) -> None:
    with signed_in_as(demo_rt, _staff_role(who)) as conn:
        conn.execute("UPDATE loans SET adjustment_reason = adjustment_reason")  # desk's grants
        _refused(conn, "UPDATE staff SET full_name = 'x'")
        if who == "ctl":
            _refused(conn, "UPDATE library_settings SET value = '1'")
        else:  # the office sees only the notices run's bookkeeping row to write
            changed = conn.execute("UPDATE library_settings SET value = '1' WHERE key <> ALL(%s)",
                                   (list(roles.OFFICE_SETTINGS),))  # fmt: skip
            assert changed.rowcount == 0
            conn.execute(
                "INSERT INTO library_settings (key, value, updated_at) VALUES "
                "('notices_last_run', '\"2026-11-02\"', now()) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            )
        _refused(conn, "INSERT INTO library_settings (key, value) VALUES ('x', '1')")
        _refused(conn, "DELETE FROM audit_events")
        if who == "ctl":
            _refused(conn, "UPDATE charges SET amount = amount")
        else:
            conn.execute("UPDATE charges SET amount = amount")


@ON_POSTGRESQL
def test_administrators_change_settings_and_staff_but_never_the_trail(demo_rt: Runtime) -> None:
    with signed_in_as(demo_rt, _staff_role("admin")) as admin:
        admin.execute("UPDATE staff SET full_name = 'Dana D. Desk' WHERE username = 'desk'")
        admin.execute(
            "INSERT INTO library_settings (key, value, updated_at) VALUES "
            "('due_soon_days', '5', now()) ON CONFLICT (key) DO UPDATE SET value = '5'"
        )
        _refused(admin, "DELETE FROM audit_events")
        _refused(admin, "UPDATE audit_events SET username = 'nobody'")
        _refused(admin, "TRUNCATE audit_events")
        _refused(admin, "ALTER TABLE audit_events DISABLE TRIGGER ALL")


@ON_POSTGRESQL
def test_the_database_says_who_and_when_whatever_the_desk_sends(demo_rt: Runtime) -> None:
    with signed_in_as(demo_rt, _staff_role("desk")) as desk:
        admin_id = _admin_id(desk)
        server_now = desk.execute("SELECT now()").fetchone()
        desk.execute(AUDIT_ROW.format(staff=admin_id))
        row = desk.execute(
            "SELECT username, staff_id, at, workstation, branch_code FROM audit_events "
            "WHERE action = 'forged'"
        ).fetchone()
        desk_id = desk.execute("SELECT id FROM staff WHERE username = 'desk'").fetchone()
    assert row is not None and server_now is not None and desk_id is not None
    username, staff_id, at, workstation, branch = row
    assert (username, staff_id) == ("desk", desk_id[0])
    assert abs(at - server_now[0]) < timedelta(minutes=1)
    assert at > datetime(2020, 1, 1, tzinfo=UTC)
    assert (workstation, branch) == ("pc-7", "NEC")  # the desk's own context stands


@ON_POSTGRESQL
def test_the_owner_still_writes_events_as_given(demo_rt: Runtime) -> None:
    """The owner (the test suite's superuser) can change anything anyway; the set-up and
    the demo loader keep the names and times they give."""
    with demo_rt.db.engine.begin() as conn:
        conn.exec_driver_sql(AUDIT_ROW.format(staff="NULL"))
        row = conn.exec_driver_sql(
            "SELECT username, at FROM audit_events WHERE action = 'forged'"
        ).one()
    assert row.username == "admin"
    assert row.at.year == 2001


@ON_POSTGRESQL
def test_changes_to_the_tables_that_matter_record_themselves(demo_rt: Runtime) -> None:
    with signed_in_as(demo_rt, _staff_role("office")) as office:
        office.execute("UPDATE charges SET amount = amount + 1 WHERE id = 1")
        changed = office.execute(
            "SELECT username, entity, entity_id, before::text, after::text FROM audit_events "
            "WHERE action = 'db.charges.update'"
        ).fetchall()
        before, after = office.execute(
            "SELECT (before->>'amount')::numeric, (after->>'amount')::numeric FROM "
            "audit_events WHERE action = 'db.charges.update'"
        ).fetchone() or (None, None)
    assert [(r[0], r[1], r[2]) for r in changed] == [("office", "charges", 1)]
    assert after == before + 1
    with signed_in_as(demo_rt, _staff_role("admin")) as admin:
        admin.execute("UPDATE staff SET full_name = 'Dana D.', password_hash = 'x' WHERE id = 1")
        event = admin.execute(
            "SELECT username, before::text, after::text FROM audit_events "
            "WHERE action = 'db.staff.update'"
        ).fetchone()
    assert event is not None
    assert event[0] == "admin"
    assert "full_name" in event[2] and "password_hash" not in event[1] + event[2]


@ON_POSTGRESQL
def test_the_service_role_keeps_only_its_own_bookkeeping_in_the_settings(
    demo_rt: Runtime,
) -> None:
    with signed_in_as(demo_rt, roles.SERVICE) as service:
        service.execute(
            "INSERT INTO library_settings (key, value, updated_at) VALUES "
            "('notices_last_run', '\"2026-12-01\"', now()) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        with pytest.raises(errors.InsufficientPrivilege):  # row-level security
            service.execute(
                "INSERT INTO library_settings (key, value, updated_at) "
                "VALUES ('processing_fee', '\"0.00\"', now())"
            )
        others = service.execute(
            "UPDATE library_settings SET value = '\"x\"' WHERE key = 'demo_database'"
        )
        assert others.rowcount == 0  # a setting not its own is out of its reach
        service.execute("UPDATE loans SET adjustment_reason = adjustment_reason")
        _refused(service, "UPDATE staff SET active = false")
        _refused(service, "UPDATE charges SET amount = 0")
        _refused(service, "UPDATE notice_templates SET body = ''")
        _refused(service, "DELETE FROM audit_events")


@ON_POSTGRESQL
def test_the_sign_in_role_reads_only_what_the_sign_in_window_shows(demo_rt: Runtime) -> None:
    with signed_in_as(demo_rt, roles.SIGNIN) as signin:
        assert signin.execute("SELECT count(*) FROM branches").fetchone() != (0,)
        _refused(signin, "SELECT * FROM patrons")
        _refused(signin, "SELECT password_hash FROM staff")
        _refused(signin, "SELECT username, detail FROM audit_events")
        assert signin.execute("SELECT max(id) FROM audit_events").fetchone() is not None
        _refused(
            signin,
            "INSERT INTO audit_events (username, branch_code, action, entity) "
            "VALUES ('x', 'x', 'x', 'x')",
        )


def test_a_role_name_carries_its_databases_prefix() -> None:
    assert roles.prefix_for("illdesk") == "illdesk_"
    assert roles.prefix_for("ILL-Desk Live") == "ill_desk_live_"
    long_one = roles.prefix_for("illdesk_test_gw0_1a2b3c4d")
    other = roles.prefix_for("illdesk_test_gw0_99999999")
    assert len(long_one) == roles.MAX_PREFIX and long_one != other
    assert roles.staff_role("illdesk_", "dana") == "illdesk_u_dana"
    with pytest.raises(ValueError, match="at most 53 characters"):
        roles.staff_role("illdesk_", "x" * 54)


@ON_POSTGRESQL
@pytest.mark.parametrize("who", ["desk", "office"])
def test_only_administrators_read_password_hashes(demo_rt: Runtime, who: str) -> None:
    """A desk's credential cannot take every account's hash home to guess at."""
    with signed_in_as(demo_rt, _staff_role(who)) as conn:
        assert conn.execute("SELECT count(username) FROM staff").fetchone() == (4,)
        _refused(conn, "SELECT password_hash FROM staff")
        _refused(conn, "SELECT * FROM staff")
        own = conn.execute("SELECT illdesk_own_password_hash()").fetchone()
        assert own is not None and str(own[0]).startswith("$argon2")  # only one's own
    with signed_in_as(demo_rt, _staff_role("admin")) as admin:
        hashes = admin.execute("SELECT count(password_hash) FROM staff").fetchone()
        assert hashes == (4,)


@ON_POSTGRESQL
def test_a_desk_flags_a_missing_piece_and_only_the_office_clears_it(demo_rt: Runtime) -> None:
    flag = (
        "INSERT INTO missing_pieces (item_id, at, branch_id, note, clear_note) "
        "VALUES (1, now(), 1, 'the CD', '')"
    )
    clear = "UPDATE missing_pieces SET cleared_at = now(), clear_note = 'found'"
    with signed_in_as(demo_rt, _staff_role("desk")) as desk:
        desk.execute(flag)
        _refused(desk, clear)
        _refused(desk, "DELETE FROM missing_pieces")
        desk.execute("UPDATE items SET pieces = 2 WHERE id = 1")  # the items grant covers it
    with signed_in_as(demo_rt, _staff_role("office")) as office:
        assert office.execute(clear).rowcount == 1
        _refused(office, "DELETE FROM missing_pieces")


@ON_POSTGRESQL
def test_the_office_and_the_service_take_strap_serials(demo_rt: Runtime) -> None:
    for receiver in (_staff_role("office"), roles.SERVICE):
        with signed_in_as(demo_rt, receiver) as conn:
            taken = conn.execute("SELECT nextval('strap_serials')").fetchone()
            assert taken is not None and taken[0] >= 1
