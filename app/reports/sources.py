"""Where each counted event lives: one `Source` per kind of event the reports count.

Borrowing figures count by the request's pickup campus, lending figures by the campus asked
to pull the item, desk figures by the desk's branch, money by the request's campus. Only
request, item and event columns are read: a report never names a patron, and a loan whose
patron was anonymised still counts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    String,
    Text,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import TableClause, column

from app.reports.measures import Source
from db.models import (
    AuditEvent,
    Branch,
    Charge,
    Direction,
    DueDateDiscrepancy,
    HoldShelfEntry,
    HoldStatus,
    IfmDirection,
    IfmStatus,
    IfmTransaction,
    IllRequest,
    InHouseUse,
    Item,
    ItemKind,
    Loan,
    NotFoundScan,
    RequestKind,
    RequestStatus,
    UTCDateTime,
)
from db.models.logs import CHECK_IN_CONDITION, CHECK_IN_INDEX

CLOSURE_MOVE_PREFIX = "Strap date "  # how checkout words a due date moved off a closed day

_BORROWING = IllRequest.direction == Direction.BORROWING
_LENDING = IllRequest.direction == Direction.LENDING
_TEMPORARY = Item.kind == ItemKind.TEMPORARY


def _item(column: Any, item_id: Any) -> Any:
    """An item's column for drill-down only, so counting never reads the items table."""
    return select(column).where(Item.id == item_id).scalar_subquery()


def _audit(action: str) -> tuple[Any, ...]:
    return (AuditEvent.action == action,)


def requests_placed() -> Source:
    return Source(
        at=IllRequest.created_at,
        campus=IllRequest.pickup_branch_id,
        froms=IllRequest.__table__,
        where=(_BORROWING,),
        reference=IllRequest.request_number,
        title=IllRequest.title,
    )


def loans_received() -> Source:
    """A borrowed item arrived at the ILL office: a loan request filled."""
    return Source(
        at=Item.received_at,
        since=IllRequest.created_at,
        campus=IllRequest.pickup_branch_id,
        froms=Item.__table__.join(IllRequest.__table__, Item.request_id == IllRequest.id),
        where=(_TEMPORARY, _BORROWING),
        group=IllRequest.lender_symbol,
        reference=IllRequest.request_number,
        title=IllRequest.title,
    )


def copies_delivered() -> Source:
    """A scan made available to the patron: a copy request filled."""
    return Source(
        at=IllRequest.copy_available_at,
        since=IllRequest.created_at,
        campus=IllRequest.pickup_branch_id,
        froms=IllRequest.__table__,
        where=(_BORROWING, IllRequest.kind == RequestKind.COPY),
        group=IllRequest.lender_symbol,
        reference=IllRequest.request_number,
        title=IllRequest.title,
    )


def requests_cancelled() -> Source:
    return Source(
        at=IllRequest.closed_at,
        campus=IllRequest.pickup_branch_id,
        froms=IllRequest.__table__,
        where=(IllRequest.status == RequestStatus.CANCELLED, _BORROWING),
        group=IllRequest.cancel_reason,
        reference=IllRequest.request_number,
        title=IllRequest.title,
    )


def to_hold_shelf() -> Source:
    """A borrowed item's first time on a hold shelf, timed from its receipt."""
    earlier = aliased(HoldShelfEntry)
    first = ~exists().where(
        earlier.item_id == HoldShelfEntry.item_id, earlier.placed_at < HoldShelfEntry.placed_at
    )
    return Source(
        at=HoldShelfEntry.placed_at,
        since=Item.received_at,
        campus=HoldShelfEntry.branch_id,
        froms=HoldShelfEntry.__table__.join(Item.__table__, HoldShelfEntry.item_id == Item.id),
        where=(_TEMPORARY, Item.received_at.is_not(None), first),
        reference=Item.barcode,
        title=Item.title,
    )


