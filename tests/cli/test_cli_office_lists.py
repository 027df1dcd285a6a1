"""`illdesk office list KIND` and `illdesk recover` from a script, with --json."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from app.borrowing.receiving import ReceiveForm, receive_item
from app.cli.main import parse, run
from app.desk.checkin import check_in
from app.desk.checkout import check_out
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from db.models import AuditEvent
from tests.demo_items import held_item, set_lender_date

OFFICE = ("--staff", "office")
DESK = ("--staff", "desk", "--branch", "METRO")
RENEE = "T00123456"
KEYS = {
    "in-transit": {
        "list", "barcode", "title", "from_branch", "to_branch", "reason", "started_at",
        "age_days", "overdue", "pieces",
    },
    "hold-shelf": {
        "list", "branch", "barcode", "title", "patron", "patron_id", "pickup_by", "expired",
        "in_library_use_only", "pieces",
    },
    "overdue": {
        "list", "barcode", "request_number", "title", "patron", "patron_id", "due_date",
        "days_overdue", "lender",
    },
    "discrepancies": {
        "list", "id", "at", "patron_id", "request_number", "system_date", "strap_date",
        "due_date", "adjustment_reason", "story", "staff", "branch", "closed", "review_note",
    },
    "not-found": {"list", "id", "at", "barcode", "branch", "staff", "reviewed", "review_note"},
    "received-today": {
        "list", "strap_barcode", "request_number", "title", "patron", "patron_id",
        "destination", "received_at", "in_library_use_only", "pieces",
    },
}  # fmt: skip
RECOVERED = {
    "barcode", "title", "status", "status_words", "branch", "patron_id", "patron_name",
    "has_it", "due_date", "request_number",
}  # fmt: skip

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


def _views(rt: Runtime, detail: str) -> list[tuple[str, int | None]]:
    with rt.db.reading() as session:
        return [
            (e.username, e.patron_id)
            for e in session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "patron.view", AuditEvent.detail == detail
                )
            )
        ]


def _a_day_of_everything(rt: Runtime, actor_at: Callable[[str, str], Actor]) -> None:
    """One row for each list: a receipt, a not-found scan and a due-date discrepancy."""
    office, desk = actor_at("office", "WS-ILL"), actor_at("desk", "METRO")
    receive_item(rt, office, ReceiveForm("20261001", "OKT", date(2026, 12, 1)))
    check_in(rt, desk, "NOSUCH0001")
    barcode = held_item(rt, RENEE)
    set_lender_date(rt, barcode, date(2026, 12, 2))
    check_out(rt, desk, RENEE, barcode, strap_due=date(2026, 12, 12))


def test_every_list_prints_its_documented_keys_and_audits_the_patrons_shown(
    cli: Cli, demo_rt: Runtime, actor_at: Callable[[str, str], Actor]
) -> None:
    _a_day_of_everything(demo_rt, actor_at)
    for kind, keys in KEYS.items():
        code, rows, _ = cli("office", "list", kind, *OFFICE)
        assert code == 0 and rows, kind
        assert all(set(r) == keys and r["list"] == kind for r in rows), kind
    code, [overdue], _ = cli("office", "list", "overdue", *OFFICE)
    assert (overdue["barcode"], overdue["patron_id"], overdue["days_overdue"]) == (
        "ILL00000117", "T00456789", 9,
    )  # fmt: skip
    code, [scan], _ = cli("office", "list", "not-found", *OFFICE)
    assert (scan["barcode"], scan["branch"], scan["staff"]) == ("NOSUCH0001", "METRO", "desk")
    code, [found], _ = cli("office", "list", "discrepancies", *OFFICE)
    assert (found["strap_date"], found["due_date"]) == ("2026-12-12", "2026-12-11")
    code, [received], _ = cli("office", "list", "received-today", *OFFICE)
    assert (received["request_number"], received["patron_id"]) == ("20261001", RENEE)
    code, rows, _ = cli("office", "list", "hold-shelf", "--at", "nec", *OFFICE)
    assert code == 0 and {r["branch"] for r in rows} == {"NEC"}
    # One look per patron shown, naming who ran the command, before anything was printed.
    overdue_views = _views(demo_rt, "command line: office list overdue")
    assert [u for u, _ in overdue_views] == ["office", "office"]  # two runs, one patron
    assert len({p for _, p in overdue_views}) == 1
    shelf_views = _views(demo_rt, "command line: office list hold-shelf")
    assert len(shelf_views) == 3 + 1  # three patrons' holds left, then NEC's one
    assert _views(demo_rt, "command line: office list not-found") == []  # no patron in it


def test_office_lists_are_the_ill_offices(cli: Cli, demo_rt: Runtime) -> None:
    code, rows, err = cli("office", "list", "overdue", *DESK)
    assert code == 1 and rows[0]["error"] == "permission_denied" and "ill_office" in err
    code, rows, _ = cli("office", "list", "overdue", "--staff", "ctl", "--branch", "METRO")
    assert code == 1 and rows[0]["error"] == "permission_denied"
    assert _views(demo_rt, "command line: office list overdue") == []
    code, rows, err = cli("office", "list", "overdue", "--at", "METRO", *OFFICE)
    assert code == 1 and "--at" in err
    with pytest.raises(SystemExit) as usage:
        cli("office", "list", "overdue")  # no --staff
    assert usage.value.code == 2


def test_recover_by_patron_and_by_title(cli: Cli, demo_rt: Runtime) -> None:
    code, rows, _ = cli("recover", "--patron", RENEE, *DESK)
    assert code == 0 and rows and all(set(r) == RECOVERED for r in rows)
    assert all(r["patron_id"] == RENEE and r["has_it"] for r in rows)
    assert "ILL00000091" in {r["barcode"] for r in rows}  # Invisible Cities, checked out
    assert [e[0] for e in _views(demo_rt, "barcode recovery")] == ["desk"]

    code, rows, _ = cli("recover", "--title", "invisible cities", *DESK)
    assert code == 0 and [r["barcode"] for r in rows] == ["ILL00000091"]
    assert (rows[0]["status"], rows[0]["status_words"]) == ("checked_out", "checked out")
    assert [e[0] for e in _views(demo_rt, "command line: recover")] == ["desk"]

    code, rows, err = cli("recover", "--title", "ab", *DESK)
    assert code == 1 and rows[0]["error"] == "invalid_input" and "3 letters" in err
    code, rows, _ = cli("recover", "--patron", "T99999999", *DESK)
    assert code == 1 and rows[0]["error"] == "not_found"
    with pytest.raises(SystemExit) as usage:
        cli("recover", "--patron", RENEE, "--title", "cities", *DESK)
    assert usage.value.code == 2
