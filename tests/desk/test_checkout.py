"""Check out at the desk, on SQLite and PostgreSQL, with the demo library.

The clock is the fixed test clock: Monday 2 November 2026.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.borrowing.closures import add_closure
from app.desk.checkout import check_out, preview_checkout
from app.desk.checkout_results import Outcome
from app.desk.in_house_use import record_in_house_use
from app.desk.loan_changes import change_due_date, refuse_renewal
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.library.library_settings import save as save_settings
from app.library.runtime import Runtime
from db.models import (
    AuditEvent,
    Charge,
    ChargeKind,
    Direction,
    DueDateDiscrepancy,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    InHouseUse,
    Item,
    ItemStatus,
    Loan,
    Patron,
    RequestStatus,
)
from tests.demo_items import held_item, set_lender_date

pytestmark = pytest.mark.through_pgbouncer

Make = Callable[[str, str], Actor]
RENEE, BJORN, JAMAL = "T00123456", "T00678901", "T00234567"


def open_loans(rt: Runtime, barcode: str) -> list[Loan]:
    with rt.db.reading() as session:
        return list(
            session.scalars(
                select(Loan)
                .join(Item, Item.id == Loan.item_id)
                .where(Item.barcode == barcode, Loan.returned_at.is_(None))
            )
        )


def count(rt: Runtime, model: type) -> int:
    with rt.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_strap_on_a_saturday_is_due_the_friday_before(demo_rt: Runtime, actor_at: Make) -> None:
    barcode = held_item(demo_rt, RENEE)
    set_lender_date(demo_rt, barcode, date(2026, 11, 14))
    result = check_out(demo_rt, actor_at("desk", "METRO"), RENEE, barcode)
    assert result.outcome is Outcome.CHECKED_OUT
    assert result.due_date == date(2026, 11, 13)
    assert result.strap_due_date == date(2026, 11, 14)
    assert result.adjustment_reason is not None and "Saturday" in result.adjustment_reason
    assert "Friday 13 November 2026" in result.patron_sentence
    assert not result.discrepancy_logged
    [loan] = open_loans(demo_rt, barcode)
    assert loan.due_date == date(2026, 11, 13) and loan.strap_due_date == date(2026, 11, 14)
    with demo_rt.db.reading() as session:
        item = session.scalar(select(Item).where(Item.barcode == barcode))
        assert item is not None and item.status is ItemStatus.CHECKED_OUT
        hold = session.scalar(select(HoldShelfEntry).where(HoldShelfEntry.item_id == item.id))
        assert hold is not None and hold.status is HoldStatus.PICKED_UP
    assert count(demo_rt, DueDateDiscrepancy) == 0


def test_strap_on_a_holiday_moves_before_it(demo_rt: Runtime, actor_at: Make) -> None:
    add_closure(
        demo_rt, actor_at("admin", "METRO"), date(2026, 11, 26), date(2026, 11, 26), "Thanksgiving"
    )
    barcode = held_item(demo_rt, RENEE)
    set_lender_date(demo_rt, barcode, date(2026, 11, 26))
    result = check_out(demo_rt, actor_at("desk", "METRO"), RENEE, barcode)
    assert result.due_date == date(2026, 11, 25)
    assert "Thanksgiving" in result.patron_sentence


def test_strap_inside_a_two_week_break(demo_rt: Runtime, actor_at: Make) -> None:
    add_closure(
        demo_rt,
        actor_at("admin", "METRO"),
        date(2026, 12, 19),
        date(2027, 1, 3),
        "Winter break",
        "METRO",
    )
    barcode = held_item(demo_rt, RENEE)
    set_lender_date(demo_rt, barcode, date(2026, 12, 30))
    result = check_out(demo_rt, actor_at("desk", "METRO"), RENEE, barcode)
    assert result.due_date == date(2026, 12, 18)
    assert "Winter break" in result.patron_sentence


def test_strap_four_months_away_is_the_due_date(demo_rt: Runtime, actor_at: Make) -> None:
    barcode = held_item(demo_rt, RENEE)
    set_lender_date(demo_rt, barcode, date(2027, 3, 2))
    result = check_out(demo_rt, actor_at("desk", "METRO"), RENEE, barcode)
    assert result.outcome is Outcome.CHECKED_OUT
    assert result.due_date == date(2027, 3, 2)
    assert result.adjustment_reason is None


def test_strap_in_the_past_is_refused_and_writes_nothing(demo_rt: Runtime, actor_at: Make) -> None:
    barcode = held_item(demo_rt, RENEE)
    set_lender_date(demo_rt, barcode, date(2026, 10, 30))
    audits = count(demo_rt, AuditEvent)
    result = check_out(demo_rt, actor_at("desk", "METRO"), RENEE, barcode)
    assert result.outcome is Outcome.REFUSED_LENDER_DATE_PASSED
    assert "already passed" in result.message and "ILL office" in result.message
    assert open_loans(demo_rt, barcode) == []
    assert count(demo_rt, AuditEvent) == audits
    with pytest.raises(PermissionDenied):
        check_out(demo_rt, actor_at("desk", "METRO"), RENEE, barcode, override=True)
    overridden = check_out(demo_rt, actor_at("office", "METRO"), RENEE, barcode, override=True)
    assert overridden.outcome is Outcome.CHECKED_OUT and overridden.overridden


def test_discrepancy_logged_exactly_when_the_strap_differs(
    demo_rt: Runtime, actor_at: Make
) -> None:
    barcode = held_item(demo_rt, RENEE)
    set_lender_date(demo_rt, barcode, date(2026, 12, 2))
    same = check_out(
        demo_rt, actor_at("desk", "METRO"), RENEE, barcode, strap_due=date(2026, 12, 2)
    )
    assert same.outcome is Outcome.CHECKED_OUT and not same.discrepancy_logged
    assert count(demo_rt, DueDateDiscrepancy) == 0

    other = held_item(demo_rt, "T00789012")  # waits at WEST
    set_lender_date(demo_rt, other, date(2026, 12, 2))
    result = check_out(
        demo_rt, actor_at("desk", "WEST"), "T00789012", other, strap_due=date(2026, 12, 9)
    )
    assert result.outcome is Outcome.CHECKED_OUT
    assert result.discrepancy_logged
    assert result.due_date == date(2026, 12, 9)  # the strap wins
    assert result.strap_due_date == date(2026, 12, 9)
    with demo_rt.db.reading() as session:
        [entry] = session.scalars(select(DueDateDiscrepancy)).all()
        request_number = session.scalar(
            select(IllRequest.request_number)
            .join(Item, Item.request_id == IllRequest.id)
            .where(Item.barcode == other)
        )
        item = session.scalar(select(Item).where(Item.barcode == other))
    assert entry.patron_campus_id == "T00789012"
    assert entry.request_number == request_number == result.request_number
    assert entry.system_date == date(2026, 12, 2) and entry.strap_date == date(2026, 12, 9)
    assert entry.staff_id == actor_at("desk", "WEST").staff_id
    assert entry.at == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    assert entry.closed_at is None
    assert entry.due_date == date(2026, 12, 9) and entry.adjustment_reason is None
    assert item is not None and item.lender_due_date == date(2026, 12, 9)


def test_discrepancy_log_keeps_the_date_after_closure_rounding(
    demo_rt: Runtime, actor_at: Make
) -> None:
    barcode = held_item(demo_rt, RENEE)  # waits at METRO, closed on Saturdays
    set_lender_date(demo_rt, barcode, date(2026, 12, 2))
    result = check_out(
        demo_rt, actor_at("desk", "METRO"), RENEE, barcode, strap_due=date(2026, 12, 12)
    )
    assert result.discrepancy_logged and result.due_date == date(2026, 12, 11)
    with demo_rt.db.reading() as session:
        [entry] = session.scalars(select(DueDateDiscrepancy)).all()
    assert (entry.system_date, entry.strap_date, entry.due_date) == (
        date(2026, 12, 2), date(2026, 12, 12), date(2026, 12, 11),
    )  # fmt: skip
    assert entry.adjustment_reason is not None and "Saturday" in entry.adjustment_reason


def test_preview_proposes_without_writing(demo_rt: Runtime, actor_at: Make) -> None:
    barcode = held_item(demo_rt, RENEE)
    set_lender_date(demo_rt, barcode, date(2026, 11, 14))
    preview = preview_checkout(demo_rt, actor_at("desk", "METRO"), RENEE, barcode)
    assert preview.outcome is Outcome.CHECKED_OUT
    assert preview.due_date == date(2026, 11, 13)
    assert preview.recorded_strap_date == date(2026, 11, 14)
    edited = preview_checkout(
        demo_rt, actor_at("desk", "METRO"), RENEE, barcode, strap_due=date(2026, 11, 18)
    )
    assert edited.due_date == date(2026, 11, 18) and edited.discrepancy_logged
    assert open_loans(demo_rt, barcode) == []
    assert count(demo_rt, DueDateDiscrepancy) == 0


def test_in_library_use_refused_for_faculty_then_recorded(demo_rt: Runtime, actor_at: Make) -> None:
    barcode = held_item(demo_rt, BJORN, in_library_use=True)
    desk = actor_at("desk", "METRO")
    result = check_out(demo_rt, desk, BJORN, barcode)
    assert result.outcome is Outcome.REFUSED_IN_LIBRARY_USE
    assert result.offer_in_library_use
    assert "whoever the patron is" in result.message
    assert open_loans(demo_rt, barcode) == []
    use = record_in_house_use(demo_rt, desk, barcode, patron_ref=BJORN)
    assert use.patron_id == BJORN and use.uses == 1
    with demo_rt.db.reading() as session:
        item = session.scalar(select(Item).where(Item.barcode == barcode))
        assert item is not None and item.status is ItemStatus.IN_HOUSE_USE
        hold = session.scalar(select(HoldShelfEntry).where(HoldShelfEntry.item_id == item.id))
        assert hold is not None and hold.status is HoldStatus.ACTIVE  # stays on its hold shelf
        assert (
            session.scalar(
                select(func.count())
                .select_from(InHouseUse)
                .where(InHouseUse.item_id == item.id, InHouseUse.ended_at.is_(None))
            )
            == 1
        )
    with pytest.raises(Conflict, match="already in use"):
        record_in_house_use(demo_rt, desk, barcode)


def test_in_house_use_refused_for_the_wrong_patron_or_item(
    demo_rt: Runtime, actor_at: Make
) -> None:
    desk = actor_at("desk", "METRO")
    ilu = held_item(demo_rt, BJORN, in_library_use=True)
    with pytest.raises(Conflict, match="not for Renée Müller"):
        record_in_house_use(demo_rt, desk, ilu, patron_ref=RENEE)
    with pytest.raises(InvalidInput, match="check it out"):
        record_in_house_use(demo_rt, desk, held_item(demo_rt, RENEE))
    with pytest.raises(Conflict, match="hold shelf at NEC"):
        record_in_house_use(
            demo_rt, actor_at("desk", "METRO"), held_item(demo_rt, JAMAL, in_library_use=True)
        )
    assert count(demo_rt, InHouseUse) == 1  # the demo's own


def test_renewal_is_refused_with_the_reason(demo_rt: Runtime, actor_at: Make) -> None:
    barcode = held_item(demo_rt, RENEE)
    desk = actor_at("desk", "METRO")
    check_out(demo_rt, desk, RENEE, barcode)
    answer = refuse_renewal(demo_rt, desk, barcode)
    assert answer.outcome is Outcome.REFUSED_RENEWAL
    assert "only the lending library grants renewals" in answer.message
    assert "ILL account" in answer.message
    [loan] = open_loans(demo_rt, barcode)
    assert answer.due_date == loan.due_date


def test_item_held_for_another_patron_is_refused(demo_rt: Runtime, actor_at: Make) -> None:
    barcode = held_item(demo_rt, BJORN, in_library_use=True)
    result = check_out(demo_rt, actor_at("desk", "METRO"), RENEE, barcode)
    assert result.outcome is Outcome.REFUSED_NOT_ON_HOLD_FOR_PATRON
    assert result.held_for == f"Björn Larsen ({BJORN})" and result.held_at == "METRO"
    assert "Björn" not in result.message and BJORN not in result.message  # said aloud
    assert "Held for another patron, at METRO's hold shelf" in result.message
    # Where to look instead: Renée's own item waits here; Grace has nothing here.
    assert "Renée Müller's own item waits on the hold shelf here at METRO" in result.message
    assert result.message.count("Renée Müller") == 1  # named once, not twice
    grace = check_out(demo_rt, actor_at("desk", "METRO"), "T00789012", barcode)
    assert "put it back there. Nothing waits for Grace O'Neil" in grace.message
    other_branch = held_item(demo_rt, "T00789012")
    elsewhere = check_out(demo_rt, actor_at("desk", "METRO"), "T00789012", other_branch)
    assert elsewhere.outcome is Outcome.REFUSED_NOT_ON_HOLD_FOR_PATRON
    assert "at WEST, not here at METRO" in elsewhere.message


def test_override_by_the_ill_office_is_audited(demo_rt: Runtime, actor_at: Make) -> None:
    barcode = held_item(demo_rt, "T00789012")  # waits at WEST for Grace
    with pytest.raises(PermissionDenied, match="ill_office"):
        check_out(demo_rt, actor_at("desk", "METRO"), RENEE, barcode, override=True)
    office = actor_at("office", "METRO")
    result = check_out(demo_rt, office, RENEE, barcode, override=True)
    assert result.outcome is Outcome.CHECKED_OUT and result.overridden
    with demo_rt.db.reading() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "checkout.override"))
        item = session.scalar(select(Item).where(Item.barcode == barcode))
        assert item is not None
        hold = session.scalar(select(HoldShelfEntry).where(HoldShelfEntry.item_id == item.id))
    assert event is not None
    assert event.username == "office" and event.branch_code == "METRO"
    assert "Grace O'Neil" in event.detail and "WEST" in event.detail
    assert hold is not None and hold.status is HoldStatus.CANCELLED


def test_blocks_stop_a_checkout_only_when_the_setting_says_so(
    demo_rt: Runtime, actor_at: Make
) -> None:
    with demo_rt.db.transaction() as session:
        patron = session.scalar(select(Patron).where(Patron.patron_id == RENEE))
        assert patron is not None
        session.add(
            Charge(
                patron_id=patron.id,
                kind=ChargeKind.PROCESSING_FEE,
                amount=Decimal("30.00"),
                reason="ILL lost-item processing fee",
                created_at=demo_rt.clock.now(),
                reported_at=datetime(2026, 10, 20, 12, tzinfo=UTC),
                transcript_hold=True,
            )
        )
        save_settings(session, block_checkout_on_bursar_charges=True)
    barcode = held_item(demo_rt, RENEE)
    desk = actor_at("desk", "METRO")
    blocked = check_out(demo_rt, desk, RENEE, barcode)
    assert blocked.outcome is Outcome.REFUSED_BLOCKED
    assert "reported to the bursar on 2026-10-20" in blocked.message
    assert open_loans(demo_rt, barcode) == []
    with demo_rt.db.transaction() as session:
        save_settings(session, block_checkout_on_bursar_charges=False)
    assert check_out(demo_rt, desk, RENEE, barcode).outcome is Outcome.CHECKED_OUT


def test_change_due_date_needs_a_reason_and_is_audited(demo_rt: Runtime, actor_at: Make) -> None:
    barcode = held_item(demo_rt, RENEE)
    desk = actor_at("desk", "METRO")
    first = check_out(demo_rt, desk, RENEE, barcode)
    assert first.due_date is not None
    with pytest.raises(InvalidInput, match="Say why"):
        change_due_date(demo_rt, desk, barcode, date(2027, 1, 15), "  ")
    with pytest.raises(InvalidInput, match="already passed"):
        change_due_date(demo_rt, desk, barcode, date(2026, 10, 1), "typo")
    change = change_due_date(demo_rt, desk, barcode, date(2027, 1, 15), "Lender renewed")
    assert change.old_due_date == first.due_date and change.due_date == date(2027, 1, 15)
    [loan] = open_loans(demo_rt, barcode)
    assert loan.due_date == date(2027, 1, 15) and loan.adjustment_reason == "Lender renewed"
    with demo_rt.db.reading() as session:
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "loan.change_due_date")
        )
    assert event is not None and event.detail == "Lender renewed"
    assert event.before == {"due_date": first.due_date.isoformat()}
    with pytest.raises(NotFound, match="not checked out"):
        change_due_date(
            demo_rt, desk, held_item(demo_rt, BJORN, in_library_use=True), date(2027, 1, 15), "x"
        )


def test_already_checked_out_and_unknown_items(demo_rt: Runtime, actor_at: Make) -> None:
    barcode = held_item(demo_rt, RENEE)
    desk = actor_at("desk", "METRO")
    check_out(demo_rt, desk, RENEE, barcode)
    again = check_out(demo_rt, desk, RENEE, barcode)
    assert again.outcome is Outcome.REFUSED_ALREADY_CHECKED_OUT
    assert "this patron" in again.message
    assert len(open_loans(demo_rt, barcode)) == 1
    assert check_out(demo_rt, desk, RENEE, "ILL99999997").outcome is Outcome.NOT_FOUND
    bad = check_out(demo_rt, desk, RENEE, "ILL99999990")
    assert bad.outcome is Outcome.INVALID_SCAN and "check digit" in bad.message
    assert check_out(demo_rt, desk, RENEE, "").outcome is Outcome.INVALID_SCAN
    assert check_out(demo_rt, desk, RENEE, "x" * 10_000).outcome is Outcome.INVALID_SCAN
    with pytest.raises(NotFound, match="No patron"):
        check_out(demo_rt, desk, "T99999999", barcode)


def test_own_items_go_only_to_the_ill_dummy_account(demo_rt: Runtime, actor_at: Make) -> None:
    with demo_rt.db.reading() as session:
        barcode = session.scalar(
            select(Item.barcode)
            .join(IllRequest, IllRequest.item_id == Item.id)
            .where(
                IllRequest.direction == Direction.LENDING,
                IllRequest.status == RequestStatus.TO_PULL,
            )
            .order_by(IllRequest.request_number)
        )
    assert barcode is not None
    ctl = actor_at("ctl", "METRO")
    with pytest.raises(PermissionDenied, match="ctl"):
        preview_checkout(demo_rt, actor_at("desk", "METRO"), "ILL", barcode)
    to_patron = check_out(demo_rt, ctl, RENEE, barcode)
    assert to_patron.outcome is Outcome.REFUSED_OWN_ITEM
    with pytest.raises(InvalidInput, match="strap date"):
        check_out(demo_rt, ctl, "ILL", barcode, strap_due=date(2026, 12, 1))
    lent = check_out(demo_rt, ctl, "ILL", barcode)
    assert lent.outcome is Outcome.CHECKED_OUT and not lent.is_ill
    assert lent.patron_name == "ILL" and lent.due_date is not None
    assert "YELLOW FLAG" in lent.message
    [loan] = open_loans(demo_rt, barcode)
    with demo_rt.db.reading() as session:
        dummy = session.get(Patron, loan.patron_id)
    assert dummy is not None and dummy.is_ill_dummy
    again = check_out(demo_rt, ctl, "777110346", barcode)
    assert again.outcome is Outcome.REFUSED_ALREADY_CHECKED_OUT
    unrequested = check_out(demo_rt, ctl, "ILL", "31234000000002")
    assert unrequested.outcome is Outcome.REFUSED_NOT_AVAILABLE
    assert "lending request" in unrequested.message
