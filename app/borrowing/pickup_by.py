"""How long a borrowed item waits on the hold shelf: never past the lender's date.

The pickup-by date is today plus the library's pickup days, cut back to the lender's due
date, so an item nobody collected goes back to the ILL office in time to reach the lender.
When the lender's date moves earlier after the item went onto the shelf (a recall, a date
corrected by the ILL office), the waiting hold's pickup-by date is pulled back with it; an
in-library-use item's hold stays active between uses and follows the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import HoldShelfEntry, HoldStatus


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
