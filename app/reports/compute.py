"""Build each report from the aggregate queries: totals, months, campuses, previous period."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from decimal import Decimal

from sqlalchemy import Connection, select

from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.runtime import Runtime
from app.reports import sources
from app.reports.figure_making import (
    CENT,
    Scope,
    _month_chart,
    breakdown,
    counted_figure,
    duration_figures,
    rate_figure,
)
from app.reports.figures import (
    Breakdown,
    Chart,
    ChartKind,
    Figure,
    Number,
    Report,
    ReportKind,
    Series,
    Unit,
)
from app.reports.measures import (
    Counted,
    month_key,
)
from app.reports.periods import Period
from db.models import Branch, IfmDirection, Role

TOP_PARTNERS = 10


# -- the reports ----------------------------------------------------------------------------


def borrowing(scope: Scope) -> Report:
    placed_rows = scope.count(sources.requests_placed())
    # The loans received are counted by the query that times them.
    *received, loans_rows = duration_figures(
        scope,
        "borrowing.request_to_received",
        "Request to received",
        [sources.loans_received()],
    )
    copies_rows = scope.count(sources.copies_delivered())
    cancelled_rows = scope.count(sources.requests_cancelled())
    placed = counted_figure(
        scope,
        "borrowing.placed",
        "Requests placed",
        Unit.REQUESTS,
        placed_rows,
        drill="borrowing.placed",
    )
    loans = counted_figure(
        scope,
        "borrowing.filled_loans",
        "Filled: loans received",
        Unit.REQUESTS,
        loans_rows,
        drill="borrowing.filled_loans",
    )
    copies = counted_figure(
        scope,
        "borrowing.filled_copies",
        "Filled: copies delivered",
        Unit.REQUESTS,
        copies_rows,
        drill="borrowing.filled_copies",
    )
    filled = counted_figure(
        scope, "borrowing.filled", "Requests filled", Unit.REQUESTS, [*loans_rows, *copies_rows]
    )
    cancelled = counted_figure(
        scope,
        "borrowing.cancelled",
        "Requests cancelled",
        Unit.REQUESTS,
        cancelled_rows,
        drill="borrowing.cancelled",
    )
    fill_rate = rate_figure(
        "borrowing.fill_rate", "Fill rate (filled of filled + cancelled)", filled, cancelled
    )
    *shelf, _ = duration_figures(
        scope,
        "borrowing.received_to_hold_shelf",
        "Received to hold shelf",
        [sources.to_hold_shelf()],
    )
    never = counted_figure(
        scope,
        "borrowing.never_picked_up",
        "Items never picked up",
        Unit.ITEMS,
        scope.count(sources.never_picked_up()),
        drill="borrowing.never_picked_up",
    )
    uses = counted_figure(
        scope,
        "borrowing.in_library_uses",
        "In-library-use uses",
        Unit.USES,
        scope.count(sources.in_library_uses()),
        drill="borrowing.in_library_uses",
    )
    figures = (placed, filled, loans, copies, cancelled, fill_rate, *received, *shelf, never, uses)
    return _report(
        scope,
        ReportKind.BORROWING,
        "Borrowing",
        figures,
        breakdowns=(
            breakdown(
                "borrowing.cancelled_by_reason",
                "Cancelled, by reason",
                Unit.REQUESTS,
                "Reason",
                cancelled_rows,
            ),
        ),
        charts=(
            _month_chart(
                scope,
                "Borrowing requests by month",
                "requests",
                ChartKind.BAR,
                placed,
                filled,
                cancelled,
            ),
            _month_chart(
                scope,
                "Borrowing turnaround by month",
                "days",
                ChartKind.LINE,
                received[0],
                received[1],
                shelf[0],
            ),
        ),
    )


def lending(scope: Scope) -> Report:
    received_rows = scope.count(sources.lending_received())
    *turnaround, shipped_rows = duration_figures(
        scope, "lending.request_to_shipped", "Request to shipped", [sources.lending_shipped()]
    )
    received = counted_figure(
        scope,
        "lending.received",
        "Requests received from other libraries",
        Unit.REQUESTS,
        received_rows,
        drill="lending.received",
    )
    filled = counted_figure(
        scope,
        "lending.filled",
        "Requests filled (shipped or scan sent)",
        Unit.REQUESTS,
        shipped_rows,
        drill="lending.filled",
    )
    missing = counted_figure(
        scope,
        "lending.not_on_shelf",
        "Not on shelf",
        Unit.REQUESTS,
        scope.count(sources.lending_not_on_shelf()),
        drill="lending.not_on_shelf",
    )
    overdue = counted_figure(
        scope,
        "lending.overdue",
        "Our items overdue at other libraries",
        Unit.ITEMS,
        scope.count(sources.lending_overdue(scope.conn, scope.today)),
        drill="lending.overdue",
    )
    lost = counted_figure(
        scope,
        "lending.lost",
        "Our items lost at other libraries",
        Unit.ITEMS,
        scope.count(sources.lending_lost()),
        drill="lending.lost",
    )
    return _report(
        scope,
        ReportKind.LENDING,
        "Lending",
        (received, filled, missing, *turnaround, overdue, lost),
        charts=(
            _month_chart(
                scope,
                "Lending requests by month",
                "requests",
                ChartKind.BAR,
                received,
                filled,
                missing,
            ),
            _month_chart(scope, "Lending turnaround by month", "days", ChartKind.LINE, *turnaround),
        ),
    )


CHECK_IN_OUTCOMES = (
    ("hold_shelf", "put on the hold shelf"),
    ("transit", "routed to another branch"),
    ("return_to_ill_office", "sent back to the ILL office"),
)


def desk(scope: Scope) -> Report:
    checkin_rows = scope.count(sources.check_ins())
    not_found_rows = scope.count(sources.not_found_scans())
    total = counted_figure(
        scope,
        "desk.check_ins",
        "Check-ins",
        Unit.CHECK_INS,
        [*checkin_rows, *not_found_rows],  # listed by outcome and as not-found scans
    )
    by_outcome = [
        counted_figure(
            scope,
            f"desk.check_ins.{code}",
            f"Check-ins: {label}",
            Unit.CHECK_INS,
            checkin_rows,
            group=code,
            drill=f"desk.check_ins.{code}",
        )
        for code, label in CHECK_IN_OUTCOMES
    ]
    not_found = counted_figure(
        scope,
        "desk.not_found_scans",
        "Not-found scans",
        Unit.SCANS,
        not_found_rows,
        drill="desk.not_found_scans",
    )
    discrepancies = counted_figure(
        scope,
        "desk.due_date_discrepancies",
        "Due-date discrepancies logged",
        Unit.ENTRIES,
        scope.count(sources.discrepancies()),
        drill="desk.due_date_discrepancies",
    )
    moves = counted_figure(
        scope,
        "desk.closure_moves",
        "Checkouts whose due date moved for a closure",
        Unit.CHECKOUTS,
        scope.count(sources.closure_moves()),
        drill="desk.closure_moves",
    )
    outcome_rows = [*checkin_rows, *(_as_group(r, "not_found") for r in not_found_rows)]
    return _report(
        scope,
        ReportKind.DESK,
        "Desk",
        (total, *by_outcome, not_found, discrepancies, moves),
        breakdowns=(
            breakdown(
                "desk.check_ins_by_outcome",
                "Check-ins, by outcome",
                Unit.CHECK_INS,
                "Outcome",
                outcome_rows,
            ),
        ),
        charts=(
            _month_chart(
                scope,
                "Check-ins by outcome, by month",
                "check-ins",
                ChartKind.BAR,
                *by_outcome,
                not_found,
            ),
        ),
    )


def _as_group(row: Counted, group: str) -> Counted:
    return Counted(row.which, row.month, row.campus, group, row.count, row.amount)


def money(scope: Scope) -> Report:
    raised_rows = scope.count(sources.charges_raised())
    figures: list[Figure] = []
    for name, label, rows in (
        ("raised", "Charges raised", raised_rows),
        ("removed", "Charges removed", scope.count(sources.charges_removed())),
        ("reported", "Charges reported to the bursar", scope.count(sources.charges_reported())),
    ):
        figures.append(
            counted_figure(
                scope,
                f"money.charges_{name}",
                label,
                Unit.CHARGES,
                rows,
                drill=f"money.charges_{name}",
            )
        )
        figures.append(
            counted_figure(
                scope,
                f"money.charges_{name}_amount",
                f"{label}, amount",
                Unit.USD,
                rows,
                amount=True,
            )
        )
    received_rows = scope.count(sources.ifm(IfmDirection.WE_RECEIVE))
    paid_rows = scope.count(sources.ifm(IfmDirection.WE_PAY))
    received = counted_figure(
        scope,
        "money.ifm_received",
        "IFM received",
        Unit.USD,
        received_rows,
        amount=True,
        drill="money.ifm_received",
    )
    paid = counted_figure(
        scope,
        "money.ifm_paid",
        "IFM paid",
        Unit.USD,
        paid_rows,
        amount=True,
        drill="money.ifm_paid",
    )
    balance = ifm_balances(scope)
    return _report(
        scope,
        ReportKind.MONEY,
        "Money",
        (*figures, received, paid),
        breakdowns=(
            breakdown(
                "money.charges_raised_by_kind",
                "Charges raised, by kind",
                Unit.USD,
                "Kind",
                raised_rows,
                amount=True,
            ),
        ),
        series=(balance,),
        charts=(
            _month_chart(
                scope,
                "Charges and IFM by month",
                "USD",
                ChartKind.BAR,
                figures[1],
                received,
                paid,
            ),
            Chart(
                title="IFM balance per partner (received minus paid, running)",
                unit="USD",
                kind=ChartKind.LINE,
                categories=balance.months,
                series=tuple(
                    (name, tuple(float(v or 0) for v in values)) for name, values in balance.lines
                ),
                period=scope.period.label(),
            ),
        ),
        notes=(
            "Payments of charges are collected by the bursar and are not recorded in "
            "ILL Desk, so no 'charges paid' figure is given.",
        ),
    )


def ifm_balances(scope: Scope) -> Series:
    """Each partner's running IFM balance (received minus paid) at the end of each month."""
    rows = sources.ifm_balance_rows(scope.conn, scope.period.upper(), scope.campus_id)
    months = scope.period.months()
    moves: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for partner, truncated, direction, amount in rows:
        month = month_key(truncated)
        sign = 1 if direction == IfmDirection.WE_RECEIVE else -1
        moves[partner][month] += sign * Decimal(str(amount or 0))
    lines = []
    for partner in sorted(moves):
        before = sum((v for m, v in moves[partner].items() if m < months[0]), Decimal(0))
        running, values = before, []
        for month in months:
            running += moves[partner].get(month, Decimal(0))
            values.append(running.quantize(CENT))
        lines.append((partner, tuple[Number, ...](values)))
    return Series(
        key="money.ifm_balance",
        label="IFM balance per partner",
        unit=Unit.USD,
        months=months,
        lines=tuple(lines),
    )


