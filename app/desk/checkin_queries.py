"""The one read behind a check-in: the item and everything open about it, in one statement.

`load` returns one row with the item (locked with `FOR UPDATE OF items NOWAIT`), its
request (with `notify_patron`: whether ILL Desk tells the patron the item is ready) and
patron, the open loan, transit, hold-shelf entry and in-house use, the newest open lending
request, the desk's branch, the ILL office, the branches a destination can be, and the
`pickup_days` and `patron_display` settings (joins and scalar subqueries, all by primary
key or unique index). `place`, `desk_and_office` and `item_state` turn that row into
the plain values the decision and the wording take.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, func, select
from sqlalchemy.orm import aliased

from app.desk.checkin_wording import Place
from app.desk.routing import OPEN_LENDING, ItemState
from app.library.errors import NotFound
from db.models import (
    Branch,
    Direction,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    InHouseUse,
    Item,
    ItemKind,
    ItemStatus,
    LibrarySetting,
    Loan,
    Patron,
    RequestStatus,
    Transit,
)
from db.pipeline import rows


def _state_statement(lock: bool, nowait: bool) -> Any:
    """The item, everything open about it, its branches and two settings: one query.

    Built once: making aliases and joins costs more than running the query.
    """
    request = aliased(IllRequest)
    lending = aliased(IllRequest)
    patron = aliased(Patron)
    loan_patron = aliased(Patron)
    desk, office, office_at = aliased(Branch), aliased(Branch), aliased(Branch)
    home, pickup, hold_at = aliased(Branch), aliased(Branch), aliased(Branch)
    office_id = select(func.min(Branch.id)).where(Branch.ill_office.is_(True)).scalar_subquery()

    def setting(key: str) -> Any:
        return select(LibrarySetting.value).where(LibrarySetting.key == key).scalar_subquery()

    statement = (
        select(
            Item.id.label("item_id"),
            Item.barcode.label("item_barcode"),
            Item.kind.label("item_kind"),
            Item.status.label("item_status"),
            Item.title.label("title"),
            Item.home_branch_id.label("home_branch_id"),
            Item.current_branch_id.label("current_branch_id"),
            Item.lender_due_date.label("lender_due_date"),
            Item.in_library_use_only.label("in_library_use_only"),
            Item.pieces.label("pieces"),
            Item.version.label("version"),
            request.id.label("request_id"),
            request.status.label("request_status"),
            request.pickup_branch_id.label("pickup_branch_id"),
            request.request_number.label("request_number"),
            request.cancel_reason.label("cancel_reason"),
            request.lender_symbol.label("lender_symbol"),
            request.notify_patron.label("notify_patron"),
            patron.id.label("patron_row_id"),
            patron.patron_id.label("patron_id"),
            patron.first_name.label("first_name"),
            patron.last_name.label("last_name"),
            patron.email.label("email"),
            Loan.id.label("loan_id"),
            loan_patron.is_ill_dummy.label("loan_to_ill_account"),
            Transit.id.label("transit_id"),
            Transit.from_branch_id.label("transit_from_id"),
            Transit.to_branch_id.label("transit_to_id"),
            Transit.reason.label("transit_reason"),
            HoldShelfEntry.id.label("hold_id"),
            HoldShelfEntry.branch_id.label("hold_branch_id"),
            HoldShelfEntry.pickup_by.label("hold_pickup_by"),
            InHouseUse.id.label("use_id"),
            lending.id.label("lending_id"),
            lending.status.label("lending_status"),
            lending.request_number.label("lending_number"),
            lending.borrower_symbol.label("borrower_symbol"),
            desk.id.label("desk_id"),
            desk.code.label("desk_code"),
            desk.name.label("desk_name"),
            office.id.label("office_id"),
            office.code.label("office_code"),
            office.name.label("office_name"),
            office_at.code.label("office_at"),
            home.code.label("home_code"),
            home.name.label("home_name"),
            pickup.code.label("pickup_code"),
            pickup.name.label("pickup_name"),
            hold_at.code.label("hold_code"),
            hold_at.name.label("hold_name"),
            setting("pickup_days").label("pickup_days"),
            setting("patron_display").label("patron_display"),
        )
        .select_from(Item)
        .outerjoin(request, request.id == Item.request_id)
        .outerjoin(patron, patron.id == request.patron_id)
        .outerjoin(Loan, and_(Loan.item_id == Item.id, Loan.returned_at.is_(None)))
        .outerjoin(loan_patron, loan_patron.id == Loan.patron_id)
        .outerjoin(Transit, and_(Transit.item_id == Item.id, Transit.received_at.is_(None)))
        .outerjoin(
            HoldShelfEntry,
            and_(HoldShelfEntry.item_id == Item.id, HoldShelfEntry.status == HoldStatus.ACTIVE),
        )
        .outerjoin(InHouseUse, and_(InHouseUse.item_id == Item.id, InHouseUse.ended_at.is_(None)))
        .outerjoin(
            lending,
            and_(
                lending.item_id == Item.id,
                lending.direction == Direction.LENDING,
                lending.status.in_([*OPEN_LENDING, RequestStatus.TO_PULL, RequestStatus.PULLED]),
            ),
        )
        .outerjoin(desk, desk.code == bindparam("desk_code"))
        .outerjoin(office, office.id == office_id)
        .outerjoin(office_at, office_at.id == office.location_id)
        .outerjoin(home, home.id == Item.home_branch_id)
        .outerjoin(pickup, pickup.id == request.pickup_branch_id)
        .outerjoin(hold_at, hold_at.id == HoldShelfEntry.branch_id)
        .where(Item.barcode == bindparam("barcode"))
        .order_by(lending.id.desc())
        .limit(1)
    )
    return statement.with_for_update(of=Item, nowait=nowait) if lock else statement


# NOWAIT: the usual, uncontended scan locks and reads in one statement. After waiting for
# another desk, the joined rows of a FOR UPDATE query would be the ones from before that
# desk's commit, so a scan that had to wait locks the item alone first, then reads afresh.
_BY_WAIT = {
    False: _state_statement(lock=True, nowait=True),
    True: _state_statement(lock=True, nowait=False),
}
_LOCK = select(Item.id).where(Item.barcode == bindparam("barcode")).with_for_update()
BY_LENDER_BARCODE = (
    select(Item.barcode)
    .where(
        Item.lender_barcode == bindparam("barcode"),
        Item.kind == ItemKind.TEMPORARY,
        Item.status != ItemStatus.CLOSED,
    )
    .order_by(Item.id.desc())
    .limit(1)
)
ALL_BRANCHES = select(
    Branch.id, Branch.code, Branch.name, Branch.ill_office, Branch.location_id
).order_by(Branch.id)


def load(conn: Connection, barcode: str, desk_code: str, wait: bool) -> Row[Any] | None:
    """The item's row, locked; `wait` after another desk held it (lock alone, then read)."""
    params = {"barcode": barcode, "desk_code": desk_code}
    if wait:
        rows(conn, _LOCK, params)
    found = rows(conn, _BY_WAIT[wait], params)
    return found[0] if found else None


