"""Patron cards and items share one barcode space at the desk.

The check-out screen takes a patron card and an item strap from the same scanner: a patron
barcode equal to an item's barcode (or an item's lender label) makes a scan mean two
things. Whichever is recorded second is refused, both ways.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.library.errors import InvalidInput
from db.models import Item, Patron


def refuse_patron_barcode_of_an_item(session: Session, barcode: str) -> None:
    """A patron's card barcode may not be any item's barcode or lender label."""
    item = session.scalar(
        select(Item.barcode)
        .where(or_(Item.barcode == barcode, Item.lender_barcode == barcode))
        .limit(1)
    )
    if item is not None:
        raise InvalidInput(
            f"barcode {barcode} is already an item's barcode ({item}); a patron card needs a "
            "barcode no item has, or a scan at the desk would mean two things"
        )


def refuse_item_barcode_of_a_patron(session: Session, barcode: str, what: str) -> None:
    """An item's barcode (or lender label) may not be any patron's card barcode."""
    patron = session.scalar(select(Patron.patron_id).where(Patron.barcode == barcode).limit(1))
    if patron is not None:
        raise InvalidInput(
            f"{what} {barcode} is already the card barcode of patron {patron}: a scan at the "
            "desk would mean two things. Check the barcode, or ask for the patron's card to be "
            "renumbered."
        )
