"""The writes of a check-in: SQLAlchemy Core statements only, built once.

No ORM unit of work and no reloads: UPDATEs of the rows the read returned, INSERTs of the
new transit or hold-shelf entry, the ready-for-pickup notice (its de-duplication key made
from the new hold's id by `INSERT ... SELECT`), the audit event and the scan's idempotency
key. The item's UPDATE bumps `version` and names the version read (`WHERE id = :id AND
version = :v`). Inserts are inline: no RETURNING of the new id, which would cost a round
trip of its own inside the PostgreSQL pipeline.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    String,
    Table,
    bindparam,
    cast,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm.exc import StaleDataError

from app.borrowing.pickup_by import pickup_by_date
from app.desk.checkin_wording import Place
from app.desk.routing import Decision, Outcome
from app.library import transits
from app.library.actors import Actor
from app.records import audit
from db.models import (
    AppliedScan,
    AuditEvent,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    InHouseUse,
    Item,
    Loan,
    NotFoundScan,
    Notice,
    NoticeStatus,
    RequestStatus,
    Transit,
)
from db.pipeline import in_pipeline

READY_FOR_PICKUP = "ready_for_pickup"


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


_ITEMS = _table(Item)
_LOANS = _table(Loan)
_TRANSITS = _table(Transit)
_HOLDS = _table(HoldShelfEntry)
_USES = _table(InHouseUse)
_REQUESTS = _table(IllRequest)
_NOTICES = _table(Notice)
_AUDIT = _table(AuditEvent)
_APPLIED = _table(AppliedScan)
_NOT_FOUND = _table(NotFoundScan)


def staff_id(actor: Actor) -> int | None:
    return actor.staff_id or None


# Inline inserts: no RETURNING of the new id, which would need its own round trip.
INSERT_APPLIED = insert(_APPLIED).inline()
INSERT_NOT_FOUND = insert(_NOT_FOUND).inline()
_INSERT_TRANSIT = insert(_TRANSITS).inline()
_INSERT_HOLD = insert(_HOLDS).inline()
_INSERT_AUDIT = insert(_AUDIT).inline()
_RECEIVE_TRANSIT = (
    update(_TRANSITS)
    .where(_TRANSITS.c.id == bindparam("row_id"))
    .values(received_at=bindparam("at"), received_by_id=bindparam("staff"))
)
_END_LOAN = (
    update(_LOANS)
    .where(_LOANS.c.id == bindparam("row_id"))
    .values(returned_at=bindparam("at"), returned_branch_id=bindparam("branch"))
)
_END_USE = update(_USES).where(_USES.c.id == bindparam("row_id")).values(ended_at=bindparam("at"))
_EXPIRE_HOLD = (
    update(_HOLDS)
    .where(_HOLDS.c.id == bindparam("row_id"))
    .values(status=HoldStatus.EXPIRED, ended_at=bindparam("at"))
)
# Always bumps the version, even when only the branch is set again: other desks must see it.
_MOVE_ITEM = (
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("row_id"), _ITEMS.c.version == bindparam("seen_version"))
    .values(
        status=bindparam("new_status"),
        current_branch_id=bindparam("branch"),
        version=_ITEMS.c.version + 1,
    )
)
_REQUEST_RETURNED = (
    update(_REQUESTS)
    .where(_REQUESTS.c.id == bindparam("row_id"))
    .values(status=RequestStatus.RETURNED)
)
_CLOSE_LENDING = (
    update(_REQUESTS)
    .where(_REQUESTS.c.id == bindparam("row_id"))
    .values(status=RequestStatus.CLOSED, closed_at=bindparam("at"))
)


def _queue_ready_statement() -> Any:
    """The ready-for-pickup notice, keyed by the hold-shelf entry made just before it.

    The entry's id is not known to the client until the batch has run, so the notice is
    made from it on the server (`INSERT ... SELECT`). A brand-new entry's key cannot have
    been used, so no de-duplication check is needed.
    """
    n = _NOTICES.c
    columns = {
        "kind": literal(READY_FOR_PICKUP, String),
        "status": bindparam("notice_status", type_=n.status.type),
        "recipient": bindparam("recipient", type_=n.recipient.type),
        "patron_id": bindparam("patron", type_=n.patron_id.type),
        "request_id": bindparam("request", type_=n.request_id.type),
        "context": bindparam("context", type_=n.context.type),
        "dedupe_key": bindparam("key_prefix", type_=String) + cast(_HOLDS.c.id, String),
        "created_at": bindparam("at", type_=n.created_at.type),
        "next_attempt_at": bindparam("at2", type_=n.next_attempt_at.type),
    }
    source = select(*(value.label(name) for name, value in columns.items())).where(
        _HOLDS.c.item_id == bindparam("item"), _HOLDS.c.status == HoldStatus.ACTIVE
    )
    return insert(_NOTICES).from_select(list(columns), source)


_QUEUE_READY = _queue_ready_statement()


def apply(
    conn: Connection,
    row: Row[Any],
    decision: Decision,
    actor: Actor,
    desk: Place,
    now: datetime,
    today: date,
    pickup_days: int,
) -> date | None:
    """Carry out the decision; returns the pickup-by date of a new hold-shelf entry.

    Statements go in the order the database's one-open-row indexes need: the open transit
    is closed before the new one is opened.
    """
    if not decision.changes_state:
        return None
    staff = staff_id(actor)
    if decision.receive_transit and row.transit_id is not None:
        conn.execute(_RECEIVE_TRANSIT, {"row_id": row.transit_id, "at": now, "staff": staff})
    if decision.end_loan and row.loan_id is not None:
        conn.execute(_END_LOAN, {"row_id": row.loan_id, "at": now, "branch": desk.id})
    if decision.end_in_house_use and row.use_id is not None:
        conn.execute(_END_USE, {"row_id": row.use_id, "at": now})
    if decision.expire_hold and row.hold_id is not None:
        conn.execute(_EXPIRE_HOLD, {"row_id": row.hold_id, "at": now})
    if decision.start_transit is not None and decision.destination_id is not None:
        conn.execute(
            _INSERT_TRANSIT,
            transits.columns(
                actor,
                row.item_id,
                from_branch_id=desk.id,
                to_branch_id=decision.destination_id,
                reason=decision.start_transit,
                at=now,
            ),
        )
    pickup_by: date | None = None
    if decision.place_hold:
        pickup_by = pickup_by_date(today, pickup_days, row.lender_due_date)
        conn.execute(
            _INSERT_HOLD,
            {
                "item_id": row.item_id,
                "patron_id": row.patron_row_id,
                "branch_id": desk.id,
                "status": HoldStatus.ACTIVE,
                "placed_at": now,
                "pickup_by": pickup_by,
            },
        )
        # A request the ILL system notifies its patron about ("Hold For Pickup" over NCIP)
        # gets no notice from us.
        if (
            decision.outcome is Outcome.HOLD_SHELF
            and row.patron_row_id is not None
            and row.notify_patron is not False
        ):
            _queue_ready_notice(conn, row, desk, now, pickup_by)
    status = decision.item_status or row.item_status
    moved = conn.execute(
        _MOVE_ITEM,
        {
            "row_id": row.item_id,
            "seen_version": row.version,
            "new_status": status,
            "branch": desk.id,
        },
    )
    if not in_pipeline(conn) and moved.rowcount != 1:
        raise StaleDataError("items row changed by another desk")
    if decision.mark_request_returned and row.request_id is not None:
        conn.execute(_REQUEST_RETURNED, {"row_id": row.request_id})
    if decision.close_lending and row.lending_id is not None:
        conn.execute(_CLOSE_LENDING, {"row_id": row.lending_id, "at": now})
    conn.execute(
        _INSERT_AUDIT,
        audit.columns(
            actor,
            "check_in",
            at=now,
            entity="item",
            entity_id=row.item_id,
            item_id=row.item_id,
            patron_id=row.patron_row_id,
            before={"status": row.item_status.value, "branch_id": row.current_branch_id},
            after={
                "status": status.value,
                "branch_id": desk.id,
                "outcome": decision.outcome.value,
                "destination_id": decision.destination_id,
            },
            detail=decision.outcome.value,
        ),
    )
    return pickup_by


def _queue_ready_notice(
    conn: Connection, row: Row[Any], desk: Place, now: datetime, pickup_by: date
) -> None:
    context = {
        "title": row.title,
        "barcode": row.item_barcode,
        "pickup_branch": desk.name,
        "pickup_by": pickup_by.isoformat(),
        "request_number": row.request_number if row.request_id is not None else "",
        "in_library_use_only": row.in_library_use_only,
    }
    conn.execute(
        _QUEUE_READY,
        {
            "notice_status": NoticeStatus.QUEUED,
            "recipient": row.email or "",
            "patron": row.patron_row_id,
            "request": row.request_id,
            "context": json.dumps(context, default=str, sort_keys=True),
            "key_prefix": f"{READY_FOR_PICKUP}:item{row.item_id}:hold",
            "at": now,
            "at2": now,
            "item": row.item_id,
        },
    )
