"""IFM replacement: the dummy-request fields both ways, the ledger and the settlement flag."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.lending import ifm, overdue_at_borrowers
from app.library import library_settings
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, PermissionDenied
from app.library.runtime import Runtime
from db.models import (
    Direction,
    IfmDirection,
    IfmStatus,
    IllRequest,
    RequestStatus,
)
from tests.signed_in import as_office

ActorAt = Callable[[str, str], Actor]


def _lost(rt: Runtime, direction: Direction) -> IllRequest:
    with rt.db.reading() as session:
        return session.scalars(
            select(IllRequest).where(
                IllRequest.direction == direction, IllRequest.status == RequestStatus.LOST
            )
        ).one()


@pytest.fixture
def lost_lent(demo_rt: Runtime, actor_at: ActorAt) -> IllRequest:
    """The demo's item 45 days overdue at UIU, now lost and billable."""
    overdue_at_borrowers.review_overdue(demo_rt, actor_at("office", "WS-ILL"))
    return _lost(demo_rt, Direction.LENDING)


def test_fields_when_a_borrower_lost_our_item() -> None:
    fields = ifm.build_fields(
        IfmDirection.WE_RECEIVE,
        title="West Texas Oil Towns",
        original_request_number="9100003",
        our_symbol="EXC",
        partner_symbol="UIU",
        amount=Decimal("85"),
    )
    assert fields.title == "West Texas Oil Towns (Replacement for request #9100003)"
    assert "replacement cost of a lost item" in fields.verification_note
    assert fields.lender_string == "EXC"
    assert fields.use_ifm is True
    assert fields.max_cost == Decimal("85.00") and fields.currency == "USD"
    assert dict(fields.copy_rows())["Max cost"] == "85.00"


def test_fields_when_we_pay_the_lender() -> None:
    fields = ifm.build_fields(
        IfmDirection.WE_PAY,
        title="Silent Spring",
        original_request_number="20261021",
        our_symbol="EXC",
        partner_symbol="OKT",
        amount=Decimal("42.5"),
    )
    assert fields.title == "Silent Spring (Replacement for request #20261021)"
    assert fields.lender_string == "OKT"
    assert fields.max_cost == Decimal("42.50")


