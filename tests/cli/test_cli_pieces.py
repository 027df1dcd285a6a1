"""Multi-piece items, the pickup-by rule and request citations from a script (--json)."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.cli.main import parse, run
from tests.strap_pdf import all_text

OFFICE = ("--staff", "office")
DESK = ("--staff", "desk", "--branch", "METRO")
RENEE = "T00123456"
TWO = "2 pieces: check that both are here."
FLAG_KEYS = {
    "id", "at", "barcode", "title", "request_number", "pieces", "patron", "patron_id",
    "lender", "branch", "staff", "note", "cleared", "clear_note",
}  # fmt: skip


def cli(db: str, *argv: str) -> tuple[int, list[dict[str, Any]], str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(["--db", db, "--json", *argv]), out, err)
    return code, [json.loads(x) for x in out.getvalue().splitlines() if x.strip()], err.getvalue()


@pytest.fixture
def db(database_url: str) -> str:
    assert run(parse(["--db", database_url, "demo"]), io.StringIO(), io.StringIO()) == 0
    return database_url


def later(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def test_a_two_piece_item_from_receipt_to_the_missing_piece_list(db: str, tmp_path: Path) -> None:
    strap = tmp_path / "strap.pdf"
    code, [received], _ = cli(
        db, "receive", "20261001", "--lender", "OKT", "--due", later(30), "--pieces", "2",
        "--strap-pdf", str(strap), *OFFICE,
    )  # fmt: skip
    assert code == 0 and received["pieces"] == 2
    assert "2 PIECES" in all_text(strap.read_bytes())
    barcode = received["strap_barcode"]
    code, [arrived], _ = cli(db, "checkin", barcode, *DESK)
    assert arrived["pieces"] == 2 and arrived["instructions"][0] == TWO

    code, [refused], _ = cli(db, "checkout", "--patron", RENEE, barcode, *DESK)
    assert code == 1 and refused["outcome"] == "refused_pieces_not_checked"
    code, [lent], _ = cli(db, "checkout", "--patron", RENEE, barcode, "--pieces-checked", *DESK)
    assert code == 0 and (lent["outcome"], lent["pieces"]) == ("checked_out", 2)

    code, [back], _ = cli(db, "checkin", barcode, *DESK)
    assert back["instructions"][0] == TWO
    code, [flag], _ = cli(db, "missing-piece", barcode, "--note", "the CD", *DESK)
    assert code == 0 and set(flag) == FLAG_KEYS
    assert (flag["pieces"], flag["note"], flag["branch"], flag["cleared"]) == (
        2, "the CD", "METRO", False,
    )  # fmt: skip
    code, rows, _ = cli(db, "office", "list", "missing-pieces", *OFFICE)
    assert code == 0 and [r["id"] for r in rows] == [flag["id"]]
    assert set(rows[0]) == FLAG_KEYS | {"list"} and rows[0]["list"] == "missing-pieces"
    code, rows, err = cli(db, "office", "list", "missing-pieces", "--staff", "desk",
                          "--branch", "METRO")  # fmt: skip
    assert code == 1 and rows[0]["error"] == "permission_denied"
    code, [cleared], _ = cli(
        db, "office", "clear-piece", str(flag["id"]), "--note", "CD came in the mail", *OFFICE
    )
    assert code == 0 and cleared["cleared"] and cleared["clear_note"] == "CD came in the mail"
    code, rows, err = cli(db, "office", "list", "missing-pieces", *OFFICE)
    assert code == 0 and rows == [] and "No item is waiting" in err
    code, rows, _ = cli(db, "office", "list", "missing-pieces", "--all", *OFFICE)
    assert [r["cleared"] for r in rows] == [True]


def test_receive_refuses_a_piece_count_that_cannot_be(db: str) -> None:
    code, [row], err = cli(
        db, "receive", "20261001", "--lender", "OKT", "--due", later(30), "--pieces", "0",
        *OFFICE,
    )  # fmt: skip
    assert code == 1 and row["error"] == "invalid_input" and "pieces" in err


def test_request_add_with_volume_issue_and_pages(db: str) -> None:
    code, [row], _ = cli(
        db, "request", "add", "--patron", RENEE, "--title", "Collected Papers", "--volume",
        "2", "--issue", "4", "--pages", "112-140", "--pickup", "METRO", *OFFICE,
    )  # fmt: skip
    assert code == 0
    assert (row["volume"], row["issue"], row["pages"]) == ("2", "4", "112-140")


def test_change_due_date_of_a_waiting_item_pulls_its_pickup_by_back(db: str) -> None:
    code, [received], _ = cli(
        db, "receive", "20261002", "--lender", "OKT", "--due", later(30), *OFFICE
    )  # NEC: straight onto the ILL office campus's hold shelf
    assert received["pickup_by"] is not None and received["pickup_by"] > later(1)
    code, [change], _ = cli(
        db, "change-due-date", received["strap_barcode"], "--due", later(1), "--reason",
        "Lender recalled it", "--staff", "office", "--branch", "NEC",
    )  # fmt: skip
    assert code == 0
    assert (change["due_date"], change["pickup_by"], change["pickup_by_pulled_back"]) == (
        later(1), later(1), True,
    )  # fmt: skip
