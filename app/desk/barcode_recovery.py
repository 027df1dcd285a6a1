"""Finding the strap barcode of an ILL item whose strap came off.

Two ways the desk has: the patron's ID lists the ILL items in their hands; a title search
among temporary items shows each barcode and who has it. Both only read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from app.library.actors import Actor
from app.library.errors import InvalidInput, NotFound
from app.library.folding import fold
from app.library.runtime import Runtime
from app.records.patron_views import record_patron_view
from db.models import (
    Branch,
    IllRequest,
    InHouseUse,
    Item,
    ItemKind,
    ItemStatus,
    Loan,
    Patron,
)

MIN_TITLE_LETTERS = 3
MAX_RESULTS = 50
_MAX_PATRON_TEXT = 32

STATUS_WORDS = {
    ItemStatus.AVAILABLE: "available",
    ItemStatus.IN_TRANSIT: "in transit",
    ItemStatus.ON_HOLD_SHELF: "on the hold shelf",
    ItemStatus.CHECKED_OUT: "checked out",
    ItemStatus.IN_HOUSE_USE: "in library use",
    ItemStatus.AT_ILL_OFFICE: "at the ILL office",
    ItemStatus.LENT: "lent",
    ItemStatus.CLOSED: "returned to lender",
    ItemStatus.LOST: "lost",
}


@dataclass(frozen=True)
class RecoveredItem:
    """One temporary item: its strap barcode and who has it."""

    barcode: str
    title: str
    status: ItemStatus
    status_words: str
    branch: str | None  # where it is (or was last seen)
    patron_id: str | None  # the patron who has it, else the one it was borrowed for
    patron_name: str | None
    has_it: bool  # the patron has it in hand (a loan or an in-library use)
    due_date: date | None
    request_number: str | None


@dataclass(frozen=True)
class PatronItems:
    patron_id: str
    patron_name: str
    items: tuple[RecoveredItem, ...]


def items_with_patron(rt: Runtime, actor: Actor, text: str) -> PatronItems:
    """The ILL items a patron has in hand, found by campus ID or patron barcode.

    Looking a patron up is a view of their record: it is recorded in the audit trail.
    """
    value = "".join(ch for ch in text if ch.isprintable()).strip()
    if not value:
        raise InvalidInput("Type or scan the patron's campus ID (like T00123456) or card.")
    if len(value) > _MAX_PATRON_TEXT or not value.isalnum():
        raise InvalidInput(
            f"'{value[:40]}' is not a campus ID or patron barcode: letters and digits only, "
            "like T00123456."
        )
    with rt.db.transaction() as session:
        patron = session.scalar(
            select(Patron).where(or_(Patron.patron_id == value.upper(), Patron.barcode == value))
        )
        if patron is None:
            raise NotFound(
                f"No patron has the ID or barcode {value}. Check it, or search by title instead."
            )
        use = aliased(InHouseUse)
        rows = session.execute(
            select(Item, IllRequest, Loan, Branch.code)
            .join(IllRequest, IllRequest.id == Item.request_id)
            .outerjoin(Loan, and_(Loan.item_id == Item.id, Loan.returned_at.is_(None)))
            .outerjoin(use, and_(use.item_id == Item.id, use.ended_at.is_(None)))
            .outerjoin(Branch, Branch.id == Item.current_branch_id)
            .where(
                Item.kind == ItemKind.TEMPORARY,
                or_(Loan.patron_id == patron.id, use.patron_id == patron.id),
            )
            .order_by(Item.title_key, Item.barcode)
        ).all()
        items = tuple(
            _recovered(item, request, loan, branch, patron, has_it=True)
            for item, request, loan, branch in rows
        )
        record_patron_view(session, actor, patron.id, rt.clock.now(), detail="barcode recovery")
        return PatronItems(patron.patron_id, patron.display_name, items)


def search_temporary_by_title(rt: Runtime, actor: Actor, text: str) -> tuple[RecoveredItem, ...]:
    """Temporary items still in our hands whose title contains every word typed."""
    key = fold("".join(ch if ch.isalnum() else " " for ch in text))
    words = key.split()
    if len(key.replace(" ", "")) < MIN_TITLE_LETTERS:
        raise InvalidInput(f"Type at least {MIN_TITLE_LETTERS} letters of the title.")
    if len(key) > 200:
        raise InvalidInput("That is too long for a title search: type a few words of the title.")
    loan_patron = aliased(Patron)
    request_patron = aliased(Patron)
    with rt.db.reading() as session:
        rows = session.execute(
            select(Item, IllRequest, Loan, Branch.code, loan_patron, request_patron)
            .outerjoin(IllRequest, IllRequest.id == Item.request_id)
            .outerjoin(Loan, and_(Loan.item_id == Item.id, Loan.returned_at.is_(None)))
            .outerjoin(loan_patron, loan_patron.id == Loan.patron_id)
            .outerjoin(request_patron, request_patron.id == IllRequest.patron_id)
            .outerjoin(Branch, Branch.id == Item.current_branch_id)
            .where(
                Item.kind == ItemKind.TEMPORARY,
                Item.status != ItemStatus.CLOSED,
                *(Item.title_key.contains(word, autoescape=True) for word in words),
            )
            .order_by(Item.title_key, Item.barcode)
            .limit(MAX_RESULTS)
        ).all()
        return tuple(
            _recovered(
                item,
                request,
                loan,
                branch,
                holder or patron,
                has_it=holder is not None or item.status is ItemStatus.IN_HOUSE_USE,
            )
            for item, request, loan, branch, holder, patron in rows
        )


def _recovered(
    item: Item,
    request: IllRequest | None,
    loan: Loan | None,
    branch: str | None,
    patron: Patron | None,
    *,
    has_it: bool,
) -> RecoveredItem:
    return RecoveredItem(
        barcode=item.barcode,
        title=item.title,
        status=item.status,
        status_words=STATUS_WORDS.get(item.status, item.status.value),
        branch=branch,
        patron_id=patron.patron_id if patron else None,
        patron_name=patron.display_name if patron else None,
        has_it=has_it,
        due_date=loan.due_date if loan else item.lender_due_date,
        request_number=request.request_number if request else None,
    )
