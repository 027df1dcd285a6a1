"""In-library use of items the lender allows only in the library.

Such an item is never checked out, whoever asks. Each time the patron uses it, staff
record a use and hand it over; the hold-shelf entry stays active, and checking the item
in when it comes back puts it on the hold shelf again for the next use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.desk.whereabouts import describe_whereabouts, find_item
from app.library.actors import Actor
from app.library.branches import branch_by_code
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.runtime import Runtime
from app.library.scanning import InvalidScan, normalize_scan
from app.people.patrons import require_patron
from app.records import audit
from db.models import (
    Branch,
    HoldShelfEntry,
    HoldStatus,
    InHouseUse,
    ItemStatus,
    Patron,
)


@dataclass(frozen=True)
class InHouseUseResult:
    barcode: str
    title: str
    patron_id: str
    patron_name: str
    branch_code: str
    started_at: datetime
    uses: int  # uses recorded for this patron and item, this one included
    message: str


def record_in_house_use(
    rt: Runtime, actor: Actor, barcode: str, *, patron_ref: str | None = None
) -> InHouseUseResult:
    """Record one in-library use of an item waiting on this branch's hold shelf.

    With `patron_ref` (the patron at the desk), the item must be waiting for that patron.
    """
    scan = normalize_scan(barcode)
    if isinstance(scan, InvalidScan):
        raise InvalidInput(scan.reason)
    now = rt.clock.now()
    try:
        with rt.db.transaction() as session:
            item, _ = find_item(session, scan.barcode)
            if item is None:
                raise NotFound(
                    f"No item has the barcode {scan.barcode}. Scan the barcode at the TOP of "
                    "the strap."
                )
            if not item.in_library_use_only:
                raise InvalidInput(
                    "This item is not restricted to the library: check it out to the patron "
                    "instead."
                )
            branch = branch_by_code(session, actor.branch_code)
            open_use = session.scalar(
                select(InHouseUse).where(
                    InHouseUse.item_id == item.id, InHouseUse.ended_at.is_(None)
                )
            )
            if open_use is not None:
                raise Conflict(
                    "This item is already in use in the library. Check it in when it is "
                    "handed back, then record the next use."
                )
            hold = session.scalar(
                select(HoldShelfEntry).where(
                    HoldShelfEntry.item_id == item.id, HoldShelfEntry.status == HoldStatus.ACTIVE
                )
            )
            if hold is None or hold.branch_id != branch.id or hold.patron_id is None:
                where = describe_whereabouts(session, item)
                if hold is not None:
                    hold_branch = session.get(Branch, hold.branch_id)
                    where = (
                        f"It waits on the hold shelf at {hold_branch.code if hold_branch else '?'}."
                    )
                raise Conflict(
                    f"In-library use is recorded only for an item on this branch's hold shelf. "
                    f"{where}"
                )
            patron = session.get(Patron, hold.patron_id)
            assert patron is not None
            if patron_ref is not None:
                at_desk = require_patron(session, patron_ref)
                if at_desk.id != patron.id:
                    raise Conflict(
                        f"Held for another patron, at {branch.code}'s hold shelf: not for "
                        f"{at_desk.display_name}. Put it back on the hold shelf at {branch.code}."
                    )
            use = InHouseUse(
                item_id=item.id,
                patron_id=patron.id,
                branch_id=branch.id,
                staff_id=actor.staff_id or None,
                started_at=now,
            )
            session.add(use)
            before = item.status.value
            item.status = ItemStatus.IN_HOUSE_USE
            session.flush()
            uses = int(
                session.scalar(
                    select(func.count()).where(
                        InHouseUse.item_id == item.id, InHouseUse.patron_id == patron.id
                    )
                )
                or 0
            )
            audit.record(
                session,
                actor,
                "in_house_use.start",
                at=now,
                entity="in_house_use",
                entity_id=use.id,
                item_id=item.id,
                patron_id=patron.id,
                before={"status": before},
                after={"status": item.status.value},
            )
            return InHouseUseResult(
                barcode=item.barcode,
                title=item.title,
                patron_id=patron.patron_id,
                patron_name=patron.display_name,
                branch_code=branch.code,
                started_at=now,
                uses=uses,
                message=(
                    f"Hand it to {patron.display_name} for use in the library only. When it "
                    "comes back, check it in: it goes back on the hold shelf for the next use."
                ),
            )
    except (IntegrityError, StaleDataError):
        raise Conflict(
            "Another desk recorded a use of this item at the same moment. Nothing was recorded "
            "here; look at the item again."
        ) from None
