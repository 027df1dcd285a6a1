"""`illdesk partners` and `illdesk lend message --email`: the directory and real SMTP."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from app.cli.main import parse, run
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from tests.notices.test_notices_smtp import SmtpServer, free_port

OFFICE = ("--branch", "WS-ILL", "--staff", "office")

UIU_MAIL = "ill-lending@uiu.example.org"


@pytest.fixture
def cli(
    demo_rt: Runtime, database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """Run one command against the demo database, on the test's clock, with --json."""
    monkeypatch.setattr("app.cli.context.SystemClock", lambda: clock)

    def call(*argv: str) -> tuple[int, list[dict[str, Any]], str]:
        out, err = io.StringIO(), io.StringIO()
        code = run(parse(["--db", database_url, "--json", *argv]), out, err)
        rows = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
        return code, rows, err.getvalue()

    return call


@pytest.fixture
def smtp_port(monkeypatch: pytest.MonkeyPatch) -> int:
    port = free_port()
    monkeypatch.setenv("ILLDESK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ILLDESK_SMTP_PORT", str(port))
    monkeypatch.setenv("ILLDESK_SMTP_STARTTLS", "0")
    monkeypatch.setenv("ILLDESK_SMTP_SENDER", "ill@example.edu")
    return port


def _lost_message_id(cli: Any) -> int:
    code, rows, _ = cli("lend", "overdue", *OFFICE)
    assert code == 0
    lost = next(r for r in rows if r["borrower_symbol"] == "UIU")
    (message,) = lost["messages"]
    return int(message["notice_id"])


def test_partners_set_and_list(cli: Any) -> None:
    code, rows, _ = cli("partners", "list", "--staff", "office")
    assert code == 0 and rows == []
    code, rows, _ = cli(
        "partners", "set", "uiu", "--email", UIU_MAIL, "--name", "University of Iowa",
        "--staff", "office",
    )  # fmt: skip
    assert code == 0
    assert set(rows[0]) == {"symbol", "name", "email", "updated_at", "updated_by"}
    assert (rows[0]["symbol"], rows[0]["email"], rows[0]["updated_by"]) == (
        "UIU",
        UIU_MAIL,
        "office",
    )
    code, rows, _ = cli("partners", "set", "UIU", "--email", "x" * 10_000, "--staff", "office")
    assert code == 1 and rows[0]["error"] == "invalid_input"
    code, rows, _ = cli("partners", "set", "UIU", "--email", "a@b.org", "--staff", "desk")
    assert code == 1 and rows[0]["error"] == "permission_denied"
    code, rows, _ = cli("partners", "list", "--staff", "office")
    assert [(r["symbol"], r["email"], r["name"]) for r in rows] == [
        ("UIU", UIU_MAIL, "University of Iowa")
    ]


def test_lost_message_by_e_mail_and_when_the_server_is_down(cli: Any, smtp_port: int) -> None:
    notice_id = _lost_message_id(cli)
    code, rows, _ = cli("lend", "message", str(notice_id), "--email", *OFFICE)
    assert code == 1 and "no e-mail address for UIU" in rows[0]["message"]
    cli("partners", "set", "UIU", "--email", UIU_MAIL, "--staff", "office")

    # Nothing listens yet: the message stays in the outbox, failed, with the reason.
    code, rows, _ = cli("lend", "message", str(notice_id), "--email", *OFFICE)
    assert code == 1
    (row,) = rows
    assert (row["emailed"], row["status"], row["recipient"]) == (False, "failed", UIU_MAIL)
    assert "cannot be reached" in row["mail_problem"]

    server = SmtpServer(smtp_port)
    server.start()
    try:
        code, rows, _ = cli("lend", "message", str(notice_id), "--email", *OFFICE)
    finally:
        server.stop()
    assert code == 0
    assert (rows[0]["emailed"], rows[0]["status"], rows[0]["mail_problem"]) == (True, "sent", "")
    assert [m.rcpt_tos for m in server.inbox.received] == [[UIU_MAIL]]
    code, rows, _ = cli("lend", "message", str(notice_id), "--email", *OFFICE)
    assert code == 1 and rows[0]["error"] == "conflict"  # never sent twice


def test_partners_help_names_its_steps(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(["partners", "--help"])
    out = capsys.readouterr().out
    assert "list" in out and "set" in out


def test_ifm_note_from_the_command_line(cli: Any, smtp_port: int) -> None:
    notice_id = _lost_message_id(cli)
    code, rows, _ = cli("ifm", "lost", *OFFICE)
    number = next(r["request_number"] for r in rows if r["partner_symbol"] == "UIU")
    _, rows, _ = cli("ifm", "record", number, "--amount", "85", *OFFICE)
    tx_id = rows[0]["id"]
    cli("partners", "set", "UIU", "--email", UIU_MAIL, "--staff", "office")
    code, rows, _ = cli("ifm", "note", str(tx_id), *OFFICE)
    assert code == 0
    note = rows[0]
    assert (note["kind"], note["recipient"], note["status"]) == ("ifm", UIU_MAIL, "held")
    assert note["notice_id"] != notice_id and "85.00" in note["body"]
    server = SmtpServer(smtp_port)
    server.start()
    try:
        code, rows, _ = cli("lend", "message", str(note["notice_id"]), "--email", *OFFICE)
    finally:
        server.stop()
    assert code == 0 and rows[0]["emailed"] is True
    assert [m.rcpt_tos for m in server.inbox.received] == [[UIU_MAIL]]
