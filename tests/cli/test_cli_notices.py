"""`illdesk notices`, `illdesk charges` and `illdesk bursar` from the command line."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli.main import parse, run
from app.library.runtime import Runtime
from tests.money.test_charges import checked_out_barcode
from tests.notices.test_notices_smtp import SmtpServer, free_port

RUN_KEYS = {
    "queued_due_soon",
    "queued_overdue",
    "queued_not_picked_up",
    "held",
    "sent",
    "failed",
    "uncertain",
    "waiting",
    "mail_problem",
}


def cli(*argv: str) -> tuple[int, list[dict[str, object]], str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(list(argv)), out, err)
    text = out.getvalue()
    rows = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return code, rows, text, err.getvalue()


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    monkeypatch.setenv("ILLDESK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ILLDESK_SMTP_PORT", str(server.port))
    monkeypatch.setenv("ILLDESK_SMTP_STARTTLS", "0")
    monkeypatch.setenv("ILLDESK_SMTP_SENDER", "ill@example.edu")
    try:
        yield server
    finally:
        server.stop()


def test_notices_run_sends_once_and_reports_counts(
    demo_rt: Runtime, database_url: str, smtp_env: SmtpServer
) -> None:
    code, rows, _, _ = cli("notices", "run", "--db", database_url, "--staff", "office", "--json")
    assert code == 0
    [first] = rows
    assert set(first) == RUN_KEYS
    queued = int(first["queued_due_soon"]) + int(first["queued_overdue"])  # type: ignore[call-overload]
    assert queued >= 1
    # The demo's holds waited until 8 days after the test clock's day; today is later.
    queued += int(first["queued_not_picked_up"])  # type: ignore[call-overload]
    assert first["sent"] == queued == len(smtp_env.inbox.received)
    assert all(m.rcpt_tos[0].endswith("@example.edu") for m in smtp_env.inbox.received)
    code, rows, _, _ = cli("notices", "run", "--db", database_url, "--staff", "office", "--json")
    assert code == 0 and rows[0]["sent"] == 0 and rows[0]["queued_overdue"] == 0
    assert rows[0]["queued_not_picked_up"] == 0
    assert len(smtp_env.inbox.received) == queued
    code, rows, _, _ = cli(
        "--json", "notices", "list", "--status", "sent", "--db", database_url, "--staff", "office"
    )
    assert code == 0 and len(rows) == queued
    assert {r["kind"] for r in rows} <= {"due_soon", "overdue", "hold_not_picked_up"}


def test_notices_run_without_mail_server_keeps_them_queued(
    demo_rt: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ILLDESK_SMTP_HOST", raising=False)
    code, _, text, _ = cli("notices", "run", "--db", database_url, "--staff", "office")
    assert code == 0
    assert "No mail server is set" in text
    code, rows, _, _ = cli(
        "notices", "list", "--status", "queued", "--db", database_url, "--staff", "office", "--json"
    )
    assert code == 0 and rows and all(r["status"] == "queued" for r in rows)
    code, rows, _, err = cli(
        "notices", "list", "--status", "lost", "--db", database_url, "--staff", "office", "--json"
    )
    assert code == 1 and rows[0]["error"] == "invalid_input"
    assert "not a notice status" in err


def test_charges_list_declare_lost_and_remove(demo_rt: Runtime, database_url: str) -> None:
    code, rows, _, _ = cli(
        "charges",
        "list",
        "--patron",
        "T00890123",
        "--db",
        database_url,
        "--staff",
        "office",
        "--json",
    )
    assert code == 0
    assert sorted((r["kind"], r["amount"], r["estimated"]) for r in rows) == [
        ("processing_fee", "30.00", False),
        ("replacement", "85.00", True),
    ]
    # T00345678's item due in two days: the desk may not declare it lost; the office may.
    barcode = checked_out_barcode(demo_rt, "T00345678")
    code, rows, _, err = cli(
        "charges",
        "declare-lost",
        barcode,
        "--replacement",
        "70",
        "--staff",
        "desk",
        "--branch",
        "SE",
        "--db",
        database_url,
        "--json",
    )
    assert code == 1 and rows[0]["error"] == "permission_denied" and "ill_office" in err
    code, rows, _, _ = cli(
        "charges",
        "declare-lost",
        barcode,
        "--replacement",
        "70",
        "--staff",
        "office",
        "--db",
        database_url,
        "--json",
    )
    assert code == 0
    [result] = rows
    assert result["patron_id"] == "T00345678" and result["total"] == "100.00"
    charge_id = result["charges"][0]["id"]  # type: ignore[index]
    code, _, text, _ = cli(
        "charges",
        "remove",
        str(charge_id),
        "--reason",
        "Item found in the book drop",
        "--staff",
        "office",
        "--db",
        database_url,
    )
    assert code == 0 and f"Charge {charge_id}" in text and "removed" in text
    with pytest.raises(SystemExit) as caught:
        cli("charges", "remove", str(charge_id), "--staff", "office", "--db", database_url)
    assert caught.value.code == 2


def test_bursar_export_and_preview(demo_rt: Runtime, database_url: str, tmp_path: Path) -> None:
    code, rows, _, _ = cli("bursar", "preview", "--db", database_url, "--staff", "office", "--json")
    assert code == 0
    assert sorted(r["report"] for r in rows) == [False, True]
    path = tmp_path / "bursar.csv"
    code, rows, _, _ = cli(
        "bursar", "export", str(path), "--staff", "office", "--db", database_url, "--json"
    )
    assert code == 0 and rows[0]["reported"] == 1 and rows[0]["total"] == "30.00"
    assert path.read_text(encoding="utf-8").startswith("charge_id,patron_id,")
    code, rows, _, err = cli(
        "bursar", "export", str(path), "--staff", "office", "--db", database_url, "--json"
    )
    assert code == 1 and rows[0]["error"] == "conflict" and "never overwritten" in err
