"""Public holidays from the first day: a new library, the demo, and the yearly renewal."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app import daily
from app.borrowing.closures import list_closures, remove_closure
from app.borrowing.due_dates import due_date_at_branch
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.library_settings import load as load_settings
from app.library.library_settings import save as save_settings
from app.library.runtime import Runtime
from app.library.vocabulary import Role
from app.people.staff import actor_for
from db.models import AuditEvent, Branch

DESK = Actor(0, "desk", "Desk", Role.DESK, "METRO")  # reads closures; no account needed


def _due(rt: Runtime, code: str, strap: date) -> date:
    with rt.db.reading() as session:
        branch = session.scalar(select(Branch).where(Branch.code == code))
        assert branch is not None
        return due_date_at_branch(session, branch, strap, today=rt.clock.today()).due_date


def _days(rt: Runtime, year: int) -> dict[date, str]:
    return {c.start_date: c.reason for c in list_closures(rt, DESK, year=year)}


def test_the_demo_starts_with_new_years_day_closed(demo_rt: Runtime) -> None:
    # Strap date Sunday 3 January 2027: Saturday and Sunday are closed, and Friday is
    # New Year's Day, so the due date is Thursday 31 December.
    assert _due(demo_rt, "METRO", date(2027, 1, 3)) == date(2026, 12, 31)
    assert _days(demo_rt, 2026)[date(2026, 11, 26)] == "Thanksgiving Day"
    assert date(2027, 12, 24) in _days(demo_rt, 2027)  # Christmas Day (observed)


def test_a_new_library_gets_holidays_with_its_first_daily_run(
    rt: Runtime, clock: FixedClock
) -> None:
    assert list_closures(rt, DESK) == []
    assert daily.run_if_due(rt) is not None
    this_year, next_year = _days(rt, 2026), _days(rt, 2027)
    assert this_year[date(2026, 12, 25)] == "Christmas Day"
    assert next_year[date(2027, 1, 1)] == "New Year's Day"
    assert _days(rt, 2028) == {}
    with rt.db.reading() as session:
        assert load_settings(session).public_holidays_through == 2027
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "closure.renew_public_holidays")
        ).all()
    assert [e.username for e in events] == ["system"]
    clock.advance(hours=2)
    assert daily.run_if_due(rt) is None  # once a day, whichever desk


def test_the_next_year_is_added_when_the_year_turns_and_removed_days_stay_removed(
    demo_rt: Runtime, clock: FixedClock
) -> None:
    admin = actor_for(demo_rt, "admin", "NEC", "test-desk")
    closures = list_closures(demo_rt, DESK, year=2027)
    juneteenth = next(c for c in closures if "Juneteenth" in c.reason)
    remove_closure(demo_rt, admin, juneteenth.id)  # this library opens that day
    before_2027 = _days(demo_rt, 2027)
    clock.current = datetime(2027, 1, 2, 15, 0, tzinfo=UTC)
    assert daily.run_if_due(demo_rt) is not None
    assert _days(demo_rt, 2027) == before_2027
    assert _days(demo_rt, 2028)[date(2028, 11, 23)] == "Thanksgiving Day"
    clock.advance(days=1)
    assert daily.run_if_due(demo_rt) is not None
    assert len(list_closures(demo_rt, DESK, year=2028)) == len(_days(demo_rt, 2028))


def test_a_changed_holiday_country_is_filled_from_this_year(rt: Runtime) -> None:
    with rt.db.transaction() as session:
        save_settings(session, holiday_country="GB", holiday_subdivision="SCT")
    daily.run_if_due(rt)
    assert _days(rt, 2026)[date(2026, 11, 30)] == "Saint Andrew's Day"
    assert date(2026, 11, 26) not in _days(rt, 2026)  # no Thanksgiving in Scotland


def test_an_unknown_holiday_country_never_stops_the_daily_run(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    with rt.db.transaction() as session:
        save_settings(session, holiday_country="XX")
    with caplog.at_level(logging.WARNING, logger="app.records.privacy"):
        assert daily.run_if_due(rt) is not None
    assert list_closures(rt, DESK) == []
    assert "public holidays not renewed" in caplog.text and "two-letter code" in caplog.text
