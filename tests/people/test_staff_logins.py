"""Staff administration keeps each account's PostgreSQL login role in step with it.

On PostgreSQL the account `dana` is the login role `<prefix>u_dana`, in the group of its
role, with a SCRAM verifier computed on the administrator's PC; SQLite has no roles.
"""

from __future__ import annotations

import io
import json

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.cli.main import parse, run
from app.demo import DEMO_PASSWORD
from app.library.errors import PermissionDenied
from app.library.runtime import Runtime
from app.people import staff_admin
from app.people.own_login import sign_in_connected, sign_in_os_user_connected, unlock_connected
from app.people.staff import WRONG_PASSWORD, add_staff
from db import roles
from db.engine import Database
from db.models import Role
from tests.signed_in import as_admin

ON_POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql", "pgbouncer"], indirect=True)
PASSWORD = "correct horse battery"


def _prefix(rt: Runtime) -> str:
    return roles.prefix_for(str(rt.db.engine.url.database))


def _login(rt: Runtime, username: str) -> dict[str, object]:
    """What the server knows of the account's login role (read as the owner)."""
    name = _prefix(rt) + roles.STAFF_MARK + username
    with rt.db.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT rolcanlogin, rolcreaterole, rolpassword FROM pg_authid WHERE rolname = :r"
            ),
            {"r": name},
        ).one_or_none()
        groups = conn.execute(
            text(
                "SELECT g.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
                "JOIN pg_roles m ON m.oid = a.member WHERE m.rolname = :r"
            ),
            {"r": name},
        ).scalars()
        found = sorted(g.removeprefix(_prefix(rt)) for g in groups)
    if row is None:
        return {}
    return {
        "login": row[0],
        "createrole": row[1],
        "password": row[2] or "",
        "groups": found,
    }


def _connect_as(rt: Runtime, username: str) -> psycopg.Connection:
    url = make_url(rt.db.url)
    return psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        dbname=url.database,
        user=_prefix(rt) + roles.STAFF_MARK + username,
        autocommit=True,
    )


@ON_POSTGRESQL
def test_adding_staff_creates_a_login_role_in_its_group(demo_rt: Runtime) -> None:
    admin = as_admin(demo_rt)
    staff_admin.create_staff(demo_rt, admin, "Sam.Shelver", "Sam Shelver", Role.DESK, PASSWORD)
    login = _login(demo_rt, "sam.shelver")
    assert login["login"] is True and login["createrole"] is False
    assert login["groups"] == ["desk"]
    verifier = str(login["password"])
    assert verifier.startswith("SCRAM-SHA-256$4096:") and PASSWORD not in verifier
    with _connect_as(demo_rt, "sam.shelver") as conn:
        assert conn.execute("SELECT session_user").fetchone() == (
            _prefix(demo_rt) + "u_sam.shelver",
        )


@ON_POSTGRESQL
def test_a_role_change_moves_the_login_between_groups(demo_rt: Runtime) -> None:
    admin = as_admin(demo_rt)
    staff_admin.set_role(demo_rt, admin, "desk", Role.ADMIN)
    assert _login(demo_rt, "desk")["groups"] == ["admin"]
    assert _login(demo_rt, "desk")["createrole"] is True
    staff_admin.set_role(demo_rt, admin, "desk", Role.ILL_OFFICE)
    assert _login(demo_rt, "desk")["groups"] == ["office"]
    assert _login(demo_rt, "desk")["createrole"] is False
    with _connect_as(demo_rt, "desk") as conn:
        conn.execute("UPDATE charges SET amount = amount")  # an office grant, now held