def partners(scope: Scope) -> Report:
    filled_rows = [
        *scope.count(sources.loans_received()),
        *scope.count(sources.copies_delivered()),
    ]
    received_rows = scope.count(sources.lending_received())
    lenders = breakdown(
        "partners.top_lenders",
        "Top lenders (our requests they filled)",
        Unit.REQUESTS,
        "OCLC symbol",
        filled_rows,
        limit=TOP_PARTNERS,
    )
    borrowers = breakdown(
        "partners.top_borrowers",
        "Top borrowers (requests they sent us)",
        Unit.REQUESTS,
        "OCLC symbol",
        received_rows,
        limit=TOP_PARTNERS,
    )
    filled = counted_figure(
        scope,
        "partners.borrowing_filled",
        "Borrowing requests filled",
        Unit.REQUESTS,
        filled_rows,
    )
    received = counted_figure(
        scope,
        "partners.lending_received",
        "Lending requests received",
        Unit.REQUESTS,
        received_rows,
    )
    return _report(
        scope,
        ReportKind.PARTNERS,
        "Partners",
        (filled, received),
        breakdowns=(lenders, borrowers),
        charts=tuple(
            Chart(
                title=b.label,
                unit="requests",
                kind=ChartKind.BAR,
                categories=tuple(r.name for r in b.rows),
                series=(
                    ("This period", tuple(float(r.current or 0) for r in b.rows)),
                    ("Previous period", tuple(float(r.previous or 0) for r in b.rows)),
                ),
                period=scope.period.label(),
            )
            for b in (lenders, borrowers)
            if b.rows
        ),
    )


