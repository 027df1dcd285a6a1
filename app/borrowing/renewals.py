"""Recording the lender's renewal decision. Only the lender grants renewals, never the desk.

Approved: the item's lender due date and the open loan's due date follow the new date
(audited, before and after), and the patron is told. Denied: the patron is told, and
the due date stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.borrowing import request_numbers
from app.borrowing.due_date_rule import accepted_due_date, latest_due_date
from app.borrowing.pickup_by import keep_pickup_by_within
from app.borrowing.request_numbers import temporary_item_for
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput
from app.library.runtime import Runtime
from app.notices.outbox import queue_notice
from app.records import audit
from db.models import (
    Direction,
    ItemStatus,
    Loan,
    Patron,
    RequestStatus,
    Role,
)

_OPEN_ITEM = (
    ItemStatus.IN_TRANSIT,
    ItemStatus.ON_HOLD_SHELF,
    ItemStatus.CHECKED_OUT,
    ItemStatus.IN_HOUSE_USE,
)


@dataclass(frozen=True)
class RenewalResult:
    request_number: str
    approved: bool
    old_due_date: date
    new_due_date: date  # equals old_due_date when denied
    loan_updated: bool  # an open checkout's due date followed
    notice_queued: bool


def record_renewal(
    rt: Runtime,
    actor: Actor,
    request_number: str,
    *,
    approved: bool,
    new_due: date | None = None,
    override_reason: str = "",
) -> RenewalResult:
    """Record the lender's answer to a renewal request for a borrowed item.

    A new date more than two years ahead needs `override_reason` (the due-date rule), kept
    with the renewal in the audit trail.
    """
    actor.require(Role.ILL_OFFICE, "Recording renewals")
    number = request_numbers.clean_borrowing(request_number)
    today = rt.clock.today()
    now = rt.clock.now()
    if approved and new_due is None:
        raise InvalidInput("An approved renewal needs the new due date the lender gave.")
    if not approved and new_due is not None:
        raise InvalidInput("A denied renewal keeps the due date; leave the new date empty.")
    reason = " ".join(override_reason.split())[:300]
    if new_due is not None:
        accepted_due_date(
            new_due, today, what="The new due date", actor=actor, override_reason=reason
        )
    with rt.db.transaction() as session:
        request = request_numbers.find(session, number, lock=True)
        item = temporary_item_for(session, request)
        if request.direction is not Direction.BORROWING or item is None:
            raise InvalidInput(
                f"Request {number} has no borrowed item here ({request.status.value}); "
                "renewals are recorded for received loans only."
            )
        if request.status is not RequestStatus.RECEIVED or item.status not in _OPEN_ITEM:
            raise Conflict(
                f"Request {number}'s item is {item.status.value.replace('_', ' ')}: it is no "
                "longer with the patron or on its way to them, so there is nothing to renew."
            )
        old_due = item.lender_due_date or today
        loan = session.scalar(
            select(Loan).where(Loan.item_id == item.id, Loan.returned_at.is_(None))
        )
        patron = session.get(Patron, request.patron_id) if request.patron_id else None
        new = old_due
        if approved:
            assert new_due is not None
            if new_due <= old_due:
                raise InvalidInput(
                    f"The new due date {new_due.isoformat()} is not after the current one "
                    f"({old_due.isoformat()}). A renewal moves the date later; check the "
                    "lender's answer."
                )
            new = new_due
            item.lender_due_date = new
            before = {"lender_due_date": old_due.isoformat()}
            after: dict[str, object] = {"lender_due_date": new.isoformat()}
            if loan is not None:
                before["loan_due_date"] = loan.due_date.isoformat()
                loan.due_date = new
                loan.strap_due_date = new
                after["loan_due_date"] = new.isoformat()
            pulled = keep_pickup_by_within(session, item.id, new, today)
            if pulled is not None:  # never for a later date; the rule holds on every path
                before["pickup_by"] = pulled.old.isoformat()
                after["pickup_by"] = pulled.new.isoformat()
            audit.record(
                session,
                actor,
                "ill.renewal_approved",
                at=now,
                entity="ill_request",
                entity_id=request.id,
                item_id=item.id,
                patron_id=request.patron_id,
                before=before,
                after=after,
                detail=f"beyond two years: {reason}" if new > latest_due_date(today) else "",
            )
        else:
            audit.record(
                session,
                actor,
                "ill.renewal_denied",
                at=now,
                entity="ill_request",
                entity_id=request.id,
                item_id=item.id,
                patron_id=request.patron_id,
                detail=f"due date stays {old_due.isoformat()}",
            )
        notice = queue_notice(
            session,
            "renewal_approved" if approved else "renewal_denied",
            at=now,
            patron=patron,
            request_id=request.id,
            loan_id=loan.id if loan else None,
            context={
                "title": item.title,
                "request_number": number,
                "old_due_date": old_due.isoformat(),
                "due_date": new.isoformat(),
                "barcode": item.barcode,
            },
        )
        return RenewalResult(
            request_number=number,
            approved=approved,
            old_due_date=old_due,
            new_due_date=new,
            loan_updated=approved and loan is not None,
            notice_queued=notice is not None,
        )
