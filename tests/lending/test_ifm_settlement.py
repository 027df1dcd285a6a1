"""Settling the IFM balance with a partner by cheque or invoice: the ledger shows it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.lending import ifm, ifm_settlement, overdue_at_borrowers
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.library.runtime import Runtime
from db.models import AuditEvent, Direction, IfmDirection, IfmSettlement, IllRequest, RequestStatus

ActorAt = Callable[[str, str], Actor]


def _lost(rt: Runtime, direction: Direction) -> IllRequest:
    with rt.db.reading() as session:
        return session.scalars(
            select(IllRequest).where(
                IllRequest.direction == direction, IllRequest.status == RequestStatus.LOST
            )
        ).one()


@pytest.fixture
def balances(demo_rt: Runtime, actor_at: ActorAt) -> Actor:
    """UIU owes us 120.00 (our item it lost); we owe OKT 25.50 (the book our patron lost)."""
    office = actor_at("office", "WS-ILL")
    overdue_at_borrowers.review_overdue(demo_rt, office)
    for direction, amount, dummy in (
        (Direction.LENDING, "120.00", "5001"),
        (Direction.BORROWING, "25.50", "5002"),
    ):
        tx = ifm.record_transaction(
            demo_rt, office, _lost(demo_rt, direction).request_number, amount
        )
        ifm.mark_processed(demo_rt, office, tx.id, dummy)
    return office


def _partner(rt: Runtime, actor: Actor, symbol: str) -> ifm.PartnerBalance:
    return next(p for p in ifm.ledger(rt, actor).partners if p.partner_symbol == symbol)


def _count(rt: Runtime) -> int:
    with rt.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(IfmSettlement)) or 0)


def test_their_cheque_moves_the_balance_and_is_audited(
    demo_rt: Runtime, balances: Actor, clock: FixedClock
) -> None:
    assert _partner(demo_rt, balances, "UIU").settle  # 120.00 reached the 100.00 threshold
    day = clock.today() - timedelta(days=3)
    row = ifm_settlement.settle(demo_rt, balances, " uiu", "$100.00", "CHQ 004512", day.isoformat())
    assert row.direction is IfmDirection.WE_RECEIVE and row.partner_symbol == "UIU"
    assert (row.balance_before, row.balance_after) == (Decimal("120.00"), Decimal("20.00"))
    assert row.settled_on == day and row.created_by == "office"

    uiu = _partner(demo_rt, balances, "UIU")
    assert (uiu.received, uiu.settled, uiu.balance) == (
        Decimal("120.00"),
        Decimal("100.00"),
        Decimal("20.00"),
    )
    assert not uiu.settle  # below the threshold again
    book = ifm.ledger(demo_rt, balances)
    assert book.balance == Decimal("-5.50") and book.settled == Decimal("100.00")
    (listed,) = ifm_settlement.list_settlements(demo_rt, balances, partner="UIU")
    assert listed == row
    with demo_rt.db.reading() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "ifm.settle")).one()
    after = event.after or {}
    assert after["reference"] == "CHQ 004512" and after["amount"] == "100.00"
    assert after["balance"] == "20.00" and event.username == "office"


def test_our_cheque_when_we_owe_the_lender(demo_rt: Runtime, balances: Actor) -> None:
    row = ifm_settlement.settle(demo_rt, balances, "OKT", "25.50", "INV-2026-77")
    assert row.direction is IfmDirection.WE_PAY
    assert (row.balance_before, row.balance_after) == (Decimal("-25.50"), Decimal("0.00"))
    assert _partner(demo_rt, balances, "OKT").balance == Decimal("0.00")
    with pytest.raises(Conflict, match="nothing to settle"):
        ifm_settlement.settle(demo_rt, balances, "OKT", "1.00", "INV-2026-78")


def test_more_than_the_balance_is_refused_and_nothing_recorded(
    demo_rt: Runtime, balances: Actor
) -> None:
    with pytest.raises(Conflict, match=r"UIU owes us 120\.00 USD\. Record at most 120\.00"):
        ifm_settlement.settle(demo_rt, balances, "UIU", "150.00", "CHQ 1")
    with pytest.raises(Conflict, match=r"we owe OKT 25\.50"):
        ifm_settlement.settle(demo_rt, balances, "OKT", "25.51", "CHQ 2")
    with pytest.raises(NotFound, match="no IFM balance with ZZZ"):
        ifm_settlement.settle(demo_rt, balances, "ZZZ", "5", "CHQ 3")
    assert _count(demo_rt) == 0
    assert _partner(demo_rt, balances, "UIU").balance == Decimal("120.00")


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("-20", "negative"),
        ("0", "more than 0.00"),
        ("0.00", "more than 0.00"),
        ("12.345", "more than two decimals"),
        ("NaN", "not an amount"),
        ("1e2", "not an amount"),
        ("", "Enter the settlement amount"),
        ("9" * 10_000, "more than the largest amount"),
        ("x" * 10_000, "not an amount"),
    ],
)
def test_impossible_amounts_are_named(
    demo_rt: Runtime, balances: Actor, amount: str, says: str
) -> None:
    with pytest.raises(InvalidInput, match=says) as refused:
        ifm_settlement.settle(demo_rt, balances, "UIU", amount, "CHQ 9")
    assert len(refused.value.message) < 400  # a readable message, not the input echoed
    assert _count(demo_rt) == 0


@pytest.mark.parametrize(
    ("reference", "day", "says"),
    [
        ("", None, "Enter the cheque or invoice number"),
        ("R" * 10_000, None, "10,000 characters long; at most 100"),
        ("CHQ\n12", None, "control characters"),
        ("CHQ 1", "next week", "not a date"),
        ("CHQ 1", "2999-01-01", "in the future"),
        ("CHQ 1", "2001-01-01", "more than a year ago"),
    ],
)
def test_bad_reference_or_date_is_named(
    demo_rt: Runtime, balances: Actor, reference: str, day: str | None, says: str
) -> None:
    with pytest.raises(InvalidInput, match=says):
        ifm_settlement.settle(demo_rt, balances, "UIU", "10", reference, day)
    assert _count(demo_rt) == 0


def test_only_the_ill_office_settles(demo_rt: Runtime, balances: Actor, actor_at: ActorAt) -> None:
    with pytest.raises(PermissionDenied):
        ifm_settlement.settle(demo_rt, actor_at("ctl", "METRO"), "UIU", "10", "CHQ 1")
    with pytest.raises(PermissionDenied):
        ifm_settlement.list_settlements(demo_rt, actor_at("desk", "METRO"))
