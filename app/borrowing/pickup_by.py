"""How long a borrowed item waits on the hold shelf: never past the lender's date.

The pickup-by date is today plus the library's pickup days, cut back to the lender's due
date, so an item nobody collected goes back to the ILL office in time to reach the lender.
When the lender's date moves earlier after the item went onto the shelf (a recall, a date
corrected by the ILL office), the waiting hold's pickup-by date is pulled back with it; an
in-library-use item's hold stays active between uses and follows the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.notices.outbox import queue_notice
from db.models import Branch, HoldShelfEntry, HoldStatus, IllRequest, Item, Patron


def pickup_by_date(today: date, pickup_days: int, lender_due_date: date | None) -> date:
    """Today plus the library's pickup days, never past the lender's due date (nor today)."""
    last = today + timedelta(days=max(pickup_days, 0))
    if lender_due_date is not None and lender_due_date < last:
        last = max(lender_due_date, today)
    return last


@dataclass(frozen=True)
class PickupByPulledBack:
    """An active hold's pickup-by date moved earlier to stay within the lender's date."""

    old: date
    new: date


def keep_pickup_by_within(
    session: Session, item_id: int, lender_due_date: date, today: date
) -> PickupByPulledBack | None:
    """Pull the item's active hold's pickup-by date back to `lender_due_date` (not before
    today) if it now passes it; None when there is no such hold or it already fits.

    Call it in the transaction that changes the lender's date; the caller audits the change.
    """
    hold = session.scalar(
        select(HoldShelfEntry).where(
            HoldShelfEntry.item_id == item_id, HoldShelfEntry.status == HoldStatus.ACTIVE
        )
    )
    if hold is None:
        return None
    latest = max(lender_due_date, today)
    if hold.pickup_by <= latest:
        return None
    pulled = PickupByPulledBack(hold.pickup_by, latest)
    hold.pickup_by = latest
    return pulled


def tell_patron_new_pickup_by(session: Session, item: Item, pickup_by: date, at: datetime) -> bool:
    """The patron was told a later pickup-by date: queue the ready-for-pickup notice again,
    with the new date, unless the ILL system tells this request's patron itself.

    True when a notice was queued.
    """
    hold = session.scalar(
        select(HoldShelfEntry).where(
            HoldShelfEntry.item_id == item.id, HoldShelfEntry.status == HoldStatus.ACTIVE
        )
    )
    request = session.get(IllRequest, item.request_id) if item.request_id else None
    if hold is None or hold.patron_id is None or request is None or not request.notify_patron:
        return False
    patron = session.get(Patron, hold.patron_id)
    branch = session.get(Branch, hold.branch_id)
    notice = queue_notice(
        session,
        "ready_for_pickup",
        at=at,
        patron=patron,
        request_id=request.id,
        context={
            "title": item.title,
            "barcode": item.barcode,
            "request_number": request.request_number,
            "pickup_branch": branch.name if branch else "",
            "pickup_by": pickup_by.isoformat(),
            "due_date": item.lender_due_date.isoformat() if item.lender_due_date else "",
            "in_library_use_only": item.in_library_use_only,
        },
        dedupe_key=f"ready_for_pickup:{item.id}:{pickup_by.isoformat()}",
    )
    return notice is not None
