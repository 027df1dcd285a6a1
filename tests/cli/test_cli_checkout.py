"""`illdesk checkout`, `in-house-use` and `change-due-date` against the demo database."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from app.cli.main import parse, run
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from db.models import InHouseUse, Item, Notice
from tests.demo_items import held_item as held
from tests.demo_items import set_lender_date

KEYS = {
    "outcome",
    "due_date",
    "strap_due_date",
    "adjustment_reason",
    "discrepancy_logged",
    "barcode",
    "patron_id",
    "title",
    "message",
}


@pytest.fixture
def cli(
    demo_rt: Runtime, database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """Run one command with --json against the demo database, on the test's clock."""
    monkeypatch.setattr("app.cli.context.SystemClock", lambda: clock)

    def call(*argv: str) -> tuple[int, list[dict[str, Any]], str]:
        out, err = io.StringIO(), io.StringIO()
        code = run(parse(["--db", database_url, "--json", *argv]), out, err)
        rows = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
        return code, rows, err.getvalue()

    return call


CHECKOUT = ("checkout", "--branch", "METRO", "--staff", "desk")


def test_checkout_prints_the_contract_keys(demo_rt: Runtime, cli: Any) -> None:
    barcode = held(demo_rt, "T00123456")
    set_lender_date(demo_rt, barcode, date(2026, 11, 14))
    code, [row], _ = cli(*CHECKOUT, "--patron", "T00123456", barcode)
    assert code == 0
    assert row.keys() >= KEYS
    assert row["outcome"] == "checked_out"
    assert row["due_date"] == "2026-11-13" and row["strap_due_date"] == "2026-11-14"
    assert "Saturday" in row["adjustment_reason"]
    assert row["discrepancy_logged"] is False
    assert row["barcode"] == barcode and row["patron_id"] == "T00123456"


def test_a_different_strap_date_wins_and_is_logged(demo_rt: Runtime, cli: Any) -> None:
    barcode = held(demo_rt, "T00123456")
    set_lender_date(demo_rt, barcode, date(2026, 12, 2))
    code, [row], _ = cli(*CHECKOUT, "--patron", "T00123456", barcode, "--strap-due", "2026-12-09")
    assert code == 0
    assert row["due_date"] == "2026-12-09" and row["discrepancy_logged"] is True


def test_refusal_exits_1_and_still_prints_json(demo_rt: Runtime, cli: Any) -> None:
    ilu = held(demo_rt, "T00678901", in_library_use=True)
    code, [row], _ = cli(*CHECKOUT, "--patron", "T00678901", ilu)
    assert code == 1
    assert row["outcome"] == "refused_in_library_use" and row["due_date"] is None
    code, [row], _ = cli(*CHECKOUT, "--patron", "T00123456", ilu)
    assert code == 1 and row["outcome"] == "refused_not_on_hold_for_patron"
    assert row["held_for"] == "Björn Larsen (T00678901)"
    code, [row], _ = cli(*CHECKOUT, "--patron", "T99999999", ilu)
    assert code == 1 and row["error"] == "not_found"


def test_bad_strap_date_is_a_usage_error(demo_rt: Runtime, cli: Any) -> None:
    barcode = held(demo_rt, "T00123456")
    with pytest.raises(SystemExit) as exit_info:
        cli(*CHECKOUT, "--patron", "T00123456", barcode, "--strap-due", "12/09/2026")
    assert exit_info.value.code == 2


def test_in_house_use_records_a_use(demo_rt: Runtime, cli: Any) -> None:
    ilu = held(demo_rt, "T00678901", in_library_use=True)
    code, [row], _ = cli("in-house-use", "--branch", "METRO", "--staff", "desk", ilu)
    assert code == 0 and row["patron_id"] == "T00678901" and row["uses"] == 1
    with demo_rt.db.reading() as session:
        uses = session.scalars(
            select(InHouseUse).join(Item, Item.id == InHouseUse.item_id).where(Item.barcode == ilu)
        ).all()
    assert len(uses) == 1
    code, [row], _ = cli("in-house-use", "--branch", "METRO", "--staff", "desk", ilu)
    assert code == 1 and row["error"] == "conflict"


def test_change_due_date_needs_a_reason(demo_rt: Runtime, cli: Any) -> None:
    barcode = held(demo_rt, "T00123456")
    cli(*CHECKOUT, "--patron", "T00123456", barcode)
    base = ("change-due-date", "--branch", "METRO", "--staff", "desk", barcode)
    code, [row], _ = cli(*base, "--due", "2027-01-15", "--reason", " ")
    assert code == 1 and "Say why" in row["message"]
    code, [row], _ = cli(*base, "--due", "2027-01-15", "--reason", "Lender renewed")
    assert code == 0 and row["due_date"] == "2027-01-15"


def test_a_recall_moves_the_lenders_date_of_a_checked_out_item_and_tells_the_patron(
    demo_rt: Runtime, cli: Any
) -> None:
    # Renée Müller has ILL00000091 (request 20261012) out until 23 November.
    office = ("change-due-date", "--branch", "WS-ILL", "--staff", "office")
    code, [row], _ = cli(*office, "20261012", "--due", "2026-11-12", "--reason", "x", "--recall")
    assert code == 0
    assert (row["old_due_date"], row["due_date"], row["patron_told"]) == (
        "2026-11-23",
        "2026-11-12",
        True,
    )
    with demo_rt.db.reading() as session:
        lender_date = session.scalar(
            select(Item.lender_due_date).where(Item.barcode == "ILL00000091")
        )
        kinds = list(session.scalars(select(Notice.kind).where(Notice.kind == "recalled")))
    assert lender_date == date(2026, 11, 12) and kinds == ["recalled"]
    desk = ("change-due-date", "--branch", "METRO", "--staff", "desk")
    code, [row], _ = cli(*desk, "ILL00000109", "--due", "2026-11-06", "--reason", "x", "--recall")
    assert code == 1 and row["error"] == "permission_denied"


def test_a_failure_no_service_foresaw_is_said_plainly_and_logged_not_printed(
    demo_rt: Runtime, cli: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug nobody foresaw")

    monkeypatch.setattr("app.cli.checkout_commands.change_due_date", broken)
    desk = ("change-due-date", "--branch", "METRO", "--staff", "desk")
    code, [row], err = cli(*desk, "ILL00000091", "--due", "2026-11-30", "--reason", "x")
    assert code == 1 and row["error"] == "unexpected"
    assert "it was not done" in row["message"] and "tell IT" in row["message"]
    assert "Traceback" not in err and "a bug nobody foresaw" not in err
    assert "a bug nobody foresaw" in caplog.text  # the detail is in the log
