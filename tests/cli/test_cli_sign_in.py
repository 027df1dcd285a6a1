"""Every command that acts or shows patron data signs `--staff` in with their password.

The password comes from ILLDESK_PASSWORD, else the keyring entry "staff:<username>", else a
prompt on a terminal. Without one, with a wrong one, or with someone else's, the command
is refused (exit 1) before it does anything; a wrong password counts towards the lockout
and is audited like a failed sign-in at the window.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.cli.main import build_parser, parse, run
from app.cli.staff_password import PASSWORD_ENV
from app.demo import DEMO_PASSWORD
from app.library.runtime import Runtime
from app.people.staff import MAX_FAILED_SIGN_INS, add_staff
from db.models import AuditEvent, Role, Staff
from tests.cli.conftest import MemoryKeyring
from tests.signed_in import as_admin

OTHER_PASSWORD = "someone-else's-1"

# Commands that need no staff: they show nothing personal and change no library data.
# `demo` and `staff add` need none only on a database without staff (tested below). The
# `db` commands are IT's, run with the database owner's own credentials, which the server
# checks: a staff password would add nothing.
PUBLIC = {
    ("db", "upgrade"),
    ("db", "current"),
    ("db", "roles"),
    ("branches",),
    ("closures", "list"),
    ("keyring", "database"),
    ("keyring", "smtp"),
    ("keyring", "staff"),
    ("offline", "status"),
    ("ncip", "serve"),
    ("demo",),
    ("staff", "add"),
}


def cli(*argv: str) -> tuple[int, list[dict[str, object]], str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(list(argv)), out, err)
    text = out.getvalue()
    rows = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return code, rows, text, err.getvalue()


def _leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, child in subs[0].choices.items():
        yield from _leaves(child, (*path, name))


COMMANDS = dict(_leaves(build_parser()))
ACTING = sorted(path for path in COMMANDS if path not in PUBLIC)

_POSITIONAL = {
    "what": "patrons",
    "username": "desk",
    "role": "desk",
    "name": "retention_days",
    "value": "30",
    "start": "2026-12-24",
    "year": "2027",
    "agency": "ABC",
}
_OPTION = {
    "--due": "2026-12-20",
    "--from": "2026-01-01",
    "--to": "2026-06-30",
    "--amount": "10.00",
    "--replacement": "85.00",
    "--branch": "WS-ILL",
}


def argv_for(path: tuple[str, ...], tmp_path: Path) -> list[str]:
    """A command line that parses: the office at WS-ILL, made-up but well-formed values."""
    existing = tmp_path / "input.csv"
    existing.write_text("patron_id\n", encoding="utf-8")
    argv = [
        *path,
        "--json",
        "--staff",
        "office",
        *(["--approve", "--due", "2026-12-20"] if path == ("renewal",) else []),
        *(["--patron", "T00123456"] if path == ("recover",) else []),  # one of two is needed
    ]
    for action in COMMANDS[path]._actions:
        if action.option_strings:
            option = action.option_strings[0]
            if action.required and option != "--staff":
                value = _OPTION.get(option, str(tmp_path / "out.pdf") if option == "--out" else "x")
                argv += [option, value]
            elif option == "--branch":
                argv += [option, "WS-ILL"]
            continue
        if action.nargs == "?":
            continue
        if action.choices:
            argv.append(str(next(iter(action.choices))))
        elif action.type is int:
            argv.append("1")
        elif action.dest == "file":
            argv.append(str(existing))
        else:
            argv.append(_POSITIONAL.get(action.dest, "X1"))
    return argv


def _office(rt: Runtime) -> tuple[int, object]:
    with rt.db.reading() as session:
        staff = session.scalars(select(Staff).where(Staff.username == "office")).one()
        return staff.failed_sign_ins, staff.locked_until


def _events(rt: Runtime, *actions: str) -> int:
    with rt.db.reading() as session:
        query = select(func.count()).select_from(AuditEvent)
        if actions:
            query = query.where(AuditEvent.action.in_(actions))
        return int(session.scalar(query) or 0)


# `daily run` runs unattended only with the service role's URL on PostgreSQL with staff
# roles (tests/cli/test_cli_daily.py); everywhere else it refuses without --staff.
STAFF_OR_SERVICE_ROLE = {("daily", "run")}


def test_every_command_that_acts_or_reads_takes_a_required_staff() -> None:
    for path in ACTING:
        if path in STAFF_OR_SERVICE_ROLE:
            continue
        staff = [a for a in COMMANDS[path]._actions if "--staff" in a.option_strings]
        assert staff and staff[0].required, f"illdesk {' '.join(path)} must require --staff"


@pytest.mark.parametrize("path", ACTING, ids=[" ".join(p) for p in ACTING])
def test_refused_without_a_password_with_a_wrong_one_and_with_someone_elses(
    path: tuple[str, ...],
    demo_rt: Runtime,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_staff(demo_rt, as_admin(demo_rt), "other", "Oscar Other", Role.DESK, OTHER_PASSWORD)
    argv = ["--db", database_url, *argv_for(path, tmp_path)]
    before = _events(demo_rt)

    monkeypatch.delenv(PASSWORD_ENV)
    code, rows, _, err = cli(*argv)
    assert code == 1
    assert rows == [{"error": "password_needed", "message": rows[0]["message"]}]
    assert "ILLDESK_PASSWORD" in err and "illdesk keyring staff office" in err
    assert "Traceback" not in err
    assert _office(demo_rt) == (0, None)  # no password given: nothing to count
    assert _events(demo_rt) == before

    for attempt, password in enumerate(("wrong password", OTHER_PASSWORD), start=1):
        monkeypatch.setenv(PASSWORD_ENV, password)
        code, rows, _, err = cli(*argv)
        assert code == 1 and rows[0]["error"] == "permission_denied"
        assert "Wrong username or password" in err and "Traceback" not in err
        assert _office(demo_rt)[0] == attempt
        # The failure is the only event: the command did nothing else.
        assert _events(demo_rt, "staff.sign_in_failed") == attempt
        assert _events(demo_rt) == before + attempt


def test_the_right_password_signs_in_and_the_trail_names_who(
    demo_rt: Runtime, database_url: str
) -> None:
    code, rows, _, _ = cli(
        "--db", database_url, "--json", "settings", "list", "--staff", "admin", "--branch", "NEC"
    )
    assert code == 0 and rows
    with demo_rt.db.reading() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "staff.sign_in")
        ).one()
        assert (event.username, event.branch_code) == ("admin", "NEC")


def test_wrong_passwords_lock_the_account_and_then_even_the_right_one_waits(
    demo_rt: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ("--db", database_url, "notices", "list", "--staff", "office")
    monkeypatch.setenv(PASSWORD_ENV, "not the password")
    for _ in range(MAX_FAILED_SIGN_INS):
        assert cli(*argv)[0] == 1
    failed, locked_until = _office(demo_rt)
    assert failed == MAX_FAILED_SIGN_INS and locked_until is not None
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    code, _, _, err = cli(*argv)
    assert code == 1 and "locked" in err


def test_the_keyring_entry_is_used_when_the_environment_has_none(
    demo_rt: Runtime,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    memory_keyring: MemoryKeyring,
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    monkeypatch.setattr("sys.stdin", io.StringIO(DEMO_PASSWORD + "\n"))
    code, rows, _, _ = cli("--json", "keyring", "staff", "Office")
    assert code == 0 and rows == [{"stored": "staff:office"}]
    assert memory_keyring.store == {("ILL Desk", "staff:office"): DEMO_PASSWORD}

    code, _, text, _ = cli("--db", database_url, "notices", "list", "--staff", "office")
    assert code == 0 and "Traceback" not in text

    memory_keyring.store[("ILL Desk", "staff:office")] = "an old password"
    code, _, _, err = cli("--db", database_url, "notices", "list", "--staff", "office")
    assert code == 1 and "Wrong username or password" in err
    assert _office(demo_rt)[0] == 1


def test_the_environment_wins_over_the_keyring(
    demo_rt: Runtime, database_url: str, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.store[("ILL Desk", "staff:office")] = "an old password"
    code, _, _, _ = cli("--db", database_url, "notices", "list", "--staff", "office")
    assert code == 0 and _office(demo_rt)[0] == 0


def test_a_computer_without_a_keyring_asks_for_the_environment(
    demo_rt: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    from keyring.backends import fail

    monkeypatch.delenv(PASSWORD_ENV)
    keyring.set_keyring(fail.Keyring())  # the fixture puts the memory keyring back after
    code, _, _, err = cli("--db", database_url, "charges", "list", "--staff", "office")
    assert code == 1 and "No password for staff account 'office'" in err


def test_a_terminal_is_asked_for_the_password_without_echo(
    demo_rt: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return DEMO_PASSWORD

    monkeypatch.delenv(PASSWORD_ENV)
    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", prompt)
    code, _, _, _ = cli("--db", database_url, "bursar", "preview", "--staff", "office")
    assert code == 0 and asked == ["Password for office: "]
