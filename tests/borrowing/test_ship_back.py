"""Shipping borrowed items back to their lenders, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from app.borrowing.ship_back import items_to_ship, ship_back
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.library.runtime import Runtime
from db.models import AuditEvent, IllRequest, Item, ItemStatus, RequestStatus

ActorAt = Callable[[str, str], Actor]
AT_OFFICE = "ILL00000141"  # request 20261017, lender TXA


def test_list_and_ship_closes_item_and_request(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    (row,) = items_to_ship(demo_rt, office)
    assert (row.barcode, row.request_number, row.lender) == (AT_OFFICE, "20261017", "TXA")
    shipped = ship_back(demo_rt, office, f"  {AT_OFFICE.lower()}\r\n")
    assert shipped.barcode == AT_OFFICE and shipped.lender == "TXA"
    with demo_rt.db.reading() as session:
        item = session.scalar(select(Item).where(Item.barcode == AT_OFFICE))
        assert item is not None and item.status is ItemStatus.CLOSED
        assert item.closed_at is not None
        request = session.scalar(select(IllRequest).where(IllRequest.request_number == "20261017"))
        assert request is not None and request.status is RequestStatus.CLOSED
        assert request.closed_at is not None
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "ill.ship_back"))
    assert items_to_ship(demo_rt, office) == []
    with pytest.raises(Conflict, match="already shipped back"):
        ship_back(demo_rt, office, AT_OFFICE)


def test_the_lenders_own_barcode_finds_the_item(demo_rt: Runtime, actor_at: ActorAt) -> None:
    shipped = ship_back(demo_rt, actor_at("office", "WS-ILL"), "3900000014")
    assert shipped.barcode == AT_OFFICE


@pytest.mark.parametrize(
    ("barcode", "error", "message"),
    [
        ("ILL00000117", InvalidInput, "still checked out"),
        ("ILL00000133", InvalidInput, "in transit"),
        ("ILL00000042", InvalidInput, "hold shelf"),
        ("ILL00000142", InvalidInput, "check digit"),
        ("31234000000001", InvalidInput, "own items"),
        ("NOPE123", NotFound, "No item"),
        ("", InvalidInput, "Nothing was scanned"),
    ],
)
def test_items_not_ready_to_ship_are_refused(
    demo_rt: Runtime, actor_at: ActorAt, barcode: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        ship_back(demo_rt, actor_at("office", "WS-ILL"), barcode)
    assert len(items_to_ship(demo_rt, actor_at("office", "WS-ILL"))) == 1


def test_desk_staff_cannot_ship_back(demo_rt: Runtime, actor_at: ActorAt) -> None:
    with pytest.raises(PermissionDenied):
        ship_back(demo_rt, actor_at("desk", "NEC"), AT_OFFICE)
