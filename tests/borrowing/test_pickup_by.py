"""A hold's pickup-by date never passes the lender's date, whichever way that date moves.

On SQLite and PostgreSQL, with the demo library; the clock is Monday 2 November 2026.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.borrowing.pickup_by import pickup_by_date
from app.borrowing.receiving import ReceiveForm, receive_item
from app.borrowing.renewals import record_renewal
from app.desk.checkin import check_in
from app.desk.in_house_use import record_in_house_use
from app.desk.loan_changes import change_due_date
from app.library.actors import Actor
from app.library.errors import InvalidInput, NotFound, PermissionDenied
from app.library.runtime import Runtime
from db.models import AuditEvent, HoldShelfEntry, HoldStatus, Item, Notice
from tests.demo_items import held_item

ActorAt = Callable[[str, str], Actor]
TODAY = date(2026, 11, 2)
METRO_REQUEST, NEC_REQUEST = "20261001", "20261002"
BJORN = "T00678901"  # waits for an in-library-use item in the demo


def _pickup_by(rt: Runtime, barcode: str) -> date | None:
    with rt.db.reading() as session:
        return session.scalar(
            select(HoldShelfEntry.pickup_by)
            .join(Item, Item.id == HoldShelfEntry.item_id)
            .where(Item.barcode == barcode, HoldShelfEntry.status == HoldStatus.ACTIVE)
        )


def _ready_notices(rt: Runtime) -> list[Notice]:
    with rt.db.reading() as session:
        return list(
            session.scalars(
                select(Notice).where(Notice.kind == "ready_for_pickup").order_by(Notice.id)
            )
        )


def _lender_date(rt: Runtime, barcode: str) -> date | None:
    with rt.db.reading() as session:
        return session.scalar(select(Item.lender_due_date).where(Item.barcode == barcode))


def test_the_rule_itself() -> None:
    assert pickup_by_date(TODAY, 7, date(2026, 12, 1)) == TODAY + timedelta(days=7)
    assert pickup_by_date(TODAY, 7, date(2026, 11, 5)) == date(2026, 11, 5)
    assert pickup_by_date(TODAY, 7, date(2026, 10, 30)) == TODAY  # never before today
    assert pickup_by_date(TODAY, 7, None) == TODAY + timedelta(days=7)


def test_a_recall_pulls_the_waiting_holds_pickup_by_back(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    received = receive_item(demo_rt, office, ReceiveForm(NEC_REQUEST, "OKT", date(2026, 12, 1)))
    assert received.pickup_by is not None and received.pickup_by > date(2026, 11, 4)
    barcode = received.strap_barcode
    change = change_due_date(demo_rt, office, barcode, date(2026, 11, 4), "Lender recalled it")
    assert (change.old_due_date, change.due_date) == (date(2026, 12, 1), date(2026, 11, 4))
    assert change.pickup_by == date(2026, 11, 4) and change.pickup_by_pulled_back
    assert change.patron_told  # told at receipt "by" the later date: told the new one
    told = [json.loads(n.context)["pickup_by"] for n in _ready_notices(demo_rt)]
    assert told == [received.pickup_by.isoformat(), "2026-11-04"]
    assert _pickup_by(demo_rt, barcode) == date(2026, 11, 4)
    assert _lender_date(demo_rt, barcode) == date(2026, 11, 4)
    with demo_rt.db.reading() as session:
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "item.change_lender_due_date")
        )
    assert event is not None and event.detail == "Lender recalled it"
    assert event.before == {
        "lender_due_date": "2026-12-01",
        "pickup_by": received.pickup_by.isoformat(),
    }
    assert event.after == {"lender_due_date": "2026-11-04", "pickup_by": "2026-11-04"}
    # A later date again (the lender changed its mind) leaves the pickup-by date alone.
    later = change_due_date(demo_rt, office, barcode, date(2026, 12, 20), "Recall withdrawn")
    assert later.pickup_by == date(2026, 11, 4) and not later.pickup_by_pulled_back
    assert not later.patron_told and len(_ready_notices(demo_rt)) == 2
    assert _lender_date(demo_rt, barcode) == date(2026, 12, 20)
    with pytest.raises(InvalidInput, match="already"):
        change_due_date(demo_rt, office, barcode, date(2026, 12, 20), "again")


def test_an_in_library_use_items_hold_follows_the_lender_between_uses(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    barcode = held_item(demo_rt, BJORN, in_library_use=True)
    before = _pickup_by(demo_rt, barcode)
    assert before is not None and before > TODAY + timedelta(days=1)
    branch = _hold_branch(demo_rt, barcode)
    record_in_house_use(demo_rt, actor_at("desk", branch), barcode, patron_ref=BJORN)
    office = actor_at("office", "WS-ILL")
    change = change_due_date(demo_rt, office, barcode, TODAY + timedelta(days=1), "Recalled")
    assert change.pickup_by_pulled_back
    assert _pickup_by(demo_rt, barcode) == TODAY + timedelta(days=1)


def _hold_branch(rt: Runtime, barcode: str) -> str:
    from db.models import Branch

    with rt.db.reading() as session:
        code = session.scalar(
            select(Branch.code)
            .join(HoldShelfEntry, HoldShelfEntry.branch_id == Branch.id)
            .join(Item, Item.id == HoldShelfEntry.item_id)
            .where(Item.barcode == barcode, HoldShelfEntry.status == HoldStatus.ACTIVE)
        )
        assert code is not None
        return code


def test_an_item_recalled_on_its_way_waits_no_longer_than_the_new_date(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    sent = receive_item(demo_rt, office, ReceiveForm(METRO_REQUEST, "OKT", date(2026, 12, 1)))
    change = change_due_date(demo_rt, office, sent.strap_barcode, date(2026, 11, 4), "Recall")
    assert change.pickup_by is None  # in the mail: no hold yet
    arrived = check_in(demo_rt, actor_at("desk", "METRO"), sent.strap_barcode)
    assert arrived.pickup_by == date(2026, 11, 4)


def test_a_renewal_never_moves_the_pickup_by_date_later(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    received = receive_item(demo_rt, office, ReceiveForm(NEC_REQUEST, "OKT", date(2026, 11, 5)))
    assert received.pickup_by == date(2026, 11, 5)
    record_renewal(demo_rt, office, NEC_REQUEST, approved=True, new_due=date(2026, 12, 15))
    assert _pickup_by(demo_rt, received.strap_barcode) == date(2026, 11, 5)
    assert _lender_date(demo_rt, received.strap_barcode) == date(2026, 12, 15)


def test_a_recall_by_request_number_and_what_is_refused(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    received = receive_item(demo_rt, office, ReceiveForm(NEC_REQUEST, "OKT", date(2026, 12, 1)))
    change = change_due_date(demo_rt, office, NEC_REQUEST, date(2026, 11, 3), "Recalled")
    assert change.barcode == received.strap_barcode and change.pickup_by == date(2026, 11, 3)
    with pytest.raises(NotFound, match="not checked out"):
        change_due_date(demo_rt, office, METRO_REQUEST, date(2026, 11, 3), "Not received yet")


def test_a_recall_of_a_checked_out_item_moves_the_lenders_date_and_a_strap_fix_does_not(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office, desk = actor_at("office", "WS-ILL"), actor_at("desk", "METRO")
    # Renée Müller has ILL00000091 (request 20261012) out until 23 November.
    change = change_due_date(
        demo_rt, office, "20261012", date(2026, 11, 12), "Lender recalled it", recall=True
    )
    assert (change.old_due_date, change.due_date, change.patron_told) == (
        date(2026, 11, 23),
        date(2026, 11, 12),
        True,
    )
    assert _lender_date(demo_rt, "ILL00000091") == date(2026, 11, 12)
    with demo_rt.db.reading() as session:
        (notice,) = session.scalars(select(Notice).where(Notice.kind == "recalled"))
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "loan.change_due_date")
            .order_by(AuditEvent.id.desc())
        ).first()
    assert notice.recipient == "renee.muller@example.edu"
    assert event is not None and (event.after or {})["lender_due_date"] == "2026-11-12"
    with pytest.raises(InvalidInput, match="already due"):
        change_due_date(demo_rt, office, "20261012", date(2026, 11, 12), "again", recall=True)

    # A desk matching a checkout to its strap leaves the lender's date as the office has it.
    change_due_date(demo_rt, desk, "ILL00000109", date(2026, 11, 6), "Strap says 6 November")
    assert _lender_date(demo_rt, "ILL00000109") == date(2026, 11, 4)
    with pytest.raises(PermissionDenied):
        change_due_date(demo_rt, desk, "ILL00000109", date(2026, 11, 5), "x", recall=True)


def test_a_recall_to_a_later_date_is_refused_and_changes_nothing(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    # Renée Müller has ILL00000091 (request 20261012) out until 23 November; a recall form
    # left at its default date (a renewal's, later) must not tell her to come back later.
    with pytest.raises(InvalidInput, match="a recall moves the date earlier"):
        change_due_date(demo_rt, office, "20261012", date(2027, 1, 4), "Recalled", recall=True)
    assert _lender_date(demo_rt, "ILL00000091") == date(2026, 11, 23)
    with demo_rt.db.reading() as session:
        assert session.scalar(select(Notice).where(Notice.kind == "recalled")) is None
    # Waiting on a hold shelf: the lender's date likewise only moves earlier on a recall.
    barcode = held_item(demo_rt, "T00123456")
    before = _lender_date(demo_rt, barcode)
    assert before is not None
    with pytest.raises(InvalidInput, match="a recall moves the date earlier"):
        change_due_date(
            demo_rt, office, barcode, before + timedelta(days=3), "Recalled", recall=True
        )
    assert _lender_date(demo_rt, barcode) == before
