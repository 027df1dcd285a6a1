"""Holds nobody picked up: the campus's daily list of items to pull from its hold shelf.

An item waits on the hold shelf until its pickup-by date (never past the lender's due date).
The day after, the daily notices run tells the patron it is going back, and the campus pulls
it: its next check-in ends the hold and routes it to the ILL office (WS-ILL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.library import library_settings
from app.library.actors import Actor
from app.library.branches import branch_by_code
from app.library.runtime import Runtime
from app.people.patron_names import patron_label
from db.models import HoldShelfEntry, HoldStatus, Item, Patron, Role


@dataclass(frozen=True)
class HoldToPull:
    """One hold-shelf item whose pickup-by date has passed."""

    branch: str
    barcode: str
    title: str
    patron: str  # as the library's patron_display setting shows patrons
    patron_id: str  # the campus ID ("" when the patron was anonymised)
    pickup_by: date
    days_past: int  # days since the pickup-by date
    in_library_use_only: bool
    pieces: int = 1  # physical pieces under the strap: pull every one


def holds_to_pull(rt: Runtime, actor: Actor, branch_code: str = "") -> list[HoldToPull]:
    """Active holds at `branch_code` (default: the desk's branch) past their pickup-by date,
    the oldest first: pull them and check them in, which sends them to the ILL office."""
    actor.require(Role.DESK, "The list of holds to pull")
    today = rt.clock.today()
    with rt.db.reading() as session:
        branch = branch_by_code(session, branch_code.strip() or actor.branch_code)
        display = library_settings.load(session).patron_display
        rows = session.execute(
            select(
                Item.barcode,
                Item.title,
                Patron.first_name,
                Patron.last_name,
                Patron.patron_id,
                HoldShelfEntry.pickup_by,
                Item.in_library_use_only,
                Item.pieces,
            )
            .join(Item, Item.id == HoldShelfEntry.item_id)
            .outerjoin(Patron, Patron.id == HoldShelfEntry.patron_id)
            .where(
                HoldShelfEntry.status == HoldStatus.ACTIVE,
                HoldShelfEntry.branch_id == branch.id,
                HoldShelfEntry.pickup_by < today,
            )
            .order_by(HoldShelfEntry.pickup_by, Item.barcode)
        ).all()
        return [
            HoldToPull(
                branch=branch.code,
                barcode=barcode,
                title=title,
                patron=patron_label(first or "", last or "", campus_id, display)
                if campus_id
                else "",
                patron_id=campus_id or "",
                pickup_by=pickup_by,
                days_past=(today - pickup_by).days,
                in_library_use_only=library_use,
                pieces=pieces,
            )
            for barcode, title, first, last, campus_id, pickup_by, library_use, pieces in rows
        ]
