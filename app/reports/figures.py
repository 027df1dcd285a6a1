"""What a report holds: plain frozen values, with no database code.

Printing and the screen read these; the CLI turns them into JSON and CSV. A figure has its
total for the period and the previous one, its months and its campuses. No value names a
patron: reports count, and drill-down lists requests and items only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

Number = int | float | Decimal | None


class ReportKind(StrEnum):
    BORROWING = "borrowing"
    LENDING = "lending"
    DESK = "desk"
    MONEY = "money"
    PARTNERS = "partners"


class Unit(StrEnum):
    REQUESTS = "requests"
    ITEMS = "items"
    USES = "uses"
    SCANS = "scans"
    CHECK_INS = "check-ins"
    CHECKOUTS = "checkouts"
    ENTRIES = "entries"
    CHARGES = "charges"
    PERCENT = "%"
    DAYS = "days"
    USD = "USD"


@dataclass(frozen=True)
class CampusValue:
    campus: str  # branch code; "" for records tied to no campus
    current: Number
    previous: Number


@dataclass(frozen=True)
class Figure:
    """One number of the report, e.g. borrowing requests placed.

    `drill` names the list behind the figure (see `app.reports.drill`), None when the
    figure is a rate or a percentile with no single list behind it.
    """

    key: str
    label: str
    unit: Unit
    current: Number
    previous: Number
    by_month: tuple[tuple[str, Number], ...]  # current period, YYYY-MM
    by_campus: tuple[CampusValue, ...]
    drill: str | None = None

    def change(self) -> Number:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous  # type: ignore[operator]


@dataclass(frozen=True)
class BreakdownRow:
    name: str
    current: Number
    previous: Number


@dataclass(frozen=True)
class Breakdown:
    """A figure split by something other than campus or month (reason, outcome, partner)."""

    key: str
    label: str
    unit: Unit
    column: str  # what the rows are, e.g. "Reason"
    rows: tuple[BreakdownRow, ...]


@dataclass(frozen=True)
class Series:
    """Values over the months, one line per name (e.g. IFM balance per partner)."""

    key: str
    label: str
    unit: Unit
    months: tuple[str, ...]
    lines: tuple[tuple[str, tuple[Number, ...]], ...]


class ChartKind(StrEnum):
    BAR = "bar"
    LINE = "line"


@dataclass(frozen=True)
class Chart:
    """A chart to draw: categories along the bottom, one bar group or line per series."""

    title: str
    unit: str
    kind: ChartKind
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[float | None, ...]], ...]  # None: no value that month
    period: str


@dataclass(frozen=True)
class Report:
    kind: ReportKind
    title: str
    start: date
    end: date
    previous_start: date
    previous_end: date
    campus: str | None  # None: all campuses
    generated_at: datetime
    figures: tuple[Figure, ...]
    breakdowns: tuple[Breakdown, ...] = ()
    series: tuple[Series, ...] = ()
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = ()

    def figure(self, key: str) -> Figure:
        for figure in self.figures:
            if figure.key == key:
                return figure
        raise KeyError(key)

    def breakdown(self, key: str) -> Breakdown:
        for breakdown in self.breakdowns:
            if breakdown.key == key:
                return breakdown
        raise KeyError(key)

    @property
    def period_label(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    @property
    def previous_label(self) -> str:
        return f"{self.previous_start.isoformat()} to {self.previous_end.isoformat()}"

    @property
    def campus_label(self) -> str:
        return self.campus or "all campuses"


@dataclass(frozen=True)
class DrillRow:
    """One request or item behind a figure; never the patron."""

    reference: str  # request number or barcode
    title: str
    at: str  # ISO date or time of the counted event
    campus: str
    detail: str = ""


@dataclass(frozen=True)
class DrillList:
    key: str
    label: str
    rows: tuple[DrillRow, ...]
    total: int  # rows matching; `rows` may be the first part only
