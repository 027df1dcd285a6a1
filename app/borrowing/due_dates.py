"""Due dates for ILL loans: the lender's strap date, moved off days the branch is closed.

The lender alone sets the due date, often months away and longer than any local rule.
When it falls on a weekly closed day, a holiday or a break at the checkout branch, the
patron could not return the item that day, so it moves to an open day. The default
direction is "earlier": a date moved later would pass the lender's own date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.borrowing.closures import MAX_REASON_LENGTH, WEEKDAY_NAMES, parse_weekdays
from app.library import library_settings
from app.library.actors import Actor
from app.library.branches import branch_by_code
from app.library.errors import InvalidInput
from app.library.library_settings import LibrarySettings
from app.library.runtime import Runtime
from app.records import audit
from db.models import Branch, Closure, Role

EARLIER, LATER = "earlier", "later"
# How far "later" looks for an open day before giving up on a calendar closed all year.
MAX_SEARCH_DAYS = 366
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def say_date(day: date) -> str:
    """'Friday 13 November 2026': the way staff read a date out to a patron."""
    return f"{WEEKDAY_NAMES[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class ClosureCalendar:
    """The days one branch is closed: its weekly closed days and dated closures."""

    branch_code: str
    closed_weekdays: frozenset[int]
    closures: tuple[tuple[date, date, str], ...]  # start, end, reason

    def closed_because(self, day: date) -> str | None:
        """Why the branch is closed on `day` ('every Saturday', 'Thanksgiving Day'), or None."""
        for start, end, reason in self.closures:
            if start <= day <= end:
                if start == end:
                    return reason
                return f"{reason}, {say_date(start)} to {say_date(end)}"
        if day.weekday() in self.closed_weekdays:
            return f"every {WEEKDAY_NAMES[day.weekday()]}"
        return None


def load_calendar(session: Session, branch: Branch, start: date, end: date) -> ClosureCalendar:
    """The calendar of `branch` between two dates (closures for it and for every branch)."""
    rows = session.scalars(
        select(Closure)
        .where(
            or_(Closure.branch_id == branch.id, Closure.branch_id.is_(None)),
            Closure.start_date <= end,
            Closure.end_date >= start,
        )
        .order_by(Closure.start_date, Closure.id)
    )
    return ClosureCalendar(
        branch_code=branch.code,
        closed_weekdays=frozenset(parse_weekdays(branch.closed_weekdays)),
        closures=tuple((c.start_date, c.end_date, c.reason) for c in rows),
    )


@dataclass(frozen=True)
class DueDate:
    """The due date a checkout gets, and the one sentence staff tell the patron about it."""

    due_date: date
    strap_date: date
    closed_reason: str | None  # why the strap date is a closed day, when it is
    sentence: str
    already_past: bool = False

    @property
    def moved(self) -> bool:
        return self.due_date != self.strap_date

    @property
    def adjustment_reason(self) -> str | None:
        """What the loan records about a move, or None when the strap date stands."""
        if not self.moved:
            return None
        text = f"Strap date {self.strap_date.isoformat()} is a closed day ({self.closed_reason})"
        return text[:MAX_REASON_LENGTH]


def _direction(text: str) -> str:
    """The library setting; anything but 'later' means the safe 'earlier'."""
    return LATER if text.strip().lower() == LATER else EARLIER


def due_date_for(
    strap_date: date, calendar: ClosureCalendar, *, today: date, direction: str = EARLIER
) -> DueDate:
    """Move `strap_date` off a closed day; never earlier than today."""
    if strap_date < today:
        return DueDate(
            strap_date,
            strap_date,
            None,
            f"The lending library's due date, {say_date(strap_date)}, has already passed: "
            "the item is overdue to them.",
            already_past=True,
        )
    reason = calendar.closed_because(strap_date)
    if reason is None:
        return DueDate(
            strap_date,
            strap_date,
            None,
            f"Due {say_date(strap_date)}, the date the lending library set.",
        )
    step = timedelta(days=-1 if _direction(direction) == EARLIER else 1)
    day = strap_date + step
    for _ in range(MAX_SEARCH_DAYS):
        if day < today:
            break
        if calendar.closed_because(day) is None:
            return DueDate(
                day,
                strap_date,
                reason,
                f"The strap says {say_date(strap_date)}, but the library is closed that day "
                f"({reason}), so please return it by {say_date(day)}.",
            )
        day += step
    if step.days < 0:
        return DueDate(
            today,
            strap_date,
            reason,
            f"The strap says {say_date(strap_date)}, but the library is closed from tomorrow "
            f"until then ({reason}), so please return it today.",
        )
    return DueDate(
        strap_date,
        strap_date,
        reason,
        f"Due {say_date(strap_date)}, the lender's date; the closures calendar shows no open "
        "day after it, so ask an administrator to check the calendar.",
    )


def due_date_at_branch(
    session: Session, branch: Branch, strap_date: date, *, today: date
) -> DueDate:
    """The due date for a checkout at `branch`, using the library's direction setting."""
    settings = library_settings.load(session)
    start = min(today, strap_date)
    end = max(today, strap_date) + timedelta(days=MAX_SEARCH_DAYS)
    calendar = load_calendar(session, branch, start, end)
    return due_date_for(strap_date, calendar, today=today, direction=settings.due_date_direction)


@dataclass(frozen=True)
class HolidayFill:
    year: int
    country: str
    subdivision: str
    added: tuple[tuple[date, str], ...]
    already_there: int  # holidays the calendar already had a closure for


