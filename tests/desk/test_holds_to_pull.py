"""Holds nobody picks up, on SQLite and PostgreSQL, with the demo library.

The demo's four hold-shelf items wait until Tuesday 10 November 2026 (the test clock starts
on Monday 2 November). After that day the patron is told the item is going back, the campus
lists it to pull, and its check-in sends it to the ILL office.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select

from app.cli.main import parse, run
from app.desk.checkin import check_in
from app.desk.holds_to_pull import holds_to_pull
from app.desk.routing import Outcome
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.errors import NotFound
from app.library.runtime import Runtime
from app.notices import daily_run
from app.notices.templates import render
from db.engine import Database
from db.models import HoldShelfEntry, HoldStatus, Item, Notice, NoticeStatus
from tests.demo_items import held_item

Make = Callable[[str, str], Actor]
RENEE = "T00123456"  # her item waits at METRO


def _unclaimed_notices(rt: Runtime) -> list[Notice]:
    with rt.db.reading() as session:
        return list(
            session.scalars(
                select(Notice).where(Notice.kind == "hold_not_picked_up").order_by(Notice.id)
            )
        )


def test_the_campus_lists_holds_past_pickup_by_and_check_in_sends_them_back(
    demo_rt: Runtime, actor_at: Make, clock: FixedClock
) -> None:
    desk = actor_at("desk", "METRO")
    barcode = held_item(demo_rt, RENEE)
    assert holds_to_pull(demo_rt, desk) == []
    clock.set_date(date(2026, 11, 10))  # the pickup-by day itself: still waiting
    assert holds_to_pull(demo_rt, desk) == []
    clock.set_date(date(2026, 11, 12))
    rows = holds_to_pull(demo_rt, desk)
    assert {r.branch for r in rows} == {"METRO"}
    (row,) = [r for r in rows if r.barcode == barcode]
    assert row.patron_id == RENEE
    assert (row.pickup_by, row.days_past, row.pieces) == (date(2026, 11, 10), 2, 1)
    assert {r.branch for r in holds_to_pull(demo_rt, desk, "WEST")} == {"WEST"}
    with pytest.raises(NotFound):
        holds_to_pull(demo_rt, desk, "NOWHERE")
    result = check_in(demo_rt, desk, barcode)
    assert result.outcome is Outcome.RETURN_TO_ILL_OFFICE and result.destination == "WS-ILL"
    assert barcode not in {r.barcode for r in holds_to_pull(demo_rt, desk)}
    with demo_rt.db.reading() as session:
        status = session.scalar(
            select(HoldShelfEntry.status)
            .join(Item, Item.id == HoldShelfEntry.item_id)
            .where(Item.barcode == barcode)
        )
    assert status is HoldStatus.EXPIRED


def test_the_daily_run_tells_the_patron_once_that_it_goes_back(
    demo_rt: Runtime, actor_at: Make, clock: FixedClock
) -> None:
    office = actor_at("office", "WS-ILL")
    first = daily_run.run_outbox(demo_rt, office, None)
    assert first.queued_not_picked_up == 0 and _unclaimed_notices(demo_rt) == []
    clock.set_date(date(2026, 11, 11))
    later = daily_run.run_outbox(demo_rt, office, None)
    assert later.queued_not_picked_up == 4  # every demo hold, one notice each
    assert "4 not-picked-up" in later.message
    notices = _unclaimed_notices(demo_rt)
    assert len(notices) == 4 and all(n.status is NoticeStatus.QUEUED for n in notices)
    clock.set_date(date(2026, 11, 12))
    assert daily_run.run_outbox(demo_rt, office, None).queued_not_picked_up == 0
    assert len(_unclaimed_notices(demo_rt)) == 4
    with demo_rt.db.reading() as session:
        renee = next(n for n in notices if json.loads(n.context)["pickup_branch"].startswith("M"))
        rendered = render(session, "hold_not_picked_up", json.loads(renee.context))
    assert rendered.subject.startswith("Not picked up, going back:")
    assert "Tuesday, 10 November 2026" in rendered.body
    assert "Interlibrary Loan office" in rendered.body


def test_command_line_lists_the_holds_to_pull(database_url: str) -> None:
    def cli(*argv: str) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        return run(parse(list(argv)), out, err), out.getvalue()

    assert cli("--db", database_url, "demo", "--json")[0] == 0
    database = Database(database_url)
    try:
        with database.transaction() as session:  # every hold's pickup-by date has passed
            for hold in session.scalars(select(HoldShelfEntry)):
                hold.pickup_by = date(2020, 1, 6)
    finally:
        database.dispose()
    code, out = cli(
        "--db", database_url, "--json", "holds", "expired", "--branch", "metro", "--staff", "desk"
    )
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert {r["branch"] for r in records} == {"METRO"}
    (record,) = [r for r in records if r["patron_id"] == RENEE]
    assert record["pickup_by"] == "2020-01-06" and record["days_past"] > 0
    assert set(record) == {
        "branch", "barcode", "title", "patron", "patron_id", "pickup_by", "days_past",
        "in_library_use_only", "pieces",
    }  # fmt: skip
