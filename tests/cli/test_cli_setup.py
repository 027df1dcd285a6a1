"""The set-up commands a library scripts against: db, demo, branches, staff, import."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.cli.main import main, parse, run


def cli(
    *argv: str, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None
) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


def lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_demo_then_branches_json(database_url: str) -> None:
    code, out, _ = cli("--db", database_url, "demo", "--json")
    assert code == 0
    assert lines(out)[0]["branches"] == 5
    code, out, _ = cli("branches", "--db", database_url, "--json")
    assert code == 0
    rows = {row["code"]: row for row in lines(out)}
    assert set(rows) == {"METRO", "NEC", "SE", "WEST", "WS-ILL"}
    assert rows["WS-ILL"] == {
        "code": "WS-ILL",
        "name": "WorldShare ILL (ILL office at NEC)",
        "virtual": True,
        "ill_office": True,
        "location": "NEC",
    }
    assert rows["METRO"]["virtual"] is False


def test_demo_refuses_to_overwrite_and_reset_replaces_only_demo_data(database_url: str) -> None:
    assert cli("--db", database_url, "demo")[0] == 0
    code, _, err = cli("--db", database_url, "demo")
    assert code == 1 and "needs --staff" in err
    code, _, err = cli("--db", database_url, "demo", "--staff", "admin")
    assert code == 1 and "--reset" in err
    assert cli("--db", database_url, "demo", "--reset", "--staff", "admin")[0] == 0


def test_reset_never_erases_a_real_library(database_url: str, tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("patron_id,barcode,first_name,last_name,email,patron_type,home_branch\n")
    cli("--db", database_url, "demo")
    # A database not made by the demo: simulate by clearing the demo flag.
    from app.library import library_settings
    from app.library.runtime import Runtime
    from db.engine import Database

    database = Database(database_url)
    with database.transaction() as session:
        library_settings.save(session, demo_database=False)
    database.dispose()
    code, _, err = cli("--db", database_url, "demo", "--reset", "--staff", "admin")
    assert code == 1 and "real data" in err
    assert Runtime  # imported for the type of what tests build


def test_staff_add_with_password_from_stdin_then_list(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("--db", database_url, "demo")
    code, out, _ = cli(
        "--db",
        database_url,
        "staff",
        "add",
        "Maria.Lopez",
        "--name",
        "María López",
        "--role",
        "ill_office",
        "--password-stdin",
        "--staff",
        "admin",
        "--json",
        stdin="correct horse battery\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0
    assert lines(out) == [
        {
            "username": "maria.lopez",
            "full_name": "María López",
            "role": "ill_office",
            "active": True,
        }
    ]
    code, out, _ = cli("--db", database_url, "staff", "list", "--staff", "admin", "--json")
    assert "maria.lopez" in [row["username"] for row in lines(out)]


def test_staff_add_refuses_unknown_role_and_duplicates(database_url: str) -> None:
    cli("--db", database_url, "demo")
    admin = ("--staff", "admin")
    code, _, err = cli("--db", database_url, "staff", "add", "x", "--name", "X", "--role", "boss")
    assert code == 1 and "desk, ctl, ill_office, admin" in err
    code, out, err = cli(
        "--db",
        database_url,
        "staff",
        "add",
        "desk",
        "--name",
        "D",
        "--role",
        "desk",
        "--json",
        *admin,
    )
    assert code == 1 and lines(out)[0]["error"] == "conflict"


def test_db_current_and_upgrade_report_versions(database_url: str) -> None:
    code, out, _ = cli("--db", database_url, "db", "current", "--json")
    assert code == 0
    row = lines(out)[0]
    assert row["up_to_date"] is True and row["current"] == row["head"]
    code, out, _ = cli("--db", database_url, "db", "upgrade", "--json")
    assert code == 0 and lines(out)[0]["current"] == row["head"]


def test_unreachable_database_exits_3_with_a_message() -> None:
    code, _, err = cli("--db", "postgresql://postgres@127.0.0.1:1/nothing", "branches")
    assert code == 3 and "Check the network" in err


def test_database_from_environment_is_used(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ILLDESK_DATABASE_URL", database_url)
    cli("demo")
    code, out, _ = cli("branches", "--json")
    assert code == 0 and len(lines(out)) == 5


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "--help" in capsys.readouterr().err


def test_only_window_options_open_the_window() -> None:
    from ui.launcher import wants_window, window_options

    assert wants_window([])
    assert wants_window(["--db", "sqlite:///x.db", "--demo-if-new"])
    assert wants_window(["--db=sqlite:///x.db", "--self-check"])
    assert not wants_window(["branches"])
    assert not wants_window(["--db", "sqlite:///x.db", "demo"])
    assert not wants_window(["--version"])
    assert not wants_window(["--json"])
    args = window_options(["--db", "sqlite:///x.db", "--demo-if-new"])
    assert (args.db, args.demo_if_new, args.self_check) == ("sqlite:///x.db", True, False)


def test_no_display_gets_a_message_instead_of_a_qt_abort(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ui import launcher

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(launcher.sys, "platform", "linux")
    assert launcher.main([]) == 2
    assert "no display" in capsys.readouterr().err
