"""One rule for every due date the product accepts: not in the past, at most two years
ahead unless the ILL office overrides it with a reason."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.borrowing.due_date_rule import accepted_due_date, latest_due_date
from app.cli.main import parse, run
from app.desk.checkout import check_out
from app.desk.loan_changes import change_due_date
from app.library.actors import Actor, Role
from app.library.clock import FixedClock
from app.library.errors import InvalidInput
from app.library.runtime import Runtime
from tests.demo_items import held_item

NO_DEADLINE = settings(deadline=None, max_examples=300)
DESK = Actor(1, "desk", "Desk", Role.DESK, "METRO")
OFFICE = Actor(2, "office", "Office", Role.ILL_OFFICE, "WS-ILL")


@NO_DEADLINE
@given(st.dates(), st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_a_date_is_accepted_exactly_when_it_is_today_up_to_two_years_ahead(
    day: date, today: date
) -> None:
    allowed = today <= day <= today + timedelta(days=730)
    try:
        assert accepted_due_date(day, today) == day
    except InvalidInput as exc:
        assert not allowed
        assert ("in the past" in exc.message) == (day < today)
        assert day.isoformat() in exc.message
    else:
        assert allowed


@NO_DEADLINE
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(731, 10**6))
def test_only_the_office_with_a_reason_goes_past_two_years(today: date, ahead: int) -> None:
    try:
        day = today + timedelta(days=ahead)
    except OverflowError:
        day = date.max
    for actor, reason in ((DESK, "lender said so"), (OFFICE, ""), (OFFICE, "  "), (None, "x")):
        with pytest.raises(InvalidInput, match="more than two years"):
            accepted_due_date(day, today, actor=actor, override_reason=reason)
    assert accepted_due_date(day, today, actor=OFFICE, override_reason="Lender: 3 years") == day
    assert latest_due_date(today) < day


@pytest.fixture
def cli(demo_rt: Runtime, database_url: str, clock: FixedClock, monkeypatch: Any) -> Any:
    monkeypatch.setattr("app.cli.context.SystemClock", lambda: clock)

    def call(*argv: str) -> tuple[int, list[dict[str, Any]], str]:
        out, err = io.StringIO(), io.StringIO()
        code = run(parse(["--db", database_url, "--json", *argv]), out, err)
        rows = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
        return code, rows, err.getvalue()

    return call


@pytest.mark.parametrize("strap", ["2099-06-01", "9999-12-31"])
def test_checkout_refuses_a_strap_date_far_ahead_without_a_traceback(
    demo_rt: Runtime, cli: Any, strap: str
) -> None:
    barcode = held_item(demo_rt, "T00123456")
    argv = ("checkout", "--branch", "METRO", "--staff", "desk", "--patron", "T00123456")
    code, rows, err = cli(*argv, "--strap-due", strap, barcode)
    assert code == 1 and "Traceback" not in err
    assert "more than two years" in rows[0]["message"]
    code, [row], _ = cli(*argv, barcode)  # the recorded date still works
    assert code == 0 and row["outcome"] == "checked_out"


def test_change_due_date_follows_the_rule_and_the_office_may_override(
    demo_rt: Runtime, actor_at: Any
) -> None:
    barcode = held_item(demo_rt, "T00123456")
    desk, office = actor_at("desk", "METRO"), actor_at("office", "WS-ILL")
    check_out(demo_rt, desk, "T00123456", barcode)
    far = demo_rt.clock.today() + timedelta(days=1000)
    with pytest.raises(InvalidInput, match="more than two years"):
        change_due_date(demo_rt, desk, barcode, far, "Lender renewed")
    with pytest.raises(InvalidInput, match="in the past"):
        change_due_date(demo_rt, office, barcode, date(2001, 1, 1), "typo")
    change = change_due_date(demo_rt, office, barcode, far, "Lender renewed for 3 years")
    assert change.due_date == far