@ON_POSTGRESQL
def test_reset_password_deactivate_and_reactivate_reach_the_server(demo_rt: Runtime) -> None:
    admin = as_admin(demo_rt)
    before = _login(demo_rt, "ctl")["password"]
    staff_admin.reset_password(demo_rt, admin, "ctl", PASSWORD)
    assert _login(demo_rt, "ctl")["password"] not in ("", before)
    staff_admin.deactivate(demo_rt, admin, "ctl")
    assert _login(demo_rt, "ctl")["login"] is False
    # PostgreSQL says so; PgBouncer, whose auth_query sees only roles that may log in,
    # answers as for an unknown user.
    with pytest.raises(psycopg.OperationalError, match=r"not permitted to log in|no such user"):
        _connect_as(demo_rt, "ctl").close()
    staff_admin.reactivate(demo_rt, admin, "ctl")
    assert _login(demo_rt, "ctl")["login"] is True
    _connect_as(demo_rt, "ctl").close()


@ON_POSTGRESQL
def test_an_administrator_connected_as_themself_manages_staff(demo_rt: Runtime) -> None:
    """CREATEROLE and the table grants are enough: no desk holds a stronger credential."""
    url = make_url(demo_rt.db.url).set(username=_prefix(demo_rt) + "u_admin")
    own = Runtime(Database(url.render_as_string(hide_password=False)), demo_rt.clock)
    try:
        admin = as_admin(own)
        staff_admin.create_staff(own, admin, "newbie", "New Person", Role.CTL, PASSWORD)
        staff_admin.set_role(own, admin, "newbie", Role.DESK)
        staff_admin.reset_password(own, admin, "newbie", PASSWORD + "!")
        staff_admin.deactivate(own, admin, "newbie")
    finally:
        own.db.dispose()
    login = _login(demo_rt, "newbie")
    assert login["groups"] == ["desk"] and login["login"] is False
    with demo_rt.db.engine.connect() as conn:
        who = conn.execute(
            text("SELECT DISTINCT username FROM audit_events WHERE action LIKE 'staff.%'")
        ).scalars()
        assert set(who) == {"admin"}


@ON_POSTGRESQL
def test_a_desk_login_cannot_create_or_alter_roles(demo_rt: Runtime) -> None:
    with _connect_as(demo_rt, "desk") as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f'ALTER ROLE "{_prefix(demo_rt)}u_desk" CREATEROLE')
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f'GRANT "{_prefix(demo_rt)}admin" TO "{_prefix(demo_rt)}u_desk"')


@ON_POSTGRESQL
def test_logins_are_brought_up_to_date_when_they_exist_already(demo_rt: Runtime) -> None:
    """The demo loader and the tests re-create staff whose roles the server kept."""
    with demo_rt.db.engine.begin() as conn:
        conn.exec_driver_sql(f'GRANT "{_prefix(demo_rt)}admin" TO "{_prefix(demo_rt)}u_desk"')
        for _ in range(2):
            roles.sync_staff_login(conn, "desk", Role.DESK, active=True, password=PASSWORD)
    assert _login(demo_rt, "desk")["groups"] == ["desk"]


@ON_POSTGRESQL
def test_a_username_too_long_for_a_role_name_is_refused_clearly(demo_rt: Runtime) -> None:
    from app.library.errors import InvalidInput

    room = 63 - len(_prefix(demo_rt) + roles.STAFF_MARK)
    with pytest.raises(InvalidInput, match=f"at most {room} characters"):
        add_staff(demo_rt, as_admin(demo_rt), "x" * (room + 1), "Long Name", Role.DESK, PASSWORD)


def test_sqlite_staff_have_no_roles_and_db_roles_says_why(database_url: str, rt: Runtime) -> None:
    add_staff(rt, None, "dana", "Dana", Role.ADMIN, PASSWORD)  # the first administrator
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(["--db", database_url, "db", "roles", "--json"]), out, err)
    if rt.db.is_sqlite:
        assert code != 0 and "no roles" in err.getvalue()
        return
    assert code == 0
    report = json.loads(out.getvalue().splitlines()[0])
    assert report["prefix"] == _prefix(rt)
    assert report["roles"][0] == _prefix(rt) + "desk"
    assert _login(rt, "dana")["groups"] == ["admin"]  # `db roles` again: staff keep theirs


def _failed_sign_ins(rt: Runtime, username: str) -> int:
    with rt.db.engine.connect() as conn:
        found = conn.execute(
            text("SELECT failed_sign_ins FROM staff WHERE username = :u"), {"u": username}
        ).scalar()
    return int(found or 0)


