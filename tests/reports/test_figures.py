"""Every figure of every report, checked exactly against a library with known counts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.runtime import Runtime
from app.library.vocabulary import Role
from app.reports.compute import compute
from app.reports.drill import drill, drill_keys
from app.reports.figures import Figure, Report, ReportKind, Unit
from tests.reports import known_library
from tests.reports.known_library import PERIOD

# The reports are read by the ILL office; the known library has no staff accounts.
OFFICE = Actor(0, "office", "ILL Office", Role.ILL_OFFICE, "WS-ILL")

# The shape every counted figure has, times its multiplier (see known_library).
COUNTED = {
    ReportKind.BORROWING: {
        "borrowing.placed": 3,  # a loan, a copy and a cancelled request per event
        "borrowing.filled": 2,
        "borrowing.filled_loans": 1,
        "borrowing.filled_copies": 1,
        "borrowing.cancelled": 1,
        "borrowing.never_picked_up": 1,
        "borrowing.in_library_uses": 1,
    },
    ReportKind.LENDING: {
        "lending.received": 1,
        "lending.filled": 1,
        "lending.not_on_shelf": 1,
        "lending.overdue": 1,
        "lending.lost": 1,
    },
    ReportKind.DESK: {
        "desk.check_ins": 4,  # three outcomes and a not-found scan per event
        "desk.check_ins.hold_shelf": 1,
        "desk.check_ins.transit": 1,
        "desk.check_ins.return_to_ill_office": 1,
        "desk.not_found_scans": 1,
        "desk.due_date_discrepancies": 1,
        "desk.closure_moves": 1,
    },
    ReportKind.MONEY: {
        "money.charges_raised": 1,
        "money.charges_removed": 1,
        "money.charges_reported": 1,
    },
    ReportKind.PARTNERS: {"partners.borrowing_filled": 2, "partners.lending_received": 1},
}

D = Decimal
TURNAROUND = {  # request to received / to shipped: (i+1) days
    "current": (3.0, 4.2),
    "previous": (2.0, 2.6),
    "months": {"2024-03": (3.0, 4.2), "2024-04": (3.0, 4.0)},
    "METRO": ((2.5, 3.7), (1.5, 1.9)),
    "NEC": ((3.0, 4.6), (2.0, 2.8)),
}
TO_SHELF = {  # received to hold shelf: 12(i+1) hours
    "current": (1.5, 2.1),
    "previous": (1.0, 1.3),
    "months": {"2024-03": (1.5, 2.1), "2024-04": (1.5, 2.0)},
    "METRO": ((1.25, 1.85), (0.75, 0.95)),
    "NEC": ((1.5, 2.3), (1.0, 1.4)),
}


@pytest.fixture
def reports(rt: Runtime) -> dict[ReportKind, Report]:
    known_library.build(rt)
    return {kind: compute(rt, OFFICE, kind, PERIOD) for kind in ReportKind}


def campuses(figure: Figure) -> dict[str, tuple[Any, Any]]:
    return {c.campus: (c.current, c.previous) for c in figure.by_campus}


def test_every_counted_figure_has_the_known_counts(reports: dict[ReportKind, Report]) -> None:
    for kind, figures in COUNTED.items():
        for key, times in figures.items():
            figure = reports[kind].figure(key)
            assert (figure.current, figure.previous) == (9 * times, 5 * times), key
            assert dict(figure.by_month) == {"2024-03": 5 * times, "2024-04": 4 * times}, key
            assert campuses(figure) == {
                "METRO": (4 * times, 2 * times),
                "NEC": (5 * times, 3 * times),
                "WS-ILL": (0, 0),
            }, key


def test_the_report_says_its_period_and_the_one_before(reports: dict[ReportKind, Report]) -> None:
    report = reports[ReportKind.BORROWING]
    assert report.period_label == "2024-03-01 to 2024-04-30"
    assert report.previous_label == "2024-01-01 to 2024-02-29"
    assert report.campus_label == "all campuses"


def _check_durations(report: Report, key: str, expected: dict[str, Any]) -> None:
    for index, suffix in enumerate(("median", "p90")):
        figure = report.figure(f"{key}.{suffix}")
        assert figure.current == expected["current"][index], figure.key
        assert figure.previous == expected["previous"][index], figure.key
        assert dict(figure.by_month) == {m: v[index] for m, v in expected["months"].items()}
        assert campuses(figure) == {
            "METRO": (expected["METRO"][0][index], expected["METRO"][1][index]),
            "NEC": (expected["NEC"][0][index], expected["NEC"][1][index]),
            "WS-ILL": (None, None),
        }, figure.key


def test_turnarounds_median_and_90th_percentile(reports: dict[ReportKind, Report]) -> None:
    _check_durations(reports[ReportKind.BORROWING], "borrowing.request_to_received", TURNAROUND)
    _check_durations(reports[ReportKind.BORROWING], "borrowing.received_to_hold_shelf", TO_SHELF)
    _check_durations(reports[ReportKind.LENDING], "lending.request_to_shipped", TURNAROUND)


def test_fill_rate_is_filled_of_filled_and_cancelled(reports: dict[ReportKind, Report]) -> None:
    rate = reports[ReportKind.BORROWING].figure("borrowing.fill_rate")
    assert (rate.current, rate.previous) == (66.7, 66.7)
    assert dict(rate.by_month) == {"2024-03": 66.7, "2024-04": 66.7}
    assert campuses(rate) == {"METRO": (66.7, 66.7), "NEC": (66.7, 66.7), "WS-ILL": (None, None)}


def test_cancellations_by_reason(reports: dict[ReportKind, Report]) -> None:
    rows = reports[ReportKind.BORROWING].breakdown("borrowing.cancelled_by_reason").rows
    assert [(r.name, r.current, r.previous) for r in rows] == [
        ("Not available from any lender", 5, 3),
        ("Duplicate request", 4, 2),
    ]


def test_check_ins_by_outcome(reports: dict[ReportKind, Report]) -> None:
    rows = reports[ReportKind.DESK].breakdown("desk.check_ins_by_outcome").rows
    assert [(r.name, r.current, r.previous) for r in rows] == [
        ("hold_shelf", 9, 5),
        ("not_found", 9, 5),
        ("return_to_ill_office", 9, 5),
        ("transit", 9, 5),
    ]


def test_money_amounts(reports: dict[ReportKind, Report]) -> None:
    money = reports[ReportKind.MONEY]
    for name in ("raised", "removed", "reported"):
        figure = money.figure(f"money.charges_{name}_amount")
        assert (figure.current, figure.previous) == (D("106.00"), D("54.00"))
        assert dict(figure.by_month) == {"2024-03": D("58.00"), "2024-04": D("48.00")}
        assert campuses(figure) == {
            "METRO": (D("46.00"), D("21.00")),
            "NEC": (D("60.00"), D("33.00")),
            "WS-ILL": (D("0.00"), D("0.00")),
        }
    received, paid = money.figure("money.ifm_received"), money.figure("money.ifm_paid")
    assert (received.current, received.previous) == (D("225.00"), D("125.00"))
    assert dict(received.by_month) == {"2024-03": D("125.00"), "2024-04": D("100.00")}
    assert campuses(received)["NEC"] == (D("125.00"), D("75.00"))
    assert (paid.current, paid.previous) == (D("360.00"), D("200.00"))
    assert campuses(paid)["METRO"] == (D("160.00"), D("80.00"))
    kinds = money.breakdown("money.charges_raised_by_kind").rows
    assert [(r.name, r.current, r.previous) for r in kinds] == [
        ("replacement", D("58.00"), D("32.00")),
        ("processing_fee", D("48.00"), D("22.00")),
    ]


def test_ifm_balance_per_partner_runs_on_from_before_the_period(
    reports: dict[ReportKind, Report],
) -> None:
    (series,) = reports[ReportKind.MONEY].series
    assert series.months == ("2024-03", "2024-04")
    assert dict(series.lines) == {
        "OKT": (D("-400.00"), D("-560.00")),
        "UIU": (D("200.00"), D("200.00")),
        "ZCU": (D("50.00"), D("150.00")),
    }


def test_top_lenders_and_borrowers(reports: dict[ReportKind, Report]) -> None:
    partners = reports[ReportKind.PARTNERS]
    lenders = partners.breakdown("partners.top_lenders").rows
    borrowers = partners.breakdown("partners.top_borrowers").rows
    assert [(r.name, r.current, r.previous) for r in lenders] == [("OKT", 10, 6), ("TXA", 8, 4)]
    assert [(r.name, r.current, r.previous) for r in borrowers] == [("UIU", 5, 3), ("ZCU", 4, 2)]


def test_one_campus_counts_only_that_campus(rt: Runtime) -> None:
    known_library.build(rt)
    report = compute(rt, OFFICE, ReportKind.BORROWING, PERIOD, "nec")
    placed = report.figure("borrowing.placed")
    assert report.campus == "NEC"
    assert (placed.current, placed.previous) == (15, 9)
    assert campuses(placed) == {"NEC": (15, 9)}
    assert dict(placed.by_month) == {"2024-03": 9, "2024-04": 6}
    received = report.figure("borrowing.request_to_received.median")
    assert (received.current, received.previous) == (3.0, 2.0)


def test_an_unknown_campus_is_refused_with_the_known_ones(rt: Runtime) -> None:
    known_library.build(rt)
    with pytest.raises(InvalidInput, match=r"no branch 'MOON'\. Choose one of: METRO, NEC"):
        compute(rt, OFFICE, ReportKind.DESK, PERIOD, "MOON")


def test_no_report_names_a_patron(reports: dict[ReportKind, Report]) -> None:
    text = repr(reports)
    for private in ("Ada", "Reader", "T99000001", "ada@example.edu"):
        assert private not in text


def test_drill_down_lists_the_records_behind_a_figure(rt: Runtime) -> None:
    known_library.build(rt)
    report = compute(rt, OFFICE, ReportKind.BORROWING, PERIOD)
    cancelled = report.figure("borrowing.cancelled")
    listed = drill(rt, OFFICE, "borrowing.cancelled", PERIOD)
    assert cancelled.drill == "borrowing.cancelled"
    assert listed.total == cancelled.current == len(listed.rows) == 9
    assert [r.at for r in listed.rows] == sorted(r.at for r in listed.rows)
    assert {r.campus for r in listed.rows} == {"METRO", "NEC"}
    assert {r.detail for r in listed.rows} == {
        "Not available from any lender",
        "Duplicate request",
    }
    nec = drill(rt, OFFICE, "desk.check_ins.transit", PERIOD, "NEC")
    assert nec.total == 5 and {r.campus for r in nec.rows} == {"NEC"}
    assert all(r.reference.startswith("KB") for r in nec.rows)
    assert drill(rt, OFFICE, "lending.overdue", PERIOD).total == 9
    assert drill(rt, OFFICE, "money.charges_raised", PERIOD, limit=3).total == 9
    assert len(drill(rt, OFFICE, "money.charges_raised", PERIOD, limit=3).rows) == 3
    with pytest.raises(InvalidInput, match="No list stands behind"):
        drill(rt, OFFICE, "borrowing.fill_rate", PERIOD)


def test_every_drill_down_lists_exactly_what_its_figure_counts(rt: Runtime) -> None:
    known_library.build(rt)
    for kind in ReportKind:
        for campus in (None, "NEC"):
            for figure in compute(rt, OFFICE, kind, PERIOD, campus).figures:
                if figure.drill is None:
                    continue
                assert figure.drill in drill_keys()
                listed = drill(rt, OFFICE, figure.drill, PERIOD, campus)
                if figure.unit is Unit.USD:  # an amount: its transactions are listed
                    assert listed.total == (9 if campus is None else 5), figure.key
                else:
                    assert listed.total == figure.current, (figure.key, campus)


def test_a_month_with_nothing_timed_is_a_gap_in_a_line_and_zero_in_a_bar() -> None:
    from datetime import UTC, date, datetime
    from typing import cast

    from app.reports.figure_making import Scope, _month_chart
    from app.reports.figures import ChartKind
    from app.reports.periods import Period

    scope = Scope(
        conn=cast(Any, None),
        period=Period(date(2024, 3, 1), date(2024, 5, 31)),
        campus_id=None,
        codes={},
        today=date(2024, 6, 1),
        now=datetime(2024, 6, 1, tzinfo=UTC),
    )
    timed = Figure("t", "Request to received, median", Unit.DAYS, 4, 5,
                   (("2024-03", 4), ("2024-05", 6)), ())  # fmt: skip
    line = _month_chart(scope, "Turnaround", "days", ChartKind.LINE, timed)
    assert line.series == (("Request to received, median", (4.0, None, 6.0)),)
    bar = _month_chart(scope, "Counts", "requests", ChartKind.BAR, timed)
    assert bar.series == (("Request to received, median", (4.0, 0.0, 6.0)),)
