"""Shipping borrowed items back to their lenders, which ends their life here.

Items checked in at the ILL office (status `at_ill_office`) wait in a list; marking one
"shipped" closes the temporary item and its request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.runtime import Runtime
from app.library.scanning import InvalidScan, normalize_scan
from app.records import audit
from db.models import IllRequest, Item, ItemKind, ItemStatus, MissingPiece, RequestStatus, Role


@dataclass(frozen=True)
class ShipBackRow:
    barcode: str
    request_number: str
    title: str
    lender: str
    lender_due_date: date | None
    lender_barcode: str
    pieces: int = 1
    piece_missing: bool = False  # an open missing-piece flag: the lender should be told


@dataclass(frozen=True)
class Shipped:
    barcode: str
    request_number: str
    title: str
    lender: str
    closed_at: datetime
    pieces: int = 1
    reminder: str = ""  # the pieces to pack, and a piece still reported missing


def _open_flags(session: Session, item_ids: list[int]) -> set[int]:
    if not item_ids:
        return set()
    return set(
        session.scalars(
            select(MissingPiece.item_id).where(
                MissingPiece.item_id.in_(item_ids), MissingPiece.cleared_at.is_(None)
            )
        )
    )


def _reminder(pieces: int, piece_missing: bool) -> str:
    words = []
    if pieces > 1:
        every = "both" if pieces == 2 else f"all {pieces}"
        words.append(f"{pieces} pieces: pack {every} together.")
    if piece_missing:
        words.append(
            "A piece was reported missing and the flag is still open: tell the lender, or "
            "clear the flag if it turned up."
        )
    return " ".join(words)


def items_to_ship(rt: Runtime, actor: Actor) -> list[ShipBackRow]:
    """Borrowed items back at the ILL office, by lender, soonest due first."""
    actor.require(Role.ILL_OFFICE, "The ship-back list")
    with rt.db.reading() as session:
        rows = session.execute(
            select(Item, IllRequest)
            .join(IllRequest, IllRequest.id == Item.request_id)
            .where(Item.kind == ItemKind.TEMPORARY, Item.status == ItemStatus.AT_ILL_OFFICE)
            .order_by(IllRequest.lender_symbol, Item.lender_due_date, Item.barcode)
        ).all()
        flagged = _open_flags(session, [item.id for item, _request in rows])
        return [
            ShipBackRow(
                barcode=item.barcode,
                request_number=request.request_number,
                title=item.title,
                lender=request.lender_symbol or "",
                lender_due_date=item.lender_due_date,
                lender_barcode=item.lender_barcode or "",
                pieces=item.pieces,
                piece_missing=item.id in flagged,
            )
            for item, request in rows
        ]


_NOT_YET = {
    ItemStatus.CHECKED_OUT: "is still checked out to its patron: check it in first",
    ItemStatus.IN_TRANSIT: "is in transit: check it in at the ILL office's branch first",
    ItemStatus.ON_HOLD_SHELF: "is on a hold shelf waiting for its patron: check it in first",
    ItemStatus.IN_HOUSE_USE: "is in in-library use: check it in first",
    ItemStatus.CLOSED: "was already shipped back and closed",
    ItemStatus.LOST: "is marked lost: settle the charges before closing it",
}


def ship_back(rt: Runtime, actor: Actor, barcode: str) -> Shipped:
    """Mark a borrowed item shipped to its lender: item and request are closed."""
    actor.require(Role.ILL_OFFICE, "Shipping items back to lenders")
    scan = normalize_scan(barcode)
    if isinstance(scan, InvalidScan):
        raise InvalidInput(scan.reason)
    now = rt.clock.now()
    with rt.db.transaction() as session:
        item = session.scalar(select(Item).where(Item.barcode == scan.barcode))
        if item is None:
            item = session.scalar(
                select(Item).where(
                    Item.lender_barcode == scan.barcode, Item.kind == ItemKind.TEMPORARY
                )
            )
        if item is None:
            raise NotFound(
                f"No item has the barcode {scan.barcode}. Scan the barcode at the TOP of the strap."
            )
        if item.kind is not ItemKind.TEMPORARY or item.request_id is None:
            raise InvalidInput(
                f"{item.barcode} is one of the library's own items, not a borrowed one; "
                "nothing to ship back."
            )
        if item.status is not ItemStatus.AT_ILL_OFFICE:
            reason = _NOT_YET.get(item.status, f"is {item.status.value}")
            error = Conflict if item.status is ItemStatus.CLOSED else InvalidInput
            raise error(f"{item.barcode} {reason}.")
        request = session.get(IllRequest, item.request_id)
        assert request is not None
        reminder = _reminder(item.pieces, item.id in _open_flags(session, [item.id]))
        item.status = ItemStatus.CLOSED
        item.closed_at = now
        item.current_branch_id = None
        before = {"request_status": request.status.value}
        request.status = RequestStatus.CLOSED
        request.closed_at = now
        request.updated_at = now
        audit.record(
            session,
            actor,
            "ill.ship_back",
            at=now,
            entity="item",
            entity_id=item.id,
            item_id=item.id,
            patron_id=request.patron_id,
            before={"status": ItemStatus.AT_ILL_OFFICE.value, **before},
            after={"status": ItemStatus.CLOSED.value, "request_status": "closed"},
            detail=f"shipped to {request.lender_symbol or 'the lender'}",
        )
        return Shipped(
            barcode=item.barcode,
            request_number=request.request_number,
            title=item.title,
            lender=request.lender_symbol or "",
            closed_at=now,
            pieces=item.pieces,
            reminder=reminder,
        )
