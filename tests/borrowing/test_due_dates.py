"""Due dates from the lender's strap date, moved off the days a branch is closed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select

from app.borrowing.closures import (
    add_closure,
    list_closures,
    list_weekly_closed_days,
    remove_closure,
    set_closed_weekdays,
)
from app.borrowing.due_dates import (
    ClosureCalendar,
    add_public_holidays,
    due_date_at_branch,
    due_date_for,
)
from app.library.actors import Actor
from app.library.errors import InvalidInput, NotFound, PermissionDenied
from app.library.library_settings import save as save_settings
from app.library.runtime import Runtime
from db.models import AuditEvent, Branch
from tests.signed_in import as_desk

TODAY = date(2026, 11, 2)  # a Monday
WEEKENDS = ClosureCalendar("METRO", frozenset({5, 6}), ())


def calendar(*closures: tuple[date, date, str]) -> ClosureCalendar:
    return ClosureCalendar("METRO", frozenset({5, 6}), closures)


def test_saturday_moves_to_the_friday_before() -> None:
    due = due_date_for(date(2026, 11, 14), WEEKENDS, today=TODAY)
    assert due.due_date == date(2026, 11, 13)
    assert due.moved
    assert "Saturday 14 November 2026" in due.sentence
    assert "Friday 13 November 2026" in due.sentence
    assert due.adjustment_reason == "Strap date 2026-11-14 is a closed day (every Saturday)"


def test_open_day_stands_and_says_it_is_the_lenders_date() -> None:
    due = due_date_for(date(2026, 11, 11), WEEKENDS, today=TODAY)
    assert due.due_date == date(2026, 11, 11)
    assert not due.moved
    assert due.adjustment_reason is None
    assert "lending library set" in due.sentence


def test_holiday_moves_earlier_past_the_following_closed_days() -> None:
    thanksgiving = calendar(
        (date(2026, 11, 26), date(2026, 11, 26), "Thanksgiving Day"),
        (date(2026, 11, 27), date(2026, 11, 27), "Friday After Thanksgiving"),
    )
    due = due_date_for(date(2026, 11, 27), thanksgiving, today=TODAY)
    assert due.due_date == date(2026, 11, 25)
    assert "Friday After Thanksgiving" in due.sentence


def test_two_week_break_moves_to_the_last_open_day_before_it() -> None:
    winter = calendar((date(2026, 12, 19), date(2027, 1, 3), "Winter break"))
    due = due_date_for(date(2026, 12, 28), winter, today=TODAY)
    assert due.due_date == date(2026, 12, 18)
    assert "Winter break" in due.sentence and "Friday 18 December 2026" in due.sentence


def test_later_direction_moves_after_the_break() -> None:
    winter = calendar((date(2026, 12, 19), date(2027, 1, 3), "Winter break"))
    due = due_date_for(date(2026, 12, 28), winter, today=TODAY, direction="later")
    assert due.due_date == date(2027, 1, 4)


def test_unknown_direction_setting_falls_back_to_earlier() -> None:
    due = due_date_for(date(2026, 11, 14), WEEKENDS, today=TODAY, direction="sideways")
    assert due.due_date == date(2026, 11, 13)


def test_four_months_away_is_kept_whatever_local_rules_say() -> None:
    due = due_date_for(date(2027, 3, 2), WEEKENDS, today=TODAY)
    assert due.due_date == date(2027, 3, 2)
    on_saturday = due_date_for(date(2027, 3, 6), WEEKENDS, today=TODAY)
    assert on_saturday.due_date == date(2027, 3, 5)


def test_past_strap_date_is_flagged_not_moved() -> None:
    due = due_date_for(date(2026, 10, 31), WEEKENDS, today=TODAY)
    assert due.already_past
    assert due.due_date == date(2026, 10, 31)
    assert "already passed" in due.sentence


def test_never_earlier_than_today() -> None:
    closed_all_week = calendar((date(2026, 11, 2), date(2026, 11, 6), "Inventory week"))
    due = due_date_for(date(2026, 11, 7), closed_all_week, today=TODAY)
    assert due.due_date == TODAY
    assert "return it today" in due.sentence


# --- the calendar in the database, on both backends ---


def _branch(rt: Runtime, code: str) -> Branch:
    with rt.db.reading() as session:
        branch = session.scalar(select(Branch).where(Branch.code == code))
        assert branch is not None
        return branch


def _due(rt: Runtime, code: str, strap: date) -> date:
    with rt.db.reading() as session:
        branch = session.scalar(select(Branch).where(Branch.code == code))
        assert branch is not None
        return due_date_at_branch(session, branch, strap, today=rt.clock.today()).due_date


def test_branch_closure_moves_only_that_branch(
    demo_rt: Runtime, actor_at: Callable[[str, str], Actor]
) -> None:
    admin = actor_at("admin", "METRO")
    add_closure(demo_rt, admin, date(2026, 12, 19), date(2027, 1, 3), "Winter break", "METRO")
    assert _due(demo_rt, "METRO", date(2026, 12, 28)) == date(2026, 12, 18)
    assert _due(demo_rt, "NEC", date(2026, 12, 28)) == date(2026, 12, 28)


def test_all_branch_closure_and_direction_setting(
    demo_rt: Runtime, actor_at: Callable[[str, str], Actor]
) -> None:
    admin = actor_at("admin", "METRO")
    add_closure(demo_rt, admin, date(2026, 11, 26), date(2026, 11, 27), "Thanksgiving")
    assert _due(demo_rt, "SE", date(2026, 11, 26)) == date(2026, 11, 25)
    with demo_rt.db.transaction() as session:
        save_settings(session, due_date_direction="later")
    assert _due(demo_rt, "SE", date(2026, 11, 26)) == date(2026, 11, 30)


def test_weekly_closed_days_are_per_branch(
    demo_rt: Runtime, actor_at: Callable[[str, str], Actor]
) -> None:
    admin = actor_at("admin", "WEST")
    changed = set_closed_weekdays(demo_rt, admin, "WEST", [6])
    assert changed.label == "Sunday"
    assert _due(demo_rt, "WEST", date(2026, 11, 14)) == date(2026, 11, 14)  # open Saturdays
    assert _due(demo_rt, "METRO", date(2026, 11, 14)) == date(2026, 11, 13)
    weekly = {w.branch_code: w.weekdays for w in list_weekly_closed_days(demo_rt, as_desk(demo_rt))}
    assert weekly["WEST"] == (6,) and weekly["METRO"] == (5, 6)
    with pytest.raises(InvalidInput, match="at least one day open"):
        set_closed_weekdays(demo_rt, admin, "WEST", range(7))


def test_closures_are_admin_only_validated_and_audited(
    demo_rt: Runtime, actor_at: Callable[[str, str], Actor]
) -> None:
    admin, desk = actor_at("admin", "METRO"), actor_at("desk", "METRO")
    # the demo starts with this year's and next year's public holidays
    holidays = list_closures(demo_rt, as_desk(demo_rt))
    with pytest.raises(PermissionDenied, match="admin"):
        add_closure(demo_rt, desk, date(2028, 12, 24), date(2028, 12, 24), "Christmas Eve")
    with pytest.raises(InvalidInput, match="Swap the dates"):
        add_closure(demo_rt, admin, date(2028, 12, 26), date(2028, 12, 24), "Christmas")
    with pytest.raises(InvalidInput, match="reason"):
        add_closure(demo_rt, admin, date(2028, 12, 24), date(2028, 12, 24), "   ")
    with pytest.raises(InvalidInput, match="typo"):
        add_closure(demo_rt, admin, date(2028, 12, 24), date(2030, 12, 24), "Christmas")
    with pytest.raises(NotFound, match="no branch"):
        add_closure(demo_rt, admin, date(2028, 12, 24), date(2028, 12, 24), "Eve", "NOPE")
    added = add_closure(demo_rt, admin, date(2028, 12, 24), date(2028, 12, 25), " Christmas ")
    assert added.reason == "Christmas" and added.where == "All branches"
    assert [c.id for c in list_closures(demo_rt, as_desk(demo_rt), year=2028)] == [added.id]
    assert list_closures(demo_rt, as_desk(demo_rt), year=2029) == []
    removed = remove_closure(demo_rt, admin, added.id)
    assert removed == added
    assert list_closures(demo_rt, as_desk(demo_rt)) == holidays
    with pytest.raises(NotFound, match="Refresh"):
        remove_closure(demo_rt, admin, added.id)
    with demo_rt.db.reading() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("closure.%"))
        ).all()
    assert sorted(actions) == ["closure.add", "closure.remove", "closure.renew_public_holidays"]


def test_public_holidays_fill_a_year_once(
    demo_rt: Runtime, actor_at: Callable[[str, str], Actor]
) -> None:
    admin = actor_at("admin", "METRO")
    with pytest.raises(PermissionDenied):
        add_public_holidays(demo_rt, actor_at("desk", "METRO"), 2028)
    fill = add_public_holidays(demo_rt, admin, 2028)
    days = dict(fill.added)
    assert "Thanksgiving" in days[date(2028, 11, 23)]
    assert date(2028, 12, 25) in days
    assert fill.already_there == 0
    again = add_public_holidays(demo_rt, admin, 2028)
    assert again.added == () and again.already_there == len(fill.added)
    stored = list_closures(demo_rt, as_desk(demo_rt), year=2028)
    assert len(stored) == len(fill.added)
    assert all(c.branch_code is None for c in stored)
    assert _due(demo_rt, "METRO", date(2028, 11, 23)) == date(2028, 11, 22)


def test_public_holidays_refuse_an_unknown_country(
    demo_rt: Runtime, actor_at: Callable[[str, str], Actor]
) -> None:
    before = list_closures(demo_rt, as_desk(demo_rt))
    with demo_rt.db.transaction() as session:
        save_settings(session, holiday_country="XX")
    with pytest.raises(InvalidInput, match="two-letter code"):
        add_public_holidays(demo_rt, actor_at("admin", "METRO"), 2026)
    with pytest.raises(InvalidInput, match="4-digit year"):
        add_public_holidays(demo_rt, actor_at("admin", "METRO"), 26)
    assert list_closures(demo_rt, as_desk(demo_rt)) == before
