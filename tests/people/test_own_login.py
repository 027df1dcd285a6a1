"""Signing in connects as the staff member, and the server checks the password.

This machine's PostgreSQL trusts every local connection, so it could never refuse a wrong
password: these tests start a server of their own (initdb into a temporary folder owned by
the `postgres` system user, scram-sha-256 for every TCP connection, a free port) and stop
it afterwards. The desk starts with only the sign-in role's password, as a desk PC does.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.demo import DEMO_PASSWORD, load_demo
from app.desk.checkin import Outcome, check_in
from app.library.actors import unattended
from app.library.clock import FixedClock
from app.library.errors import PermissionDenied
from app.library.runtime import Runtime
from app.people import staff_admin
from app.people.own_login import PASSWORD_NEEDED, sign_in_connected, sign_in_os_user_connected
from app.people.staff import WRONG_PASSWORD, actor_for, sign_in_facts
from db import roles, schema, server_functions
from db.engine import Database, create_database_engine

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DATABASE = "illdesk_scram"
SIGNIN_PASSWORD = "sign-in window only"
IN_TRANSIT_TO_SE = "ILL00000018"  # a demo item (tests/desk/test_checkin.py)


@dataclass(frozen=True)
class ScramServer:
    owner_url: str  # the superuser over the folder's socket (trusted: set-up only)
    signin_url: str  # what a desk PC holds before anyone signs in
    prefix: str


def _as_postgres(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def scram_server() -> Iterator[ScramServer]:
    folder = Path(tempfile.mkdtemp(prefix="illdesk-scram-"))
    postgres = pwd.getpwnam("postgres")
    os.chown(folder, postgres.pw_uid, postgres.pw_gid)
    data, port = folder / "data", _free_port()
    try:
        _as_postgres(
            str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--no-sync",
            "--auth-local=trust", "--auth-host=scram-sha-256",
        )  # fmt: skip
        rules = [
            line.split()
            for line in (data / "pg_hba.conf").read_text().splitlines()
            if line.startswith("host")
        ]
        assert rules and all(rule[-1] == "scram-sha-256" for rule in rules)
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        _as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w",
            "-o", options, "start",
        )  # fmt: skip
        server = f"postgresql+psycopg://postgres@/postgres?host={folder}&port={port}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {DATABASE}"))
        admin.dispose()
        owner_url = server.replace("/postgres?", f"/{DATABASE}?")
        engine = create_database_engine(owner_url)
        schema.upgrade(engine)
        with engine.begin() as conn:
            prefix = roles.install(conn).prefix
            conn.exec_driver_sql(f"ALTER ROLE {prefix}signin PASSWORD '{SIGNIN_PASSWORD}'")
        engine.dispose()
        signin_url = (
            f"postgresql+psycopg://{prefix}signin:{SIGNIN_PASSWORD.replace(' ', '%20')}"
            f"@127.0.0.1:{port}/{DATABASE}"
        )
        yield ScramServer(owner_url, signin_url, prefix)
    finally:
        if (data / "postmaster.pid").exists():
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def owner_rt(scram_server: ScramServer) -> Iterator[Runtime]:
    """The demo library, loaded afresh by the owner (the demo staff get their logins)."""
    rt = Runtime(Database(scram_server.owner_url), FixedClock())
    load_demo(rt, unattended("test setup"), reset=True)
    try:
        yield rt
    finally:
        rt.db.dispose()


@pytest.fixture
def desk_pc(scram_server: ScramServer, owner_rt: Runtime) -> Iterator[Runtime]:
    """A desk before sign-in: connected as the sign-in role, nothing more."""
    rt = Runtime(Database(scram_server.signin_url), owner_rt.clock)
    try:
        yield rt
    finally:
        rt.db.dispose()


def _failed_sign_ins(owner_rt: Runtime, username: str) -> int:
    with owner_rt.db.engine.connect() as conn:
        found = conn.execute(
            text("SELECT failed_sign_ins FROM staff WHERE username = :u"), {"u": username}
        ).scalar()
    return int(found or 0)


def test_the_sign_in_window_needs_only_the_sign_in_role(desk_pc: Runtime) -> None:
    facts = sign_in_facts(desk_pc)
    assert "METRO" in [b.code for b in facts.branches]
    assert facts.staff_count == 4


def test_a_wrong_password_is_refused_by_the_server_and_counted(
    desk_pc: Runtime, owner_rt: Runtime
) -> None:
    with pytest.raises(PermissionDenied, match="Wrong username or password"):
        sign_in_connected(desk_pc, "desk", "not the password", "METRO")
    assert _failed_sign_ins(owner_rt, "desk") == 1
    with pytest.raises(PermissionDenied) as refused:
        sign_in_connected(desk_pc, "nobody-here", DEMO_PASSWORD, "METRO")
    assert refused.value.message == WRONG_PASSWORD  # no hint that the account is unknown


def test_the_right_password_connects_as_that_staff_members_role(
    scram_server: ScramServer, desk_pc: Runtime, owner_rt: Runtime
) -> None:
    with pytest.raises(PermissionDenied):
        sign_in_connected(desk_pc, "desk", "not the password", "SE")
    signed = sign_in_connected(desk_pc, "Desk", DEMO_PASSWORD, "SE", "pc-12")
    try:
        assert signed.actor.username == "desk" and signed.rt is not desk_pc
        with signed.rt.db.engine.connect() as conn:
            who = conn.execute(text("SELECT session_user")).scalar()
            assert who == scram_server.prefix + "u_desk"
        assert _failed_sign_ins(owner_rt, "desk") == 0  # a success clears the count
        result = check_in(signed.rt, signed.actor, IN_TRANSIT_TO_SE)  # desk work, own grants
        assert result.outcome is Outcome.HOLD_SHELF
    finally:
        signed.rt.db.dispose()
    with owner_rt.db.engine.connect() as conn:
        who = conn.execute(
            text("SELECT DISTINCT username FROM audit_events WHERE action = 'check_in'")
        ).scalars()
        assert list(who) == ["desk"]


def test_repeated_wrong_passwords_lock_the_account(desk_pc: Runtime, owner_rt: Runtime) -> None:
    for _ in range(server_functions.MAX_FAILED_SIGN_INS):
        with pytest.raises(PermissionDenied, match="Wrong username"):
            sign_in_connected(desk_pc, "ctl", "guess", "METRO")
    with pytest.raises(PermissionDenied, match="locked for"):
        sign_in_connected(desk_pc, "ctl", DEMO_PASSWORD, "METRO")


def test_a_deactivated_account_cannot_connect(desk_pc: Runtime, owner_rt: Runtime) -> None:
    staff_admin.deactivate(owner_rt, actor_for(owner_rt, "admin", "NEC"), "office")
    with pytest.raises(PermissionDenied, match="deactivated"):
        sign_in_connected(desk_pc, "office", DEMO_PASSWORD, "WS-ILL")


def test_the_sign_in_role_itself_reads_no_patrons_and_writes_no_staff(
    scram_server: ScramServer, desk_pc: Runtime
) -> None:
    engine = create_engine(scram_server.signin_url)
    try:
        with engine.connect() as conn:
            for statement in ("SELECT * FROM patrons", "UPDATE staff SET failed_sign_ins = 0"):
                with pytest.raises(Exception, match="permission denied"):
                    conn.execute(text(statement))
                conn.rollback()
    finally:
        engine.dispose()


def test_a_computer_account_is_refused_where_the_server_asks_for_a_password(
    desk_pc: Runtime, owner_rt: Runtime
) -> None:
    """The desk never vouches for the computer's login: a server that checks passwords
    (no sspi or gss line for this PC) turns the computer-account sign-in away."""
    admin = actor_for(owner_rt, "admin", "NEC")
    staff_admin.map_os_user(owner_rt, admin, "desk", "LIBRARY\\pat")
    with pytest.raises(PermissionDenied) as refused:
        sign_in_os_user_connected(desk_pc, "LIBRARY\\pat", "METRO")
    assert refused.value.message == PASSWORD_NEEDED
    with pytest.raises(PermissionDenied, match="not mapped"):
        sign_in_os_user_connected(desk_pc, "LIBRARY\\nobody", "METRO")