@ON_POSTGRESQL
def test_a_wrong_password_is_refused_even_where_the_server_trusts_the_desk(
    demo_rt: Runtime,
) -> None:
    """This machine's server lets every local connection in: the account's own password is
    still checked, and a wrong one counted, so a careless pg_hba.conf opens nothing."""
    with pytest.raises(PermissionDenied) as refused:
        sign_in_connected(demo_rt, "desk", "not the password", "METRO")
    assert refused.value.message == WRONG_PASSWORD
    assert _failed_sign_ins(demo_rt, "desk") == 1
    signed = sign_in_connected(demo_rt, "desk", DEMO_PASSWORD, "METRO")
    try:
        with signed.rt.db.engine.connect() as conn:
            assert conn.execute(text("SELECT session_user")).scalar() == (
                _prefix(demo_rt) + roles.STAFF_MARK + "desk"
            )
    finally:
        signed.rt.db.dispose()
    assert _failed_sign_ins(demo_rt, "desk") == 0


@ON_POSTGRESQL
def test_a_computer_account_connects_as_its_mapped_staff_role_when_the_server_lets_it(
    demo_rt: Runtime,
) -> None:
    staff_admin.map_os_user(demo_rt, as_admin(demo_rt), "ctl", "LIBRARY\\pat")
    with pytest.raises(PermissionDenied, match="not mapped"):
        sign_in_os_user_connected(demo_rt, "LIBRARY\\someone", "METRO")
    signed = sign_in_os_user_connected(demo_rt, "LIBRARY\\pat", "METRO", "pc-7")
    try:
        assert signed.actor.username == "ctl"
        with signed.rt.db.engine.connect() as conn:
            assert conn.execute(text("SELECT session_user")).scalar() == (
                _prefix(demo_rt) + roles.STAFF_MARK + "ctl"
            )
    finally:
        signed.rt.db.dispose()


@ON_POSTGRESQL
def test_a_command_runs_connected_as_the_staff_member_who_signed_in(
    demo_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line signs in as the window does: after --staff is authenticated, the
    command's work runs under that person's own role (here, a desk may not add staff even
    through a database URL that could)."""
    monkeypatch.setenv("ILLDESK_PASSWORD", DEMO_PASSWORD)
    out, err = io.StringIO(), io.StringIO()
    argv = ["--db", demo_rt.db.url, "checkin", "ILL00000018", "--staff", "desk", "--branch", "SE"]
    args = parse(argv)
    assert run(args, out=out, err=err) == 0, err.getvalue()
    with demo_rt.db.engine.connect() as conn:
        who = conn.execute(
            text(
                "SELECT username FROM audit_events WHERE action = 'check_in' "
                "ORDER BY id DESC LIMIT 1"
            )
        ).scalar()
        signed_in = conn.execute(
            text("SELECT username, detail FROM audit_events WHERE action = 'staff.sign_in'")
        ).all()
    assert who == "desk"
    assert [tuple(row) for row in signed_in] == [("desk", "connected as its own database role")]


@ON_POSTGRESQL
def test_the_idle_lock_unlocks_over_the_staff_members_own_connection(demo_rt: Runtime) -> None:
    """After the idle lock the desk, connected as the staff member, checks their password
    and counts a wrong one, though its role may neither read hashes nor write staff."""
    signed = sign_in_connected(demo_rt, "desk", DEMO_PASSWORD, "METRO", "pc-3")
    try:
        with pytest.raises(PermissionDenied, match="Wrong password"):
            unlock_connected(signed.rt, signed.actor, "not it")
        assert _failed_sign_ins(demo_rt, "desk") == 1
        again = unlock_connected(signed.rt, signed.actor, DEMO_PASSWORD)
        assert (again.username, again.branch_code) == ("desk", "METRO")
        assert _failed_sign_ins(demo_rt, "desk") == 0
    finally:
        signed.rt.db.dispose()
