"""`illdesk report`: the known library's figures as JSON, CSV, PDF and lists."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.cli.main import parse, run
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from app.library.spreadsheet_cells import spreadsheet_cell as neutralised
from db.engine import Database
from db.models import Branch, Direction, IllRequest, RequestKind, RequestStatus
from tests.reports import known_library
from tests.strap_pdf import all_text, pages

PERIOD = ("--from", "2024-03-01", "--to", "2024-04-30")
FORMULA = '=HYPERLINK("http://x","click")'


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def db(database_url: str) -> str:
    """The demo library (for its staff) with the known library's events added."""
    assert cli("--db", database_url, "demo")[0] == 0
    database = Database(database_url)
    rt = Runtime(database, FixedClock())
    known_library.build(rt)
    with rt.db.transaction() as session:  # a reason a spreadsheet must not run
        metro = session.query(Branch).filter_by(code="METRO").one()
        at = datetime(2024, 3, 20, tzinfo=UTC)
        session.add(
            IllRequest(
                request_number="29999999", direction=Direction.BORROWING,
                kind=RequestKind.LOAN, status=RequestStatus.CANCELLED, title="-2+3",
                pickup_branch_id=metro.id, cancel_reason=FORMULA, created_at=datetime(
                    2023, 1, 1, tzinfo=UTC), closed_at=at,
            )
        )  # fmt: skip
    database.dispose()
    return database_url


def test_json_has_every_figure_with_previous_months_and_campuses(db: str) -> None:
    code, out, _ = cli("--db", db, "--json", "report", "borrowing", *PERIOD, "--staff", "office")
    assert code == 0
    (line,) = out.splitlines()
    report = json.loads(line)
    assert (report["report"], report["from"], report["to"]) == (
        "borrowing",
        "2024-03-01",
        "2024-04-30",
    )
    assert (report["previous_from"], report["previous_to"]) == ("2024-01-01", "2024-02-29")
    assert report["campus"] is None
    placed = next(f for f in report["figures"] if f["key"] == "borrowing.placed")
    assert (placed["current"], placed["previous"]) == (27, 15)
    assert placed["by_month"] == {"2024-03": 15, "2024-04": 12}
    assert placed["by_campus"]["NEC"] == {"current": 15, "previous": 9}
    median = next(
        f for f in report["figures"] if f["key"] == "borrowing.request_to_received.median"
    )
    assert (median["current"], median["previous"]) == (3.0, 2.0)
    reasons = report["breakdowns"][0]["rows"]
    assert {"name": FORMULA, "current": 1, "previous": 0} in reasons


def test_one_campus_and_money_as_strings(db: str) -> None:
    code, out, _ = cli(
        "--db", db, "--json", "report", "money", *PERIOD, "--branch", "nec", "--staff", "admin"
    )
    assert code == 0
    report = json.loads(out)
    assert report["campus"] == "NEC"
    received = next(f for f in report["figures"] if f["key"] == "money.ifm_received")
    assert (received["current"], received["previous"]) == ("125.00", "75.00")


def test_csv_opens_in_a_spreadsheet_without_running_formulas(db: str, tmp_path: Path) -> None:
    target = tmp_path / "borrowing.csv"
    code, _, _ = cli(
        "--db", db, "report", "borrowing", *PERIOD, "--staff", "office", "--csv", str(target)
    )
    assert code == 0
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["report", "figure", "label", "unit", "by", "name", "current", "previous"]
    assert ["borrowing", "borrowing.placed", "Requests placed", "requests", "total",
            "all campuses", "27", "15"] in rows  # fmt: skip
    assert ["borrowing", "borrowing.placed", "Requests placed", "requests", "campus",
            "METRO", "12", "6"] in rows  # fmt: skip
    reason = next(r for r in rows if r[4] == "Reason" and "HYPERLINK" in r[5])
    assert reason[5] == "'" + FORMULA
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-400.00", "-400.00"),
        ("Duplicate request", "Duplicate request"),
    ],
)
def test_formula_cells_are_neutralised_and_numbers_kept(cell: str, shown: str) -> None:
    assert neutralised(cell) == shown


def test_pdf_reads_back_with_its_figures(db: str, tmp_path: Path) -> None:
    target = tmp_path / "desk.pdf"
    code, _, _ = cli(
        "--db", db, "report", "desk", *PERIOD, "--staff", "office", "--pdf", str(target)
    )
    assert code == 0
    pdf = target.read_bytes()
    first = all_text(pdf, 0)
    assert "ILL statistics: Desk" in first
    assert (
        "Period 2024-03-01 to 2024-04-30, all campuses. Previous period 2024-01-01 to 2024-02-29"
        in first
    )
    assert "Check-ins check-ins 36 20 16" in first  # unit, this period, previous, change
    assert "Not-found scans scans 9 5 4" in first
    assert "Check-ins: sent back to the ILL office check-ins 9 5 4" in first
    text = " ".join(all_text(pdf, i) for i in range(len(pages(pdf))))
    assert "Check-ins by outcome, by month" in text  # the chart's title
    assert "values in check-ins" in text  # its unit and period
    assert "T99000001" not in text and "Reader" not in text


def test_list_behind_a_figure(db: str) -> None:
    code, out, _ = cli(
        "--db", db, "--json", "report", "desk", *PERIOD, "--staff", "office",
        "--branch", "METRO", "--list", "desk.not_found_scans",
    )  # fmt: skip
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 4 and {r["campus"] for r in rows} == {"METRO"}
    assert {r["reference"] for r in rows} == {"X0", "X1", "X2", "X3"}


def test_refusals_say_what_to_do(db: str) -> None:
    code, _, err = cli("--db", db, "report", "desk", *PERIOD, "--staff", "desk")
    assert code == 1
    code, _, err = cli("--db", db, "report", "desk", "--from", "2024-13-01", "--to", "2024-12-31",
                       "--staff", "office")  # fmt: skip
    assert code == 1 and "YYYY-MM-DD" in err
    code, _, err = cli("--db", db, "report", "desk", "--from", "2024-05-01", "--to", "2024-04-01",
                       "--staff", "office")  # fmt: skip
    assert code == 1 and "before it starts" in err
    code, _, err = cli("--db", db, "report", "desk", *PERIOD, "--staff", "office", "--branch", "X")
    assert code == 1 and "There is no branch 'X'" in err
    with pytest.raises(SystemExit) as usage:
        parse(["report", "weather", *PERIOD, "--staff", "office"])
    assert usage.value.code == 2


def test_plain_table_for_people(db: str) -> None:
    code, out, _ = cli("--db", db, "report", "partners", *PERIOD, "--staff", "office")
    assert code == 0
    assert "Partners: 2024-03-01 to 2024-04-30, all campuses" in out
    assert "OKT" in out and "UIU" in out
