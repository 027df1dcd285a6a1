"""`illdesk request add` and `illdesk templates list|show|set|reset` from a script."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.cli.main import parse, run
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from app.notices.templates import KINDS
from db.models import AuditEvent, IllRequest, Notice, NoticeTemplate

OFFICE = ("--staff", "office")
ADMIN = ("--staff", "admin", "--branch", "NEC")
RENEE = "T00123456"
REQUEST_KEYS = {
    "request_number", "kind", "status", "title", "volume", "issue", "pages", "article_title",
    "patron_id", "patron_name", "pickup_branch", "lender", "requested_by_staff",
}  # fmt: skip
TEMPLATE_KEYS = {"kind", "label", "subject", "body", "customised", "fields"}

Cli = Callable[..., tuple[int, list[dict[str, Any]], str]]


@pytest.fixture
def cli(
    demo_rt: Runtime, database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    monkeypatch.setattr("app.cli.context.SystemClock", lambda: clock)

    def call(*argv: str) -> tuple[int, list[dict[str, Any]], str]:
        out, err = io.StringIO(), io.StringIO()
        code = run(parse(["--db", database_url, "--json", *argv]), out, err)
        rows = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
        return code, rows, err.getvalue()

    return call


def _events(rt: Runtime, action: str) -> list[AuditEvent]:
    with rt.db.reading() as session:
        found = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )
        session.expunge_all()
        return found


def test_request_add_places_a_request_and_tells_the_patron(cli: Cli, demo_rt: Runtime) -> None:
    code, [row], _ = cli(
        "request", "add", "--patron", RENEE, "--title", "Beloved", "--author", "Morrison",
        "--pickup", "metro", "--lender", "OKT", *OFFICE,
    )  # fmt: skip
    assert code == 0 and set(row) == REQUEST_KEYS
    assert (row["kind"], row["status"], row["pickup_branch"]) == ("loan", "requested", "METRO")
    assert (row["patron_id"], row["lender"]) == (RENEE, "OKT")
    number = row["request_number"]
    with demo_rt.db.reading() as session:
        placed = session.scalar(select(IllRequest).where(IllRequest.request_number == number))
        assert placed is not None and placed.author == "Morrison"
        told = session.scalar(select(Notice).where(Notice.request_id == placed.id))
        assert told is not None and told.kind == "request_received"
    (placed_event,) = _events(demo_rt, "ill.request_placed")
    assert placed_event.username == "office"
    views = [e for e in _events(demo_rt, "patron.view") if e.detail == "command line: request add"]
    assert [e.username for e in views] == ["office"]

    code, [copy], _ = cli(
        "request", "add", "--patron", RENEE, "--title", "Journal of Maps", "--kind", "copy",
        "--article-title", "Old roads", "--pickup", "WEST", "--number", "20269001", *OFFICE,
    )  # fmt: skip
    assert code == 0 and (copy["request_number"], copy["kind"]) == ("20269001", "copy")
    assert copy["lender"] is None


def test_request_add_refusals(cli: Cli, demo_rt: Runtime) -> None:
    add = ("request", "add", "--patron", RENEE, "--title", "Beloved")
    code, rows, err = cli(*add, "--pickup", "METRO", "--staff", "desk", "--branch", "METRO")
    assert code == 1 and rows[0]["error"] == "permission_denied" and "ill_office" in err
    code, rows, _ = cli(*add, "--pickup", "METRO", "--staff", "ctl", "--branch", "METRO")
    assert code == 1 and rows[0]["error"] == "permission_denied"
    code, rows, err = cli(*add, "--pickup", "WS-ILL", *OFFICE)
    assert code == 1 and rows[0]["error"] == "invalid_input" and "campus" in err
    code, rows, err = cli(*add, "--pickup", "METRO", "--kind", "copy", *OFFICE)
    assert code == 1 and "article" in err
    with demo_rt.db.reading() as session:
        assert session.scalar(select(IllRequest).where(IllRequest.title == "Beloved")) is None
    assert _events(demo_rt, "ill.request_placed") == []


def test_templates_list_show_set_and_reset(cli: Cli, demo_rt: Runtime, tmp_path: Path) -> None:
    code, rows, _ = cli("templates", "list", *ADMIN)
    assert code == 0 and [r["kind"] for r in rows] == list(KINDS)
    assert all(set(r) == TEMPLATE_KEYS and not r["customised"] for r in rows)
    code, [shown], _ = cli("templates", "show", "overdue", *ADMIN)
    assert "days_overdue" in shown["fields"] and shown["body"]

    body = tmp_path / "overdue.txt"
    body.write_text("Dear {{ patron_first_name }},\n{{ title }} is late.\n", encoding="utf-8")
    code, [saved], _ = cli(
        "templates", "set", "overdue", "--subject", "Late: {{ title }}", "--body-file",
        str(body), *ADMIN,
    )  # fmt: skip
    assert code == 0 and saved["customised"] and saved["subject"] == "Late: {{ title }}"
    code, [shown], _ = cli("templates", "show", "overdue", *ADMIN)
    assert shown["body"] == body.read_text(encoding="utf-8")
    (event,) = _events(demo_rt, "notice_template.save")
    assert event.username == "admin" and event.detail == "overdue"

    body.write_text("{{ titel }} is late.\n", encoding="utf-8")  # a typo never reaches anyone
    code, rows, err = cli(
        "templates", "set", "overdue", "--subject", "Late", "--body-file", str(body), *ADMIN
    )
    assert code == 1 and rows[0]["error"] == "invalid_input" and "titel" in err
    code, rows, err = cli(
        "templates", "set", "overdue", "--subject", "Late", "--body-file",
        str(tmp_path / "missing.txt"), *ADMIN,
    )  # fmt: skip
    assert code == 1 and "Cannot read" in err

    code, [back], _ = cli("templates", "reset", "overdue", *ADMIN)
    assert code == 0 and not back["customised"] and back["subject"] != "Late: {{ title }}"
    with demo_rt.db.reading() as session:
        assert session.scalars(select(NoticeTemplate)).all() == []
    code, rows, _ = cli("templates", "show", "nope", *ADMIN)
    assert code == 1 and "Known kinds" in rows[0]["message"]


def test_templates_are_for_administrators(cli: Cli, demo_rt: Runtime, tmp_path: Path) -> None:
    body = tmp_path / "b.txt"
    body.write_text("Hello {{ patron_name }}\n", encoding="utf-8")
    for staff in (OFFICE, ("--staff", "desk", "--branch", "METRO")):
        code, rows, err = cli("templates", "list", *staff)
        assert code == 1 and rows[0]["error"] == "permission_denied" and "admin" in err
        code, rows, _ = cli(
            "templates", "set", "overdue", "--subject", "S", "--body-file", str(body), *staff
        )
        assert code == 1 and rows[0]["error"] == "permission_denied"
    with demo_rt.db.reading() as session:
        assert session.scalars(select(NoticeTemplate)).all() == []


def test_templates_set_reads_the_body_from_standard_input(
    cli: Cli, demo_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Ready: {{ title }} until {{ pickup_by }}.\n"))
    code, [saved], _ = cli(
        "templates", "set", "ready_for_pickup", "--subject", "Ready: {{ title }}",
        "--body-file", "-", *ADMIN,
    )  # fmt: skip
    assert code == 0 and saved["body"] == "Ready: {{ title }} until {{ pickup_by }}.\n"
    with demo_rt.db.reading() as session:
        (row,) = session.scalars(select(NoticeTemplate)).all()
        assert (row.kind, row.subject) == ("ready_for_pickup", "Ready: {{ title }}")
