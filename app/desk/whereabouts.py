"""Finding the item a scan names, and saying where the record puts it: what check-out,
in-house use and due-date changes share."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.library.errors import DatabaseUnavailable
from app.library.scanning import InvalidScan, normalize_scan
from db.engine import Database
from db.models import (
    Branch,
    Item,
    ItemKind,
    ItemStatus,
    Transit,
)

_STATUS_WORDS = {
    ItemStatus.AVAILABLE: "it is on the shelf",
    ItemStatus.IN_TRANSIT: "it is in inter-campus mail",
    ItemStatus.ON_HOLD_SHELF: "it is on a hold shelf",
    ItemStatus.CHECKED_OUT: "it is checked out",
    ItemStatus.IN_HOUSE_USE: "a patron is using it in the library",
    ItemStatus.AT_ILL_OFFICE: "it is back at the ILL office, waiting to go back to the lender",
    ItemStatus.LENT: "it is lent to another library",
    ItemStatus.CLOSED: "its loan is over and it went back to the lender",
    ItemStatus.LOST: "it is recorded as lost",
}
_PLACED_STATUSES = (
    ItemStatus.AVAILABLE,
    ItemStatus.ON_HOLD_SHELF,
    ItemStatus.CHECKED_OUT,
    ItemStatus.IN_HOUSE_USE,
)


def find_item(session: Session, barcode: str) -> tuple[Item | None, bool]:
    """The item a scan names, and whether the scan was the lender's own label instead."""
    item = session.scalar(select(Item).where(Item.barcode == barcode))
    if item is not None:
        return item, False
    by_label = session.scalar(
        select(Item)
        .where(
            Item.lender_barcode == barcode,
            Item.kind == ItemKind.TEMPORARY,
            Item.status != ItemStatus.CLOSED,
        )
        .order_by(Item.id.desc())
        .limit(1)
    )
    return by_label, by_label is not None


def lock_item(session: Session, raw: str) -> None:
    """Lock the scanned item's row first, as check-in does: two desks take turns on one item
    (same lock order everywhere, so no deadlock), and what is read next is fresh."""
    scan = normalize_scan(raw)
    if isinstance(scan, InvalidScan):
        return
    session.execute(
        select(Item.id)
        .where(or_(Item.barcode == scan.barcode, Item.lender_barcode == scan.barcode))
        .with_for_update()
    ).all()


def whereabouts_now(database: Database, raw: str) -> str:
    """Where the item stands after the other desk's change, for the refusal."""
    scan = normalize_scan(raw)
    if isinstance(scan, InvalidScan):
        return ""
    try:
        with database.reading() as session:
            item, _ = find_item(session, scan.barcode)
            return describe_whereabouts(session, item) if item is not None else ""
    except DatabaseUnavailable:
        return ""


def describe_whereabouts(session: Session, item: Item) -> str:
    """One sentence saying where the record puts an item, for refusals."""
    words = _STATUS_WORDS.get(item.status, f"its status is {item.status.value}")
    words = words[0].upper() + words[1:]
    if item.status is ItemStatus.IN_TRANSIT:
        transit = session.scalar(
            select(Transit).where(Transit.item_id == item.id, Transit.received_at.is_(None))
        )
        to = session.get(Branch, transit.to_branch_id) if transit else None
        return f"{words} to {to.code}." if to else f"{words}."
    where = session.get(Branch, item.current_branch_id) if item.current_branch_id else None
    suffix = f" at {where.code}" if where and item.status in _PLACED_STATUSES else ""
    return f"{words}{suffix}."
