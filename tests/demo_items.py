"""Finding and adjusting demo items, shared by the check-out tests (service, CLI, screen)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.library.runtime import Runtime
from db.models import HoldShelfEntry, HoldStatus, Item, Patron


def held_item(rt: Runtime, patron_id: str, *, in_library_use: bool = False) -> str:
    """The strap barcode of the demo item waiting on a hold shelf for this patron."""
    with rt.db.reading() as session:
        barcode = session.scalar(
            select(Item.barcode)
            .join(HoldShelfEntry, HoldShelfEntry.item_id == Item.id)
            .join(Patron, Patron.id == HoldShelfEntry.patron_id)
            .where(
                Patron.patron_id == patron_id,
                HoldShelfEntry.status == HoldStatus.ACTIVE,
                Item.in_library_use_only == in_library_use,
            )
        )
        assert barcode is not None
        return barcode


def set_lender_date(rt: Runtime, barcode: str, day: date | None) -> None:
    """Record a different lender's due date on an item, as if received with it."""
    with rt.db.transaction() as session:
        item = session.scalar(select(Item).where(Item.barcode == barcode))
        assert item is not None
        item.lender_due_date = day
