"""ILL request numbers: the one way to read one and find its request.

Numbers reach us typed, scanned (with a scanner's spaces and line ends) and pasted from
the ILL system, so every place that looks a request up reads the number here: the same
cleaning, the same refusal of what cannot be a number, the same "not found" message.
Borrowing requests are numbered in digits (20261004); our lending requests carry an L
(L0000012).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.library.errors import InvalidInput, NotFound
from db.models import Direction, IllRequest, Item, ItemKind

_NUMBER = re.compile(r"^[A-Z]?\d{4,12}$")
_BORROWING_NUMBER = re.compile(r"^\d{4,12}$")


def clean(text: str) -> str:
    """The number as stored: without surrounding spaces, upper-cased; refuses non-numbers."""
    value = text.strip().upper()
    if not value:
        raise InvalidInput("Type or scan the ILL request number (digits only).")
    if not _NUMBER.match(value):
        raise InvalidInput(f"'{value[:40]}' is not an ILL request number (digits only).")
    return value


def clean_borrowing(text: str) -> str:
    """A number for a borrowing request, which the ILL system gives in digits only."""
    value = clean(text)
    if not _BORROWING_NUMBER.match(value):
        raise InvalidInput(
            f"'{value[:40]}' is not an ILL request number (digits only); numbers starting "
            "with a letter are our lending requests."
        )
    return value


def find_or_none(
    session: Session, number: str, *, direction: Direction | None = None, lock: bool = False
) -> IllRequest | None:
    """The request with this (cleaned) number, locked until the transaction ends if asked."""
    query = select(IllRequest).where(IllRequest.request_number == clean(number))
    if direction is not None:
        query = query.where(IllRequest.direction == direction)
    return session.scalar(query.with_for_update() if lock else query)


def find(
    session: Session, number: str, *, direction: Direction | None = None, lock: bool = False
) -> IllRequest:
    """The request with this number; NotFound says what to check when there is none."""
    request = find_or_none(session, number, direction=direction, lock=lock)
    if request is None:
        shown = clean(number)
        if direction is Direction.LENDING:
            raise NotFound(
                f"There is no lending request {shown}. Check the number: the Lending screen "
                "(or `illdesk lend list`) shows them."
            )
        raise NotFound(
            f"There is no ILL request {shown}. Check the number on the paperwork, or import "
            "or enter the request first."
        )
    return request


def exists(session: Session, number: str) -> bool:
    """Whether any request (borrowing or lending) already has this number."""
    query = select(IllRequest.id).where(IllRequest.request_number == clean(number))
    return session.scalar(query) is not None


def temporary_item_for(session: Session, request: IllRequest) -> Item | None:
    """The borrowed item received for `request`, if any (found from either side of the link)."""
    if request.item_id is not None:
        return session.get(Item, request.item_id)
    return session.scalar(
        select(Item)
        .where(Item.request_id == request.id, Item.kind == ItemKind.TEMPORARY)
        .order_by(Item.id.desc())
        .limit(1)
    )
