"""Holds nobody picked up: once its pickup-by date has passed, the patron is told the item
is going back ("hold_not_picked_up", once per hold), queued by the daily run per batch."""

from __future__ import annotations

import json

from sqlalchemy import String, Table, literal, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import IntegrityError

from app.library.actors import Actor
from app.library.runtime import Runtime
from db.bulk import Pacing, insert_rows
from db.models import (
    Branch,
    HoldShelfEntry,
    HoldStatus,
    Item,
    Notice,
    NoticeStatus,
    Patron,
)

NOTICES: Table = Notice.__table__  # type: ignore[assignment]
HOLDS_PER_BATCH = 2_000  # holds per transaction, as the reminders


NOT_PICKED_UP = "hold_not_picked_up"


def queue_not_picked_up(rt: Runtime, actor: Actor) -> int:
    """Tell each patron whose hold's pickup-by date has passed that the item goes back.

    Once per hold-shelf entry (its dedupe key); set-based like the reminders: one read of the
    holds without that notice yet, then one INSERT per batch. The hold itself stays active
    until the item's next check-in routes it to the ILL office.
    """
    today, now = rt.clock.today(), rt.clock.now()
    with rt.db.reading() as session:
        holds = session.execute(
            select(
                HoldShelfEntry.id,
                HoldShelfEntry.pickup_by,
                Item.title,
                Item.barcode,
                Item.request_id,
                Patron.id,
                Patron.email,
                Branch.name,
            )
            .join(Item, Item.id == HoldShelfEntry.item_id)
            .join(Patron, Patron.id == HoldShelfEntry.patron_id)
            .join(Branch, Branch.id == HoldShelfEntry.branch_id)
            .where(
                HoldShelfEntry.status == HoldStatus.ACTIVE,
                HoldShelfEntry.pickup_by < today,
                Patron.is_ill_dummy.is_(False),
                ~select(Notice.id)
                .where(
                    Notice.dedupe_key
                    == literal(f"{NOT_PICKED_UP}:") + sql_cast(HoldShelfEntry.id, String)
                )
                .exists(),
            )
            .order_by(HoldShelfEntry.id)
        ).all()
    queued = 0
    pacing = Pacing(rt.db.is_sqlite)
    for start in range(0, len(holds), HOLDS_PER_BATCH):
        rows = [
            {
                "kind": NOT_PICKED_UP,
                "status": NoticeStatus.QUEUED,
                "recipient": email,
                "patron_id": patron_id,
                "partner_symbol": None,
                "request_id": request_id,
                "loan_id": None,
                "subject": "",
                "body": "",
                "context": json.dumps(
                    {
                        "title": title,
                        "item_barcode": barcode,
                        "pickup_branch": branch_name,
                        "pickup_by": pickup_by.isoformat(),
                    },
                    sort_keys=True,
                ),
                "dedupe_key": f"{NOT_PICKED_UP}:{hold_id}",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
            for hold_id, pickup_by, title, barcode, request_id, patron_id, email, branch_name in (
                holds[start : start + HOLDS_PER_BATCH]
            )
        ]
        pacing.wait_turn()
        try:
            with rt.db.transaction() as session:
                insert_rows(session, NOTICES, rows)
            queued += len(rows)
        except IntegrityError:
            pass  # another desk's run queued this batch at the same moment; theirs counts
        finally:
            pacing.released()
    return queued
