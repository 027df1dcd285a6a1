"""Lost ILL items: two charges, reasons kept, only the ILL office changes them."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.library import library_settings
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, PermissionDenied
from app.library.runtime import Runtime
from app.money import charge_views, charges
from db.models import (
    AuditEvent,
    Charge,
    ChargeKind,
    IllRequest,
    Item,
    ItemStatus,
    Loan,
    Notice,
    Patron,
    RequestStatus,
)
from tests.signed_in import as_office

ActorAt = Callable[[str, str], Actor]


def checked_out_barcode(rt: Runtime, patron_id: str) -> str:
    with rt.db.reading() as s:
        barcode = s.scalar(
            select(Item.barcode)
            .join(Loan, Loan.item_id == Item.id)
            .join(Patron, Patron.id == Loan.patron_id)
            .where(Patron.patron_id == patron_id, Loan.returned_at.is_(None))
        )
    assert barcode is not None
    return barcode


def lost_barcode(rt: Runtime) -> str:
    with rt.db.reading() as s:
        barcode = s.scalar(select(Item.barcode).where(Item.status == ItemStatus.LOST))
    assert barcode is not None
    return barcode


def test_demo_patron_has_two_lost_item_charges_with_reasons(demo_rt: Runtime) -> None:
    views = charge_views.list_charges(demo_rt, as_office(demo_rt), patron_id="t00890123")
    assert {v.kind for v in views} == {ChargeKind.REPLACEMENT, ChargeKind.PROCESSING_FEE}
    replacement = next(v for v in views if v.kind is ChargeKind.REPLACEMENT)
    assert replacement.estimated and "Estimated" in replacement.note
    assert all(v.reason for v in views)


def test_declaring_lost_charges_replacement_estimate_and_fee(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    barcode = checked_out_barcode(demo_rt, "T00123456")
    result = charges.declare_lost(
        demo_rt, actor_at("office", "WS-ILL"), barcode, replacement_cost="120.50"
    )
    assert result.patron_id == "T00123456"
    assert result.total == Decimal("150.50")
    by_kind = {c.kind: c for c in result.charges}
    assert by_kind[ChargeKind.REPLACEMENT].amount == Decimal("120.50")
    assert by_kind[ChargeKind.REPLACEMENT].estimated
    assert "estimate" in by_kind[ChargeKind.REPLACEMENT].reason
    assert by_kind[ChargeKind.PROCESSING_FEE].amount == Decimal("30.00")
    assert not by_kind[ChargeKind.PROCESSING_FEE].estimated
    assert "$120.50" in result.message and "$30.00" in result.message
    with demo_rt.db.reading() as s:
        item = s.scalar(select(Item).where(Item.barcode == barcode))
        assert item is not None and item.status is ItemStatus.LOST
        req = s.get(IllRequest, item.request_id)
        assert req is not None and req.status is RequestStatus.LOST
        notice = s.scalar(select(Notice).where(Notice.kind == "lost_charges"))
        assert notice is not None and notice.recipient.endswith("@example.edu")
        assert json.loads(notice.context)["total_amount"] == "150.50"
        audit = s.scalar(select(AuditEvent).where(AuditEvent.action == "charges.declare_lost"))
        assert audit is not None and audit.username == "office"
    shown = charge_views.list_charges(demo_rt, as_office(demo_rt), patron_id="T00123456")
    assert len(shown) == 2


def test_processing_fee_comes_from_the_library_setting(demo_rt: Runtime, actor_at: ActorAt) -> None:
    with demo_rt.db.transaction() as s:
        library_settings.save(s, processing_fee="45.00")
    barcode = checked_out_barcode(demo_rt, "T00345678")
    result = charges.declare_lost(
        demo_rt,
        actor_at("office", "WS-ILL"),
        barcode,
        replacement_cost=Decimal("60"),
        estimated=False,
        long_overdue=True,
    )
    fee = next(c for c in result.charges if c.kind is ChargeKind.PROCESSING_FEE)
    assert fee.amount == Decimal("45.00")
    assert "long overdue" in fee.reason
    assert not next(c for c in result.charges if c.kind is ChargeKind.REPLACEMENT).estimated


def test_desk_staff_cannot_declare_lost_and_nothing_is_written(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    barcode = checked_out_barcode(demo_rt, "T00123456")
    with pytest.raises(PermissionDenied, match="ill_office"):
        charges.declare_lost(demo_rt, actor_at("desk", "METRO"), barcode, replacement_cost="10")
    assert len(charge_views.list_charges(demo_rt, as_office(demo_rt), patron_id="T00123456")) == 0


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "not an amount"),
        ("0", "more than 0.00"),
        ("-5", "negative"),
        ("12.345", "two decimals"),
        ("1000000", "more than"),
    ],
)
def test_bad_replacement_cost_is_refused(
    demo_rt: Runtime, actor_at: ActorAt, amount: str, message: str
) -> None:
    barcode = checked_out_barcode(demo_rt, "T00123456")
    with pytest.raises(InvalidInput, match=message):
        charges.declare_lost(
            demo_rt, actor_at("office", "WS-ILL"), barcode, replacement_cost=amount
        )
    assert charge_views.list_charges(demo_rt, as_office(demo_rt), patron_id="T00123456") == ()


def test_item_already_declared_lost_is_refused(demo_rt: Runtime, actor_at: ActorAt) -> None:
    with pytest.raises(Conflict, match="already declared lost"):
        charges.declare_lost(
            demo_rt, actor_at("office", "WS-ILL"), lost_barcode(demo_rt), replacement_cost="10"
        )


def test_own_item_and_item_not_with_a_patron_are_refused(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    with demo_rt.db.reading() as s:
        own = s.scalar(select(Item.barcode).where(Item.kind == "owned"))
        on_shelf = s.scalar(select(Item.barcode).where(Item.status == ItemStatus.ON_HOLD_SHELF))
    assert own is not None and on_shelf is not None
    with pytest.raises(InvalidInput, match="library's own items"):
        charges.declare_lost(demo_rt, office, own, replacement_cost="10")
    with pytest.raises(InvalidInput, match="on hold shelf, not with a patron"):
        charges.declare_lost(demo_rt, office, on_shelf, replacement_cost="10")


def test_only_ill_office_removes_a_charge_with_a_reason_and_it_is_audited(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    fee = next(
        v
        for v in charge_views.list_charges(demo_rt, as_office(demo_rt), patron_id="T00890123")
        if v.kind is ChargeKind.PROCESSING_FEE
    )
    with pytest.raises(PermissionDenied):
        charges.remove_charge(demo_rt, actor_at("ctl", "NEC"), fee.id, "patron asked")
    with pytest.raises(InvalidInput, match="needs a reason"):
        charges.remove_charge(demo_rt, actor_at("office", "WS-ILL"), fee.id, "   ")
    change = charges.remove_charge(
        demo_rt, actor_at("office", "WS-ILL"), fee.id, "Waived by the ILL librarian"
    )
    assert change.bursar_reminder == ""  # never reported
    assert not change.charge.is_open
    assert "Waived by the ILL librarian" in change.charge.note
    assert len(charge_views.list_charges(demo_rt, as_office(demo_rt), patron_id="T00890123")) == 1
    assert (
        len(
            charge_views.list_charges(
                demo_rt, as_office(demo_rt), patron_id="T00890123", include_removed=True
            )
        )
        == 2
    )
    with demo_rt.db.reading() as s:
        audit = s.scalar(select(AuditEvent).where(AuditEvent.action == "charges.remove"))
        assert audit is not None and audit.detail == "Waived by the ILL librarian"
    with pytest.raises(Conflict, match="already removed"):
        charges.remove_charge(demo_rt, actor_at("office", "WS-ILL"), fee.id, "again")


def test_reduce_and_actual_bill(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    views = charge_views.list_charges(demo_rt, as_office(demo_rt), patron_id="T00890123")
    replacement = next(v for v in views if v.kind is ChargeKind.REPLACEMENT)
    fee = next(v for v in views if v.kind is ChargeKind.PROCESSING_FEE)
    with pytest.raises(InvalidInput, match="not less than"):
        charges.reduce_charge(demo_rt, office, fee.id, "30.00", "no change")
    reduced = charges.reduce_charge(demo_rt, office, fee.id, "15", "Half fee: patron found receipt")
    assert reduced.charge.amount == Decimal("15.00")
    with pytest.raises(InvalidInput, match="replacement-cost charge"):
        charges.record_actual_bill(demo_rt, office, fee.id, "40")
    actual = charges.record_actual_bill(demo_rt, office, replacement.id, "92.40")
    assert actual.charge.amount == Decimal("92.40")
    assert not actual.charge.estimated
    assert "actual bill $92.40" in actual.charge.reason
    assert "estimate until" not in actual.charge.reason


def test_lost_item_coming_back_offers_removal_and_bursar_reminder(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    barcode = lost_barcode(demo_rt)
    with demo_rt.db.transaction() as s:
        for charge in s.scalars(select(Charge)):
            charge.reported_at = demo_rt.clock.now()
            charge.transcript_hold = True
    offer = charges.lost_item_returned(demo_rt, as_office(demo_rt), barcode)
    assert offer is not None
    assert offer.patron_id == "T00890123"
    assert offer.total == Decimal("115.00")
    assert len(offer.open_charges) == 2
    assert "Remove them" in offer.message
    assert "bursar" in offer.bursar_reminder and "transcript hold" in offer.bursar_reminder
    with pytest.raises(PermissionDenied):
        charges.remove_charges_for_returned_item(demo_rt, actor_at("desk", "SE"), barcode)
    removed = charges.remove_charges_for_returned_item(demo_rt, office, barcode)
    assert len(removed) == 2
    assert all("lift the transcript hold" in r.bursar_reminder for r in removed)
    assert charges.lost_item_returned(demo_rt, as_office(demo_rt), barcode) is None
    with pytest.raises(Conflict, match="no open charges"):
        charges.remove_charges_for_returned_item(demo_rt, office, barcode)


def test_item_without_charges_offers_nothing(demo_rt: Runtime) -> None:
    assert (
        charges.lost_item_returned(
            demo_rt, as_office(demo_rt), checked_out_barcode(demo_rt, "T00123456")
        )
        is None
    )


def test_a_staff_member_listing_a_patrons_charges_is_recorded_as_a_view(
    demo_rt: Runtime, actor_at: Callable[[str, str], Actor]
) -> None:
    from db.models import AuditEvent

    office = actor_at("office", "WS-ILL")
    assert len(charge_views.list_charges(demo_rt, office, patron_id="T00890123")) == 2
    with demo_rt.db.reading() as session:
        views = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "patron.view")
        ).all()
    assert views == ["charges"]