def place(id_: int | None, code: str | None, name: str | None) -> Place | None:
    """A branch as the wording names it: a frozen value, made per scan, safe on any thread."""
    if id_ is None or code is None:
        return None
    return Place(id_, code, name or code)


def desk_and_office(row: Row[Any]) -> tuple[Place, Place, str | None]:
    desk = place(row.desk_id, row.desk_code, row.desk_name)
    if desk is None:
        raise NotFound(f"There is no branch '{row.desk_code}'. Sign in at an existing branch.")
    office = place(row.office_id, row.office_code, row.office_name)
    if office is None:
        raise NotFound("No branch is marked as the ILL office. An administrator sets one.")
    return desk, office, row.office_at


def item_state(row: Row[Any]) -> ItemState:
    return ItemState(
        kind=row.item_kind,
        status=row.item_status,
        home_branch_id=row.home_branch_id,
        has_request=row.request_id is not None,
        request_status=row.request_status,
        pickup_branch_id=row.pickup_branch_id,
        open_loan=row.loan_id is not None,
        loan_to_ill_account=bool(row.loan_to_ill_account),
        transit_from_id=row.transit_from_id,
        transit_to_id=row.transit_to_id,
        transit_reason=row.transit_reason,
        hold_branch_id=row.hold_branch_id,
        hold_pickup_by=row.hold_pickup_by,
        in_house_use=row.use_id is not None,
        lending_status=row.lending_status,
    )