def never_picked_up() -> Source:
    return Source(
        at=HoldShelfEntry.ended_at,
        campus=HoldShelfEntry.branch_id,
        froms=HoldShelfEntry.__table__.join(Item.__table__, HoldShelfEntry.item_id == Item.id),
        where=(HoldShelfEntry.status == HoldStatus.EXPIRED, _TEMPORARY),
        reference=Item.barcode,
        title=Item.title,
    )


def in_library_uses() -> Source:
    return Source(
        at=InHouseUse.started_at,
        campus=InHouseUse.branch_id,
        froms=InHouseUse.__table__,
        reference=_item(Item.barcode, InHouseUse.item_id),
        title=_item(Item.title, InHouseUse.item_id),
    )


def lending_received() -> Source:
    return Source(
        at=IllRequest.created_at,
        campus=IllRequest.pull_branch_id,
        froms=IllRequest.__table__,
        where=(_LENDING,),
        group=IllRequest.borrower_symbol,
        reference=IllRequest.request_number,
        title=IllRequest.title,
    )


def _lending_event(action: str, *, by_actor: bool = False) -> Source:
    # Every lending.* event names its request as the entity (read from the index).
    froms = AuditEvent.__table__.join(IllRequest.__table__, AuditEvent.entity_id == IllRequest.id)
    campus: Any = IllRequest.pull_branch_id
    if by_actor:  # the campus that said so, even if another campus was asked later
        froms = froms.join(Branch.__table__, Branch.code == AuditEvent.branch_code)
        campus = Branch.id
    return Source(
        at=AuditEvent.at,
        since=IllRequest.created_at,
        campus=campus,
        froms=froms,
        where=(*_audit(action), _LENDING),
        group=IllRequest.borrower_symbol,
        reference=IllRequest.request_number,
        title=IllRequest.title,
    )


def lending_shipped() -> Source:
    return _lending_event("lending.ship")


def lending_not_on_shelf() -> Source:
    return _lending_event("lending.not_on_shelf", by_actor=True)


def lending_lost() -> Source:
    return _lending_event("lending.lost_billable")


