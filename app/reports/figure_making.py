"""What every report is made of: its scope (the period, the campus, the connection) and the
figures, breakdowns and charts made from counted rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from app.reports.figures import (
    Breakdown,
    BreakdownRow,
    CampusValue,
    Chart,
    ChartKind,
    Figure,
    Number,
    Unit,
)
from app.reports.measures import (
    CURRENT,
    PREVIOUS,
    Counted,
    Quantiles,
    Source,
    count,
    percentiles,
)
from app.reports.periods import Period

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Scope:
    """What one report reads: the connection, the period, the campus, the branch codes."""

    conn: Connection
    period: Period
    campus_id: int | None
    codes: dict[int, str]
    today: date
    now: datetime

    def count(self, source: Source) -> list[Counted]:
        return count(self.conn, source, self.period, self.campus_id)

    def code(self, branch_id: int | None) -> str:
        return "" if branch_id is None else self.codes.get(branch_id, str(branch_id))

    @property
    def campuses(self) -> list[str]:
        """Campus columns: the one chosen, or every branch."""
        if self.campus_id is not None:
            return [self.code(self.campus_id)]
        return sorted(self.codes.values())


def _zero(amount: bool) -> Number:
    return Decimal("0.00") if amount else 0


def _value(row: Counted, amount: bool) -> Number:
    if not amount:
        return row.count
    return Decimal(str(row.amount or 0)).quantize(CENT)


def counted_figure(
    scope: Scope,
    key: str,
    label: str,
    unit: Unit,
    rows: Iterable[Counted],
    *,
    amount: bool = False,
    drill: str | None = None,
    group: str | None = None,
) -> Figure:
    """Sum the grouped rows into the period totals, months and campuses."""
    totals: dict[str, Any] = {CURRENT: _zero(amount), PREVIOUS: _zero(amount)}
    months: dict[str, Any] = {m: _zero(amount) for m in scope.period.months()}
    campus: dict[str, dict[str, Any]] = {
        c: {CURRENT: _zero(amount), PREVIOUS: _zero(amount)} for c in scope.campuses
    }
    for row in rows:
        if group is not None and row.group != group:
            continue
        value = _value(row, amount)
        totals[row.which] += value
        if row.which == CURRENT and row.month in months:
            months[row.month] += value
        code = scope.code(row.campus)
        campus.setdefault(code, {CURRENT: _zero(amount), PREVIOUS: _zero(amount)})
        campus[code][row.which] += value
    return Figure(
        key=key,
        label=label,
        unit=unit,
        current=totals[CURRENT],
        previous=totals[PREVIOUS],
        by_month=tuple(months.items()),
        by_campus=tuple(CampusValue(c, v[CURRENT], v[PREVIOUS]) for c, v in campus.items()),
        drill=drill,
    )


def rate_figure(key: str, label: str, part: Figure, other: Figure) -> Figure:
    """part / (part + other) as a percentage, for totals, months and campuses alike."""

    def pct(a: Number, b: Number) -> float | None:
        whole = (a or 0) + (b or 0)  # type: ignore[operator]
        return None if not whole else round(100.0 * float(a or 0) / float(whole), 1)

    others = {c.campus: c for c in other.by_campus}
    other_months = dict(other.by_month)
    return Figure(
        key=key,
        label=label,
        unit=Unit.PERCENT,
        current=pct(part.current, other.current),
        previous=pct(part.previous, other.previous),
        by_month=tuple((m, pct(v, other_months.get(m))) for m, v in part.by_month),
        by_campus=tuple(
            CampusValue(
                c.campus,
                pct(c.current, others[c.campus].current if c.campus in others else 0),
                pct(c.previous, others[c.campus].previous if c.campus in others else 0),
            )
            for c in part.by_campus
        ),
    )


def duration_figures(
    scope: Scope, key: str, label: str, sources_: Sequence[Source]
) -> tuple[Figure, Figure, list[Counted]]:
    """Median and 90th percentile of a turnaround in days, and the events it timed (their
    counts come with the same query)."""
    assert len(sources_) == 1
    source = sources_[0]
    conn, period, campus = scope.conn, scope.period, scope.campus_id
    counted, totals, months, campuses = percentiles(conn, source, period, campus)
    figures = []
    for index, (suffix, name) in enumerate((("median", "median"), ("p90", "90th percentile"))):
        by_campus: dict[str, list[Number]] = {c: [None, None] for c in scope.campuses}
        for (which, branch), values in campuses.items():
            slot = by_campus.setdefault(scope.code(branch), [None, None])
            slot[0 if which == CURRENT else 1] = values[index]
        figures.append(
            Figure(
                key=f"{key}.{suffix}",
                label=f"{label}, {name}",
                unit=Unit.DAYS,
                current=_pick(totals, (CURRENT,), index),
                previous=_pick(totals, (PREVIOUS,), index),
                by_month=tuple((m, _pick(months, (CURRENT, m), index)) for m in period.months()),
                by_campus=tuple(CampusValue(c, v[0], v[1]) for c, v in by_campus.items()),
            )
        )
    return figures[0], figures[1], counted


def _pick(found: Quantiles, key: tuple[Any, ...], index: int) -> float | None:
    value = found.get(key)
    return None if value is None else value[index]


def breakdown(
    key: str,
    label: str,
    unit: Unit,
    column: str,
    rows: Iterable[Counted],
    *,
    amount: bool = False,
    limit: int | None = None,
) -> Breakdown:
    sums: dict[str, dict[str, Any]] = defaultdict(
        lambda: {CURRENT: _zero(amount), PREVIOUS: _zero(amount)}
    )
    for row in rows:
        sums[row.group or "(none)"][row.which] += _value(row, amount)
    ordered = sorted(sums.items(), key=lambda kv: (-kv[1][CURRENT], -kv[1][PREVIOUS], kv[0]))
    if limit is not None:
        ordered = ordered[:limit]
    return Breakdown(
        key=key,
        label=label,
        unit=unit,
        column=column,
        rows=tuple(BreakdownRow(name, v[CURRENT], v[PREVIOUS]) for name, v in ordered),
    )


def _month_chart(scope: Scope, title: str, unit: str, kind: ChartKind, *figures: Figure) -> Chart:
    months = scope.period.months()
    return Chart(
        title=title,
        unit=unit,
        kind=kind,
        categories=months,
        series=tuple((f.label, _by_month(f, months, kind)) for f in figures),
        period=scope.period.label(),
    )


def _by_month(figure: Figure, months: Sequence[str], kind: ChartKind) -> tuple[float | None, ...]:
    """A figure's value per month. A month with nothing counted is 0 on a bar chart; a line
    (a turnaround) has a gap there, not a fall to zero days that never happened."""
    values = dict(figure.by_month)
    if kind is ChartKind.LINE:
        return tuple(None if values.get(m) is None else float(values[m] or 0) for m in months)
    return tuple(float(values.get(m) or 0) for m in months)