def public_holidays(year: int, country: str, subdivision: str = "") -> list[tuple[date, str]]:
    """The public holidays of one year, from the `holidays` package, in date order."""
    import holidays  # loaded only when an administrator pre-fills a year

    if not 1950 <= year <= 2150:
        raise InvalidInput(f"{year} is not a year the calendar can fill. Give a 4-digit year.")
    try:
        found = holidays.country_holidays(
            country.strip().upper(), subdiv=subdivision.strip().upper() or None, years=year
        )
    except NotImplementedError:
        where = f"{country}/{subdivision}" if subdivision else country
        raise InvalidInput(
            f"There is no public-holiday list for '{where}'. Set the library's holiday country "
            "to a two-letter code such as US (and a subdivision such as TX, or none)."
        ) from None
    return sorted((day, name) for day, name in found.items())


def add_public_holidays(
    rt: Runtime, actor: Actor, year: int, *, branch_code: str | None = None
) -> HolidayFill:
    """Pre-fill a year's public holidays as one-day closures (every branch by default).

    A day that already has a closure of its own for the same branches is left alone, so
    running this twice adds nothing the second time and edited entries are kept.
    """
    actor.require(Role.ADMIN, "Editing the closures calendar")
    with rt.db.transaction() as session:
        settings = library_settings.load(session)
        branch_id = branch_by_code(session, branch_code).id if branch_code else None
        added, found = _fill_year(session, settings, year, branch_id)
        audit.record(
            session,
            actor,
            "closure.add_public_holidays",
            at=rt.clock.now(),
            entity="closure",
            after={
                "year": year,
                "country": settings.holiday_country,
                "subdivision": settings.holiday_subdivision,
                "branch": branch_code or "All branches",
                "added": len(added),
            },
        )
        return HolidayFill(
            year=year,
            country=settings.holiday_country,
            subdivision=settings.holiday_subdivision,
            added=tuple(added),
            already_there=found - len(added),
        )


def _fill_year(
    session: Session, settings: LibrarySettings, year: int, branch_id: int | None
) -> tuple[list[tuple[date, str]], int]:
    """Add the year's public holidays not already closed; (what was added, how many found)."""
    found = public_holidays(year, settings.holiday_country, settings.holiday_subdivision)
    same_branches = (
        Closure.branch_id.is_(None) if branch_id is None else Closure.branch_id == branch_id
    )
    existing = set(
        session.scalars(
            select(Closure.start_date).where(
                same_branches,
                Closure.start_date == Closure.end_date,
                Closure.start_date >= date(year, 1, 1),
                Closure.start_date <= date(year, 12, 31),
            )
        )
    )
    added: list[tuple[date, str]] = []
    for day, name in found:
        if day in existing:
            continue
        reason = name[:MAX_REASON_LENGTH]
        session.add(Closure(branch_id=branch_id, start_date=day, end_date=day, reason=reason))
        added.append((day, reason))
    session.flush()
    return added, len(found)


# ------------------------------------------------- public holidays from the first day on

# Who the audit trail names for the yearly renewal (no one pressed a button).
HOLIDAY_RENEWAL = Actor(0, "system", "Yearly public-holiday renewal", Role.DESK, "", "")


@dataclass(frozen=True)
class HolidayRenewal:
    years: tuple[int, ...]
    country: str
    subdivision: str
    added: tuple[tuple[date, str], ...]

    @property
    def message(self) -> str:
        years = " and ".join(str(y) for y in self.years)
        return f"added {len(self.added)} public holidays for {years} ({self.where})"

    @property
    def where(self) -> str:
        return f"{self.country}/{self.subdivision}" if self.subdivision else self.country


def renew_public_holidays_in(
    session: Session, today: date, now: datetime, who: Actor = HOLIDAY_RENEWAL
) -> HolidayRenewal | None:
    """Give every branch this year's and next year's public holidays, once per year.

    Each year is filled once for the library's holiday country and region (the settings
    remember how far they were filled, and for where), so a holiday an administrator
    removed stays removed; a changed country is filled anew from this year on. None when
    there was nothing to do.
    """
    settings = library_settings.load(session)
    where = f"{settings.holiday_country}/{settings.holiday_subdivision}".upper()
    last_year = today.year + 1
    if settings.public_holidays_for == where:
        if settings.public_holidays_through >= last_year:
            return None
        first_year = max(today.year, settings.public_holidays_through + 1)
    else:
        first_year = today.year
    years = tuple(range(first_year, last_year + 1))
    added: list[tuple[date, str]] = []
    for year in years:
        added.extend(_fill_year(session, settings, year, None)[0])
    library_settings.save(session, public_holidays_through=last_year, public_holidays_for=where)
    audit.record(
        session,
        who,
        "closure.renew_public_holidays",
        at=now,
        entity="closure",
        after={
            "years": list(years),
            "country": settings.holiday_country,
            "subdivision": settings.holiday_subdivision,
            "added": len(added),
        },
    )
    return HolidayRenewal(
        years, settings.holiday_country, settings.holiday_subdivision, tuple(added)
    )


def renew_public_holidays(rt: Runtime, actor: Actor) -> HolidayRenewal | None:
    """The daily run's step: this year's and next year's holidays, when not yet there."""
    with rt.db.transaction() as session:
        return renew_public_holidays_in(session, rt.clock.today(), rt.clock.now(), actor)