@pytest.mark.parametrize(
    ("text", "value"),
    [("85", "85.00"), ("85.5", "85.50"), ("$1,250.00", "1250.00"), (" 12.34 USD", "12.34")],
)
def test_amounts_parse_strictly(text: str, value: str) -> None:
    assert ifm.parse_amount(text) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "Enter the replacement cost"),
        ("abc", "not an amount"),
        ("85.123", "more than two decimals"),
        ("1,25.00", "not an amount"),
        ("€85", "not an amount"),
        ("-5", "negative"),
        ("0.00", "more than 0.00"),
        ("1e3", "not an amount"),
        ("NaN", "not an amount"),
        ("100000000", "largest amount"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        ifm.parse_amount(text)


def test_we_receive_pending_then_processed_closes_the_original(
    demo_rt: Runtime, actor_at: ActorAt, lost_lent: IllRequest
) -> None:
    office = actor_at("office", "WS-ILL")
    preview = ifm.preview(demo_rt, office, lost_lent.request_number, "85.00")
    assert preview.lender_string == "EXC" and preview.partner_symbol == "UIU"
    assert preview.title.endswith(f"(Replacement for request #{lost_lent.partner_request_number})")
    tx = ifm.record_transaction(demo_rt, office, lost_lent.request_number, "85.00")
    assert tx.status is IfmStatus.PENDING and tx.direction is IfmDirection.WE_RECEIVE
    assert tx.fields == preview
    assert _lost(demo_rt, Direction.LENDING).id == lost_lent.id  # still open while pending
    with pytest.raises(Conflict, match="already has IFM transaction"):
        ifm.record_transaction(demo_rt, office, lost_lent.request_number, "85.00")
    with pytest.raises(InvalidInput, match="dummy request"):
        ifm.mark_processed(demo_rt, office, tx.id, "  ")
    done = ifm.mark_processed(demo_rt, office, tx.id, "31415926")
    assert done.status is IfmStatus.PROCESSED and done.dummy_request_number == "31415926"
    assert done.original_status is RequestStatus.CLOSED
    with demo_rt.db.reading() as session:
        req = session.get_one(IllRequest, lost_lent.id)
        assert req.status is RequestStatus.CLOSED and "31415926" in req.status_note
    with pytest.raises(Conflict, match="already processed"):
        ifm.mark_processed(demo_rt, office, tx.id, "31415926")


def test_we_pay_for_a_borrowed_item_our_patron_lost(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    lost = _lost(demo_rt, Direction.BORROWING)
    tx = ifm.record_transaction(demo_rt, office, lost.request_number, "85")
    assert tx.direction is IfmDirection.WE_PAY
    assert tx.fields.lender_string == lost.lender_symbol == tx.partner_symbol
    assert tx.fields.title == f"{lost.title} (Replacement for request #{lost.request_number})"
    ifm.mark_processed(demo_rt, office, tx.id, "27182818")
    with demo_rt.db.reading() as session:
        assert session.get_one(IllRequest, lost.id).status is RequestStatus.CLOSED


def test_only_lost_requests_and_only_the_office(
    demo_rt: Runtime, actor_at: ActorAt, lost_lent: IllRequest
) -> None:
    with pytest.raises(PermissionDenied):
        ifm.record_transaction(demo_rt, actor_at("ctl", "METRO"), lost_lent.request_number, "85.00")
    with demo_rt.db.reading() as session:
        shipped = session.scalars(
            select(IllRequest).where(IllRequest.status == RequestStatus.SHIPPED)
        ).first()
    assert shipped is not None
    with pytest.raises(Conflict, match="not lost"):
        ifm.record_transaction(demo_rt, actor_at("office", "WS-ILL"), shipped.request_number, "9")
    assert ifm.list_transactions(demo_rt, as_office(demo_rt)) == []


def test_ledger_sums_per_partner_and_threshold_flag(
    demo_rt: Runtime, actor_at: ActorAt, lost_lent: IllRequest
) -> None:
    office = actor_at("office", "WS-ILL")
    received = ifm.record_transaction(demo_rt, office, lost_lent.request_number, "60.00")
    paid = ifm.record_transaction(
        demo_rt, office, _lost(demo_rt, Direction.BORROWING).request_number, "25.50"
    )
    book = ifm.ledger(demo_rt, as_office(demo_rt))
    assert book.balance == Decimal("0.00") and book.pending == Decimal("34.50")
    assert book.threshold == Decimal("100.00") and not book.settle

    ifm.mark_processed(demo_rt, office, received.id, "1001")
    ifm.mark_processed(demo_rt, office, paid.id, "1002")
    book = ifm.ledger(demo_rt, as_office(demo_rt))
    by_partner = {p.partner_symbol: p for p in book.partners}
    assert by_partner["UIU"].balance == Decimal("60.00")
    assert by_partner["OKT"].balance == Decimal("-25.50")
    assert (book.received, book.paid, book.balance) == (
        Decimal("60.00"),
        Decimal("25.50"),
        Decimal("34.50"),
    )
    assert book.pending == Decimal("0.00") and not book.settle

    with demo_rt.db.transaction() as session:
        library_settings.save(session, ifm_settlement_threshold="34.50")
    book = ifm.ledger(demo_rt, as_office(demo_rt))
    assert book.settle  # reaching the threshold exactly counts
    flags = {p.partner_symbol: p.settle for p in book.partners}
    assert flags == {"OKT": False, "UIU": True}
    with demo_rt.db.transaction() as session:
        library_settings.save(session, ifm_settlement_threshold="25.50")
    flags = {p.partner_symbol: p.settle for p in ifm.ledger(demo_rt, as_office(demo_rt)).partners}
    assert flags == {"OKT": True, "UIU": True}  # minus the threshold counts too
    assert [
        t.status for t in ifm.list_transactions(demo_rt, as_office(demo_rt), partner="uiu")
    ] == [IfmStatus.PROCESSED]


def test_lost_requests_both_ways_with_their_ifm_state(
    demo_rt: Runtime, actor_at: ActorAt, lost_lent: IllRequest
) -> None:
    office = actor_at("office", "WS-ILL")
    ifm.record_transaction(demo_rt, office, lost_lent.request_number, "40")
    rows = {r.direction: r for r in ifm.lost_requests(demo_rt, as_office(demo_rt))}
    assert rows[IfmDirection.WE_RECEIVE].partner_symbol == "UIU"
    assert rows[IfmDirection.WE_RECEIVE].transaction_status is IfmStatus.PENDING
    assert rows[IfmDirection.WE_PAY].transaction_status is None