def day_of(conn: Connection, moment: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return cast(func.timezone("UTC", moment), Date)
    return func.date(moment)


def lending_overdue(conn: Connection, today: date) -> Source:
    """Our items due back in the period that were still out after their due date."""
    return Source(
        at=IllRequest.lend_due_date,
        by_date=True,
        campus=IllRequest.pull_branch_id,
        froms=IllRequest.__table__,
        where=(
            _LENDING,
            IllRequest.lend_due_date < today,
            or_(
                IllRequest.closed_at.is_(None),
                day_of(conn, IllRequest.closed_at) > IllRequest.lend_due_date,
            ),
            IllRequest.status.in_(
                (RequestStatus.SHIPPED, RequestStatus.CLOSED, RequestStatus.LOST)
            ),
        ),
        group=IllRequest.borrower_symbol,
        reference=IllRequest.request_number,
        title=IllRequest.title,
    )


class _CheckIns(TableClause):
    """audit_events, read through its check-in index.

    Check-ins are most of the audit trail; their partial index holds the time, branch and
    outcome, so counting them reads no table rows. PostgreSQL picks it by itself; SQLite's
    planner prefers the (action, at) index, which reads every row, so it is told.
    """

    inherit_cache = True


@compiles(_CheckIns)
def _check_ins_from(element: _CheckIns, compiler: Any, **kw: Any) -> str:
    if kw.get("asfrom") and compiler.dialect.name == "sqlite":
        return f"{element.name} INDEXED BY {CHECK_IN_INDEX}"
    return str(element.name)


_CHECK_INS = _CheckIns(
    "audit_events",
    column("at", UTCDateTime()),
    column("branch_code", String()),
    column("detail", Text()),
    column("action", String()),
    column("item_id", Integer()),
)


def check_ins() -> Source:
    """Every check-in that found its item, by the outcome the desk was shown."""
    events = _CHECK_INS.c
    return Source(
        at=events.at,
        campus=Branch.id,
        froms=_CHECK_INS.join(Branch.__table__, Branch.code == events.branch_code),
        # Written out (not a parameter) so the partial index's condition is seen.
        where=(literal_column(CHECK_IN_CONDITION),),
        group=events.detail,
        reference=_item(Item.barcode, events.item_id),
        title=_item(Item.title, events.item_id),
    )


def not_found_scans() -> Source:
    return Source(
        at=NotFoundScan.at,
        campus=NotFoundScan.branch_id,
        froms=NotFoundScan.__table__,
        reference=NotFoundScan.barcode,
        title=literal(""),
    )


def discrepancies() -> Source:
    return Source(
        at=DueDateDiscrepancy.at,
        campus=DueDateDiscrepancy.branch_id,
        froms=DueDateDiscrepancy.__table__,
        reference=DueDateDiscrepancy.request_number,
        title=literal(""),
    )


def closure_moves() -> Source:
    """Checkouts whose due date moved off the strap date because the branch is closed."""
    return Source(
        at=Loan.checked_out_at,
        campus=Loan.branch_id,
        froms=Loan.__table__,
        where=(
            Loan.strap_due_date.is_not(None),  # the partial index's condition: ILL loans
            Loan.adjustment_reason.like(f"{CLOSURE_MOVE_PREFIX}%"),
        ),
        reference=_item(Item.barcode, Loan.item_id),
        title=_item(Item.title, Loan.item_id),
    )


def _charges(at: Any) -> Source:
    return Source(
        at=at,
        campus=IllRequest.pickup_branch_id,
        froms=Charge.__table__.outerjoin(IllRequest.__table__, Charge.request_id == IllRequest.id),
        where=(Charge.is_ill.is_(True),),
        amount=Charge.amount,
        group=Charge.kind,
        reference=func.coalesce(IllRequest.request_number, ""),
        title=Charge.reason,
    )


def charges_raised() -> Source:
    return _charges(Charge.created_at)


def charges_removed() -> Source:
    return _charges(Charge.removed_at)


def charges_reported() -> Source:
    return _charges(Charge.reported_at)


def ifm(direction: IfmDirection) -> Source:
    """IFM money moved (processed), by the campus of the request it was for."""
    return Source(
        at=IfmTransaction.processed_at,
        campus=func.coalesce(IllRequest.pull_branch_id, IllRequest.pickup_branch_id),
        froms=IfmTransaction.__table__.join(
            IllRequest.__table__, IfmTransaction.request_id == IllRequest.id
        ),
        where=(
            IfmTransaction.direction == direction,
            IfmTransaction.status == IfmStatus.PROCESSED,
        ),
        amount=IfmTransaction.amount,
        group=IfmTransaction.partner_symbol,
        reference=IllRequest.request_number,
        title=IfmTransaction.dummy_title,
    )


def ifm_balance_rows(conn: Connection, upper: Any, campus: int | None) -> list[Any]:
    """Processed IFM amounts per partner, month and direction, up to `upper` (for balances)."""
    source = ifm(IfmDirection.WE_RECEIVE)
    from app.reports.measures import month_of

    where = [
        IfmTransaction.status == IfmStatus.PROCESSED,
        IfmTransaction.processed_at < upper,
    ]
    if campus is not None:
        where.append(source.campus == campus)
    inner = (
        select(
            IfmTransaction.partner_symbol.label("partner"),
            month_of(conn, source).label("month"),
            IfmTransaction.direction.label("direction"),
            IfmTransaction.amount.label("amount"),
        )
        .select_from(source.froms)
        .where(*where)
        .subquery()
    )
    keys = (inner.c.partner, inner.c.month, inner.c.direction)
    return list(conn.execute(select(*keys, func.sum(inner.c.amount)).group_by(*keys)))
