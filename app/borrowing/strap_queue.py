"""The ILL office's print queue: straps of received items that nobody has printed yet.

An item the ILL system receives over NCIP (AcceptItem) arrives while nobody may be at the
window, so its strap waits here; one received at the window waits too until its print or
PDF succeeded (a cancelled print dialog leaves it waiting). The office prints every waiting
strap as one batch, and only the straps that were printed leave the queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from app.library.actors import Actor
from app.library.runtime import Runtime
from app.records import audit
from db.models import Branch, IllRequest, Item, ItemStatus, Role, StrapPrint

# A strap for an item already gone back to its lender (or lost) is not worth printing.
_GONE = (ItemStatus.CLOSED, ItemStatus.LOST)
EMPTY_QUEUE = (
    "No straps waiting to print: every item received has had its strap printed or saved. "
    "Items the ILL system receives over NCIP wait here until someone prints their straps."
)


@dataclass(frozen=True)
class WaitingStrap:
    """One strap in the queue, as the list shows it (no patron: the strap names them)."""

    strap_barcode: str
    request_number: str
    title: str
    destination: str  # the pickup branch's code
    in_library_use_only: bool
    queued_at: datetime


def queue_strap(session: Session, item_id: int, at: datetime) -> None:
    """Put a just-received item's strap in the queue (in the receipt's transaction)."""
    session.add(StrapPrint(item_id=item_id, queued_at=at))


def _waiting() -> Select[int]:
    return (
        select(StrapPrint.item_id)
        .join(Item, Item.id == StrapPrint.item_id)
        .where(StrapPrint.printed_at.is_(None), Item.status.not_in(_GONE))
    )


def waiting_item_ids(session: Session) -> list[int]:
    """The items whose straps wait, oldest first (the order the batch prints them in)."""
    return list(session.scalars(_waiting().order_by(StrapPrint.queued_at, StrapPrint.item_id)))


def waiting_count(rt: Runtime, actor: Actor) -> int:
    actor.require(Role.ILL_OFFICE, "The straps waiting to print")
    with rt.db.reading() as session:
        return session.scalar(select(func.count()).select_from(_waiting().subquery())) or 0


def waiting_straps(rt: Runtime, actor: Actor) -> list[WaitingStrap]:
    """The queue, oldest first."""
    actor.require(Role.ILL_OFFICE, "The straps waiting to print")
    with rt.db.reading() as session:
        rows = session.execute(
            select(
                Item.barcode,
                IllRequest.request_number,
                Item.title,
                Branch.code,
                Item.in_library_use_only,
                StrapPrint.queued_at,
            )
            .select_from(StrapPrint)
            .join(Item, Item.id == StrapPrint.item_id)
            .outerjoin(IllRequest, IllRequest.id == Item.request_id)
            .outerjoin(Branch, Branch.id == IllRequest.pickup_branch_id)
            .where(StrapPrint.printed_at.is_(None), Item.status.not_in(_GONE))
            .order_by(StrapPrint.queued_at, StrapPrint.item_id)
        ).all()
    return [
        WaitingStrap(barcode, number or "", title, code or "", bool(use), queued)
        for barcode, number, title, code, use, queued in rows
    ]


def mark_straps_printed(rt: Runtime, actor: Actor, barcodes: Sequence[str], how: str) -> list[str]:
    """Take the straps that were printed (or saved) out of the queue; audited per strap.

    Call it only after the print or the PDF succeeded. Straps already printed, or never
    queued, are left as they are; returns the barcodes that left the queue.
    """
    actor.require(Role.ILL_OFFICE, "Printing book straps")
    if not barcodes:
        return []
    now = rt.clock.now()
    with rt.db.transaction() as session:
        waiting = session.execute(
            select(Item.id, Item.barcode, Item.request_id)
            .join(StrapPrint, StrapPrint.item_id == Item.id)
            .where(Item.barcode.in_(list(barcodes)), StrapPrint.printed_at.is_(None))
            .order_by(Item.id)
        ).all()
        if not waiting:
            return []
        session.execute(
            update(StrapPrint)
            .where(
                StrapPrint.item_id.in_([row.id for row in waiting]),
                StrapPrint.printed_at.is_(None),
            )
            .values(printed_at=now, printed_by=actor.staff_id or None)
        )
        for row in waiting:
            audit.record(
                session,
                actor,
                "ill.strap_printed",
                at=now,
                entity="item",
                entity_id=row.id,
                item_id=row.id,
                after={"strap_barcode": row.barcode, "printed_at": now.isoformat()},
                detail=how,
            )
        return [row.barcode for row in waiting]