BUILDERS: dict[ReportKind, Callable[[Scope], Report]] = {
    ReportKind.BORROWING: borrowing,
    ReportKind.LENDING: lending,
    ReportKind.DESK: desk,
    ReportKind.MONEY: money,
    ReportKind.PARTNERS: partners,
}


def _report(
    scope: Scope,
    kind: ReportKind,
    title: str,
    figures: Sequence[Figure],
    *,
    breakdowns: Sequence[Breakdown] = (),
    series: Sequence[Series] = (),
    charts: Sequence[Chart] = (),
    notes: Sequence[str] = (),
) -> Report:
    previous = scope.period.previous()
    return Report(
        kind=kind,
        title=title,
        start=scope.period.start,
        end=scope.period.end,
        previous_start=previous.start,
        previous_end=previous.end,
        campus=None if scope.campus_id is None else scope.code(scope.campus_id),
        generated_at=scope.now,
        figures=tuple(figures),
        breakdowns=tuple(breakdowns),
        series=tuple(series),
        charts=tuple(charts),
        notes=tuple(notes),
    )


def campus_id(conn: Connection, code: str | None) -> int | None:
    if not code:
        return None
    found = conn.execute(select(Branch.id).where(Branch.code == code.strip().upper())).first()
    if found is None:
        known = ", ".join(sorted(r[0] for r in conn.execute(select(Branch.code))))
        raise InvalidInput(f"There is no branch '{code}'. Choose one of: {known}.")
    return int(found[0])


def require_reports_role(actor: Actor) -> None:
    """Statistics are for the ILL office and administrators."""
    actor.require(Role.ILL_OFFICE, "Statistics reports")


def compute(
    rt: Runtime, actor: Actor, kind: ReportKind, period: Period, campus: str | None = None
) -> Report:
    """One report; reads only, in one read-only session."""
    require_reports_role(actor)
    with rt.db.reading() as session:
        conn = session.connection()
        codes = {int(i): str(c) for i, c in conn.execute(select(Branch.id, Branch.code))}
        scope = Scope(
            conn, period, campus_id(conn, campus), codes, rt.clock.today(), rt.clock.now()
        )
        return BUILDERS[kind](scope)
