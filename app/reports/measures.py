"""Aggregate queries shared by every report: counts and percentiles by period, month, campus.

A `Source` describes events of one kind (when each happened, at which campus, where the
rows are). Each query reads the current and the previous period in one pass and groups by
which period, month and campus, so the database returns a few dozen rows however many
events there are. Both databases run the same statements except for three expressions:
the month of a moment, the days between two moments and the percentile (PostgreSQL's
`percentile_cont`; SQLite has none, so it returns the computed durations sorted, and they
are interpolated the same way in one pass).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Float,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    tuple_,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from app.reports.periods import Period

PERCENTILES = (0.5, 0.9)
CURRENT, PREVIOUS = "current", "previous"


Expr = Any  # a column or SQL expression (mapped attributes included)


@dataclass(frozen=True)
class Source:
    """Events of one kind: the moment each is counted at, its campus (a branch id)."""

    at: Expr
    campus: Expr
    froms: FromClause
    where: tuple[Expr, ...] = ()
    amount: Expr | None = None
    since: Expr | None = None  # a duration's start: duration = at - since
    group: Expr | None = None  # a further split (reason, outcome, partner)
    by_date: bool = False  # `at` is a DATE column, not a moment
    reference: Expr | None = None  # request number or barcode, for drill-down
    title: Expr | None = None


def _selecting(statement: Any, source: Source) -> Any:
    return statement.select_from(source.froms)


@dataclass(frozen=True)
class Counted:
    which: str  # CURRENT or PREVIOUS
    month: str
    campus: int | None
    group: str | None
    count: int
    amount: Any


def bounds(source: Source, period: Period) -> tuple[date | datetime, date | datetime]:
    if source.by_date:
        from datetime import timedelta

        return period.start, period.end + timedelta(days=1)
    return period.lower(), period.upper()


def month_of(conn: Connection, source: Source) -> ColumnElement[Any]:
    """The month each event falls in; `month_key` turns what comes back into YYYY-MM."""
    if conn.dialect.name == "postgresql":
        # date_trunc is cheaper per row than formatting with to_char; months are formatted
        # once per group instead.
        moment = source.at if source.by_date else func.timezone("UTC", source.at)
        return func.date_trunc("month", moment)
    # SQLite keeps moments and dates as ISO text: the month is its first seven characters
    # (much cheaper per row than parsing it with strftime).
    return func.substr(source.at, 1, 7)


def month_key(value: Any) -> str:
    if isinstance(value, date | datetime):
        return f"{value.year:04d}-{value.month:02d}"
    return str(value)[:7]


def days_between(conn: Connection, later: ColumnElement[Any], earlier: ColumnElement[Any]) -> Any:
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def _window(
    conn: Connection, source: Source, period: Period, campus: int | None
) -> tuple[Any, list[ColumnElement[bool]]]:
    """The `which period` column and the WHERE clause covering both periods."""
    previous = period.previous()
    first, _ = bounds(source, previous)
    split, last = bounds(source, period)
    which = case((source.at >= split, literal(CURRENT)), else_=literal(PREVIOUS))
    where = [*source.where, source.at >= first, source.at < last]
    if campus is not None:
        where.append(source.campus == campus)
    return which, where


def count(conn: Connection, source: Source, period: Period, campus: int | None) -> list[Counted]:
    """Events (and their amounts) per period, month, campus and group."""
    which, where = _window(conn, source, period, campus)
    columns = [
        which.label("which"),
        month_of(conn, source).label("month"),
        source.campus.label("campus"),
        (source.group if source.group is not None else null()).label("grp"),
        (source.amount if source.amount is not None else literal_column("0")).label("amount"),
    ]
    inner = _selecting(select(*columns), source).where(*where).subquery()
    keys = (inner.c.which, inner.c.month, inner.c.campus, inner.c.grp)
    statement = select(*keys, func.count(), func.sum(inner.c.amount)).group_by(*keys)
    return [
        Counted(r[0], month_key(r[1]), r[2], None if r[3] is None else str(r[3]), int(r[4]), r[5])
        for r in conn.execute(statement)
    ]


Quantiles = dict[tuple[Any, ...], tuple[float | None, ...]]
GROUPINGS = (("which",), ("which", "month"), ("which", "campus"))


def percentiles(
    conn: Connection, source: Source, period: Period, campus: int | None
) -> tuple[list[Counted], Quantiles, Quantiles, Quantiles]:
    """The events counted (as `count` does, without groups), and the median and 90th
    percentile of `at - since` in days: per period, per period and month, per period and
    campus (the keys of each dict), interpolated as percentile_cont does.

    PostgreSQL computes them (`percentile_cont`); SQLite has no percentile function, so it
    computes the durations and returns them sorted, and the two nearest are interpolated
    here, in one pass for all three groupings.
    """
    assert source.since is not None
    which, where = _window(conn, source, period, campus)
    inner = (
        _selecting(
            select(
                which.label("which"),
                month_of(conn, source).label("month"),
                source.campus.label("campus"),
                cast(days_between(conn, source.at, source.since), Float).label("days"),
            ),
            source,
        )
        .where(*where)
        .subquery()
    )
    if conn.dialect.name == "postgresql":
        # One pass for the three groupings; GROUPING() says which set a row belongs to
        # (a bit set for each of month, campus that the set leaves out).
        c = inner.c
        quantiles = [func.percentile_cont(p).within_group(c.days.asc()) for p in PERCENTILES]
        sets = func.grouping_sets(
            tuple_(c.which, c.month, c.campus),
            tuple_(c.which),
            tuple_(c.which, c.month),
            tuple_(c.which, c.campus),
        )
        statement = select(
            func.grouping(c.month, c.campus),
            c.which,
            c.month,
            c.campus,
            func.count(),
            *quantiles,
        ).group_by(sets)
        counted: list[Counted] = []
        found: tuple[Quantiles, Quantiles, Quantiles] = ({}, {}, {})
        for bits, which_, month, campus_, events, *values in conn.execute(statement):
            days = tuple(_days(v) for v in values)
            if bits == 0:
                counted.append(Counted(which_, month_key(month), campus_, None, int(events), 0))
            elif bits == 3:
                found[0][(which_,)] = days
            elif bits == 1:
                found[1][(which_, month_key(month))] = days
            else:
                found[2][(which_, campus_)] = days
        return counted, *found
    ordered = select(inner.c.which, inner.c.month, inner.c.campus, inner.c.days).order_by(
        inner.c.days
    )
    groups: list[dict[tuple[Any, ...], list[float]]] = [{}, {}, {}]
    tally: dict[tuple[Any, ...], int] = {}
    for which_, month, campus_, days in conn.execute(ordered):
        value = float(days)
        tally[(which_, month, campus_)] = tally.get((which_, month, campus_), 0) + 1
        groups[0].setdefault((which_,), []).append(value)
        groups[1].setdefault((which_, month), []).append(value)
        groups[2].setdefault((which_, campus_), []).append(value)
    totals, months, campuses = (
        {key: tuple(_days(_interpolated(v, p)) for p in PERCENTILES) for key, v in g.items()}
        for g in groups
    )
    counted = [Counted(w, m, c, None, n, 0) for (w, m, c), n in tally.items()]
    return counted, totals, months, campuses


def _interpolated(ordered: list[float], p: float) -> float:
    """percentile_cont over sorted values: between the two nearest ranks."""
    at = p * (len(ordered) - 1)
    low, high = math.floor(at), math.ceil(at)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def _days(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def in_period(source: Source, period: Period, campus: int | None) -> list[ColumnElement[bool]]:
    """The WHERE clause of one period's events (drill-down)."""
    first, last = bounds(source, period)
    where = [*source.where, source.at >= first, source.at < last]
    if campus is not None:
        where.append(source.campus == campus)
    return [and_(*where)]
