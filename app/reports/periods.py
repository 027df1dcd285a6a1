"""The period a report covers and the one before it, as dates and as UTC bounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from app.library.errors import InvalidInput

MAX_DAYS = 3 * 366  # longer periods are several reports, not one


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included (library days counted in UTC)."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period just before: as many whole months when the period is whole months
        (a fiscal year gets the fiscal year before), else as many days."""
        if self.start.day == 1 and (self.end + timedelta(days=1)).day == 1:
            count = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            first = _add_months(self.start, -count)
            return Period(first, self.start - timedelta(days=1))
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def lower(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=UTC)

    def upper(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=UTC)

    def months(self) -> tuple[str, ...]:
        """Every month the period touches, as YYYY-MM."""
        months: list[str] = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return tuple(months)

    def label(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def parse_period(start: str, end: str) -> Period:
    """Dates as staff type them (YYYY-MM-DD); a clear message for anything else."""
    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        raise InvalidInput(f"The period ends ({last}) before it starts ({first}). Swap the dates.")
    period = Period(first, last)
    if period.days > MAX_DAYS:
        raise InvalidInput(
            f"The period has {period.days} days; a report covers at most {MAX_DAYS}. "
            "Make one report per year."
        )
    return period


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{what} '{text}' is not a date. Write it as YYYY-MM-DD, for example 2026-07-01."
        ) from None


def _add_months(day: date, months: int) -> date:
    """The first of the month `months` away (day is always the first)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
