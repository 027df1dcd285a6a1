"""RequestItem, CancelRequestItem, RenewItem and DeleteItem: a lending request on the pull
list or withdrawn, a lender-approved renewal, a temporary item closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from xml.etree.ElementTree import Element

from sqlalchemy import or_, select

from app.borrowing.renewals import record_renewal
from app.borrowing.ship_back import ship_back
from app.lending.pull_list import (
    create_lending_request,
)
from app.lending.shipping import cancel_lending
from app.library.scanning import InvalidScan, normalize_scan
from app.ncip import messages as m
from app.ncip.handling import (
    Context,
    Result,
    _unknown_item,
    find_item,
    refusals,
)
from app.ncip.problems import NcipProblem, ProblemType
from app.ncip.responses import add, add_item_id, add_request_id, add_user_id, date_time
from db.models import (
    Direction,
    IllRequest,
    Item,
    ItemKind,
    ItemStatus,
    RequestStatus,
)

# --- RequestItem / CancelRequestItem ---------------------------------------------------


@dataclass(frozen=True)
class ItemRequested(Result):
    request_id: str
    item_id: str
    user_id: str
    request_type: str

    def render(self, response: Element, agency: str) -> None:
        add_request_id(response, agency, self.request_id)
        add_item_id(response, agency, self.item_id)
        add_user_id(response, agency, self.user_id)
        add(response, "RequestType", self.request_type or "Loan")
        add(response, "RequestScopeType", "Item")


def _borrower(ctx: Context, user_id: str) -> str:
    for candidate in (user_id, ctx.partner):
        symbol = candidate.strip().upper()
        if 3 <= len(symbol) <= 5 and symbol.isalnum() and symbol[0].isalpha():
            return symbol
    raise NcipProblem(
        ProblemType.UNKNOWN_USER,
        "The borrowing library is named by its OCLC symbol in UserId (3 to 5 letters or "
        "digits, starting with a letter).",
        element="UserIdentifierValue",
        value=user_id,
    )


def request_item(ctx: Context, msg: m.RequestItem) -> ItemRequested:
    partner_number = msg.request_id or msg.item_ids[0]
    existing = ctx.session.scalar(
        select(IllRequest).where(
            IllRequest.direction == Direction.LENDING,
            IllRequest.partner_request_number == partner_number,
            IllRequest.status.not_in((RequestStatus.CANCELLED, RequestStatus.CLOSED)),
        )
    )
    if existing is not None:
        raise NcipProblem(
            ProblemType.DUPLICATE_REQUEST,
            f"This request is already on the pull list as {existing.request_number}.",
            element="RequestIdentifierValue",
            value=partner_number,
        )
    borrower = _borrower(ctx, msg.user_id)
    for item_id in msg.item_ids:
        scan = normalize_scan(item_id)
        if isinstance(scan, InvalidScan):
            continue
        item = ctx.session.scalar(
            select(Item).where(Item.barcode == scan.barcode, Item.kind == ItemKind.OWNED)
        )
        if item is None:
            continue
        with refusals(
            "ItemIdentifierValue",
            item_id,
            conflict=ProblemType.ITEM_ALREADY_CHECKED_OUT,
            invalid=ProblemType.ITEM_DOES_NOT_CIRCULATE,
        ):
            view = create_lending_request(
                ctx.rt,
                ctx.actor,
                borrower_symbol=borrower,
                partner_request_number=partner_number[:32],
                item=item.barcode,
            )
        return ItemRequested(view.request_number, item.barcode, borrower, msg.request_type)
    raise NcipProblem(
        ProblemType.UNKNOWN_ITEM,
        "None of the ItemIds is the barcode of one of the library's own items.",
        element="ItemIdentifierValue",
        value=msg.item_ids[0],
    )


@dataclass(frozen=True)
class RequestCancelled(Result):
    request_id: str
    user_id: str

    def render(self, response: Element, agency: str) -> None:
        add_request_id(response, agency, self.request_id)
        add_user_id(response, agency, self.user_id)


def cancel_request_item(ctx: Context, msg: m.CancelRequestItem) -> RequestCancelled:
    ref = msg.request_id or msg.item_id
    request = ctx.session.scalar(
        select(IllRequest)
        .where(
            IllRequest.direction == Direction.LENDING,
            or_(IllRequest.partner_request_number == ref, IllRequest.request_number == ref),
        )
        .order_by(IllRequest.created_at.desc())
        .limit(1)
    )
    if request is None and msg.item_id:
        item = find_item(ctx, msg.item_id)
        if item is not None:
            request = ctx.session.scalar(
                select(IllRequest)
                .where(IllRequest.item_id == item.id, IllRequest.direction == Direction.LENDING)
                .order_by(IllRequest.created_at.desc())
                .limit(1)
            )
    if request is None:
        raise NcipProblem(
            ProblemType.UNKNOWN_REQUEST,
            "No lending request here has this number.",
            element="RequestIdentifierValue",
            value=ref,
        )
    with refusals("RequestIdentifierValue", ref):
        cancel_lending(
            ctx.rt,
            ctx.actor,
            request.request_number,
            f"Withdrawn by {ctx.partner} through NCIP (CancelRequestItem).",
        )
    return RequestCancelled(
        request.partner_request_number or request.request_number,
        msg.user_id or request.borrower_symbol or ctx.partner,
    )


# --- RenewItem / DeleteItem ------------------------------------------------------------


@dataclass(frozen=True)
class ItemRenewed(Result):
    item_id: str
    date_due: date

    def render(self, response: Element, agency: str) -> None:
        add_item_id(response, agency, self.item_id)
        add(response, "DateDue", date_time(self.date_due))


def renew_item(ctx: Context, msg: m.RenewItem) -> ItemRenewed:
    item = find_item(ctx, msg.item_id)
    if item is None or item.kind is not ItemKind.TEMPORARY or item.request_id is None:
        raise _unknown_item(msg.item_id)
    if msg.desired_date_due is None:
        raise NcipProblem(
            ProblemType.NEEDED_DATA_MISSING,
            "A renewal the lender approved needs the new due date: send DesiredDateDue.",
            element="DesiredDateDue",
        )
    request = ctx.session.get(IllRequest, item.request_id)
    assert request is not None
    with refusals(
        "DesiredDateDue",
        msg.desired_date_due.isoformat(),
        conflict=ProblemType.NOT_RENEWABLE,
        invalid=ProblemType.INVALID_DATE,
    ):
        result = record_renewal(
            ctx.rt, ctx.actor, request.request_number, approved=True, new_due=msg.desired_date_due
        )
    return ItemRenewed(item.barcode, result.new_due_date)


@dataclass(frozen=True)
class ItemDeleted(Result):
    item_id: str

    def render(self, response: Element, agency: str) -> None:
        add_item_id(response, agency, self.item_id)


def delete_item(ctx: Context, msg: m.DeleteItem) -> ItemDeleted:
    item = find_item(ctx, msg.item_id)
    if item is None or item.kind is not ItemKind.TEMPORARY:
        raise _unknown_item(msg.item_id)
    if item.status is not ItemStatus.CLOSED:
        with refusals(
            "ItemIdentifierValue", msg.item_id, invalid=ProblemType.ITEM_ALREADY_CHECKED_OUT
        ):
            ship_back(ctx.rt, ctx.actor, item.barcode)
    return ItemDeleted(item.barcode)
