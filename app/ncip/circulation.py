"""CheckOutItem and CheckInItem: an item goes out (to a patron, or lent to the ILL
account) and comes back (home, or back to its lender)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from xml.etree.ElementTree import Element

from sqlalchemy import select

from app.borrowing.ship_back import ship_back
from app.desk.checkin import check_in_within
from app.desk.checkout import check_out
from app.desk.checkout_results import Outcome as CheckoutOutcome
from app.desk.routing import Outcome as CheckinOutcome
from app.lending.pull_list import (
    checkout_to_ill,
    find_ill_dummy,
    open_ill_loan,
)
from app.lending.shipping import ship
from app.library.branches import ill_office_branch
from app.library.errors import ServiceError
from app.ncip import messages as m
from app.ncip.handling import (
    Context,
    Result,
    _at,
    _unknown_item,
    find_item,
    refusals,
)
from app.ncip.problems import NcipProblem, ProblemType
from app.ncip.responses import add, add_item_id, add_user_id, date_time
from app.records import audit
from db.models import (
    Direction,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    Item,
    ItemKind,
    ItemStatus,
    Patron,
    RequestStatus,
    Transit,
)

# --- CheckOutItem ----------------------------------------------------------------------


@dataclass(frozen=True)
class ItemCheckedOut(Result):
    item_id: str
    user_id: str
    date_due: date

    def render(self, response: Element, agency: str) -> None:
        add_item_id(response, agency, self.item_id)
        add_user_id(response, agency, self.user_id)
        add(response, "DateDue", date_time(self.date_due))


_CHECKOUT_PROBLEMS = {
    CheckoutOutcome.REFUSED_IN_LIBRARY_USE: ProblemType.ITEM_DOES_NOT_CIRCULATE,
    CheckoutOutcome.REFUSED_BLOCKED: ProblemType.USER_BLOCKED,
    CheckoutOutcome.REFUSED_ALREADY_CHECKED_OUT: ProblemType.ITEM_ALREADY_CHECKED_OUT,
    CheckoutOutcome.NOT_FOUND: ProblemType.UNKNOWN_ITEM,
    CheckoutOutcome.INVALID_SCAN: ProblemType.UNKNOWN_ITEM,
}


def _is_ill_account(ctx: Context, user_id: str) -> Patron | None:
    if user_id.strip().lower() in {u.lower() for u in ctx.settings.ncip_ill_account_ids}:
        user_id = ctx.settings.ill_dummy_barcode
    try:
        return find_ill_dummy(ctx.session, user_id)
    except ServiceError:
        return None


def check_out_item(ctx: Context, msg: m.CheckOutItem) -> ItemCheckedOut:
    item = find_item(ctx, msg.item_id, msg.request_id)
    if item is None:
        raise _unknown_item(msg.item_id)
    if item.kind is ItemKind.OWNED:
        return _lend(ctx, msg, item)
    hold = ctx.session.scalar(
        select(HoldShelfEntry).where(
            HoldShelfEntry.item_id == item.id, HoldShelfEntry.status == HoldStatus.ACTIVE
        )
    )
    actor = _at(ctx, hold.branch_id if hold else None)
    with refusals("UserIdentifierValue", msg.user_id, not_found=ProblemType.UNKNOWN_USER):
        # The ILL system made the loan itself: nobody is at the desk to count the pieces.
        result = check_out(
            ctx.rt, actor, msg.user_id, item.barcode, strap_due=None, pieces_checked=True
        )
    if result.outcome is not CheckoutOutcome.CHECKED_OUT or result.due_date is None:
        problem = _CHECKOUT_PROBLEMS.get(result.outcome, ProblemType.ITEM_DOES_NOT_CIRCULATE)
        element = (
            "UserIdentifierValue"
            if problem is ProblemType.USER_BLOCKED
            else ("ItemIdentifierValue")
        )
        raise NcipProblem(
            problem,
            result.message,
            element=element,
            value=msg.user_id if element == "UserIdentifierValue" else msg.item_id,
        )
    return ItemCheckedOut(item.barcode, result.patron_id, result.due_date)


def _lend(ctx: Context, msg: m.CheckOutItem, item: Item) -> ItemCheckedOut:
    """Our own item to the ILL dummy account, for the lending request that names it."""
    dummy = _is_ill_account(ctx, msg.user_id)
    if dummy is None:
        raise NcipProblem(
            ProblemType.UNKNOWN_USER,
            "The library's own items are checked out only to the ILL account (its barcode, "
            "or a user id in the setting ncip_ill_account_ids).",
            element="UserIdentifierValue",
            value=msg.user_id,
        )
    session = ctx.session
    request = session.scalar(
        select(IllRequest)
        .where(
            IllRequest.item_id == item.id,
            IllRequest.direction == Direction.LENDING,
            IllRequest.status.in_((RequestStatus.TO_PULL, RequestStatus.PULLED)),
        )
        .order_by(IllRequest.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    if request is None:
        raise NcipProblem(
            ProblemType.UNKNOWN_REQUEST,
            "No open lending request names this item. Send RequestItem first (or the ILL "
            "office creates the lending request).",
            element="ItemIdentifierValue",
            value=msg.item_id,
        )
    today = ctx.rt.clock.today()
    if msg.desired_date_due is not None and msg.desired_date_due <= today:
        raise NcipProblem(
            ProblemType.INVALID_DATE,
            "DesiredDateDue is not after today.",
            element="DesiredDateDue",
            value=msg.desired_date_due.isoformat(),
        )
    loan = open_ill_loan(session, item)
    if loan is None:
        with refusals(
            "ItemIdentifierValue", msg.item_id, conflict=ProblemType.ITEM_ALREADY_CHECKED_OUT
        ):
            checkout_to_ill(
                ctx.rt, _at(ctx, request.pull_branch_id), request.request_number, dummy.barcode
            )
        loan = open_ill_loan(session, item)
        assert loan is not None
    if msg.desired_date_due is not None:
        loan.due_date = msg.desired_date_due
        request.lend_due_date = msg.desired_date_due
    session.flush()
    return ItemCheckedOut(item.barcode, dummy.barcode or dummy.patron_id, loan.due_date)


# --- CheckInItem -----------------------------------------------------------------------


@dataclass(frozen=True)
class ItemCheckedIn(Result):
    item_id: str
    instructions: str
    destination: str

    def render(self, response: Element, agency: str) -> None:
        add_item_id(response, agency, self.item_id)
        routing = add(response, "RoutingInformation")
        add(routing, "RoutingInstructions", self.instructions)
        location = add(add(routing, "Destination"), "Location")
        add(location, "LocationType", "Permanent Location")
        instance = add(add(location, "LocationName"), "LocationNameInstance")
        add(instance, "LocationNameLevel", "1")
        add(instance, "LocationNameValue", self.destination)


_NO_CHECKIN = {
    CheckinOutcome.NOT_FOUND,
    CheckinOutcome.INVALID_SCAN,
    CheckinOutcome.LENDER_BARCODE,
    CheckinOutcome.CHANGED_ELSEWHERE,
}


def check_in_item(ctx: Context, msg: m.CheckInItem) -> ItemCheckedIn:
    item = find_item(ctx, msg.item_id, msg.request_id)
    if item is None:
        raise _unknown_item(msg.item_id)
    if item.kind is ItemKind.TEMPORARY:
        return _back_to_lender(ctx, msg, item)
    _shipped_before_return(ctx, item)
    result = check_in_within(ctx.session, ctx.rt, ctx.actor, item.barcode)
    ctx.session.expire_all()  # check-in writes with Core statements: read afresh
    if result.outcome in _NO_CHECKIN or result.destination is None:
        raise NcipProblem(
            ProblemType.ITEM_NOT_CHECKED_OUT,
            " ".join((result.headline, *result.instructions)),
            element="ItemIdentifierValue",
            value=msg.item_id,
        )
    return ItemCheckedIn(
        item.barcode, " ".join((result.headline, *result.instructions)), result.destination
    )


def _shipped_before_return(ctx: Context, item: Item) -> None:
    """An item the ILL system lent (CheckOutItem) comes back while our records still have
    it on the ILL account: it went out in between, so record the shipment first (on the
    due date the ILL system gave), then the check-in closes the lending and routes it home."""
    loan = open_ill_loan(ctx.session, item)
    if loan is None:
        return
    request = ctx.session.scalar(
        select(IllRequest)
        .where(
            IllRequest.item_id == item.id,
            IllRequest.direction == Direction.LENDING,
            IllRequest.status == RequestStatus.PULLED,
        )
        .order_by(IllRequest.created_at.desc())
        .limit(1)
    )
    if request is None:
        return
    due = request.lend_due_date or loan.due_date
    if due <= ctx.rt.clock.today():
        due = ctx.rt.clock.today() + timedelta(days=1)
    with refusals("ItemIdentifierValue", item.barcode, invalid=ProblemType.ITEM_NOT_CHECKED_OUT):
        ship(ctx.rt, ctx.actor, request.request_number, due)
    ctx.session.flush()


def _in_hand_at_the_office(ctx: Context, item: Item) -> IllRequest | None:
    """The ILL system says the item is back at the ILL office (ILLiad sends this for an item
    never picked up, or a request cancelled after it came): its hold ends, its transit is
    over, and it waits at the office to go back to the lender. Its request, which the
    shipment back reads next (held by the caller, so the session finds it again)."""
    session = ctx.session
    now = ctx.rt.clock.now()
    office = ill_office_branch(session)
    if item.status not in (ItemStatus.ON_HOLD_SHELF, ItemStatus.IN_TRANSIT, ItemStatus.LOST):
        raise NcipProblem(
            ProblemType.ITEM_NOT_CHECKED_OUT,
            f"This borrowed item is {item.status.value.replace('_', ' ')}; the ILL office "
            "checks it in at a desk first.",
            element="ItemIdentifierValue",
            value=item.barcode,
        )
    before = item.status.value
    for hold in session.scalars(
        select(HoldShelfEntry).where(
            HoldShelfEntry.item_id == item.id, HoldShelfEntry.status == HoldStatus.ACTIVE
        )
    ):
        hold.status = HoldStatus.CANCELLED
        hold.ended_at = now
    for transit in session.scalars(
        select(Transit).where(Transit.item_id == item.id, Transit.received_at.is_(None))
    ):
        transit.received_at = now
    item.status = ItemStatus.AT_ILL_OFFICE
    item.current_branch_id = office.id
    request = session.get(IllRequest, item.request_id) if item.request_id else None
    if request is not None and request.status is RequestStatus.RECEIVED:
        request.status = RequestStatus.RETURNED
        request.updated_at = now
    audit.record(
        session,
        ctx.actor,
        "ncip.back_at_office",
        at=now,
        entity="item",
        entity_id=item.id,
        item_id=item.id,
        patron_id=request.patron_id if request is not None else None,
        before={"status": before},
        after={"status": ItemStatus.AT_ILL_OFFICE.value},
        detail="the ILL system reported the item back at the ILL office",
    )
    return request


def _back_to_lender(ctx: Context, msg: m.CheckInItem, item: Item) -> ItemCheckedIn:
    """A borrowed item on its way back to its lender: loan ended, temporary item closed."""
    if item.status is ItemStatus.CLOSED:
        raise NcipProblem(
            ProblemType.ITEM_NOT_CHECKED_OUT,
            "This borrowed item was already shipped back to its lender and closed.",
            element="ItemIdentifierValue",
            value=msg.item_id,
        )
    if item.status is ItemStatus.CHECKED_OUT:
        result = check_in_within(ctx.session, ctx.rt, ctx.actor, item.barcode)
        ctx.session.expire_all()  # check-in writes with Core statements: read afresh
        if result.outcome in _NO_CHECKIN:
            raise NcipProblem(
                ProblemType.ITEM_NOT_CHECKED_OUT,
                " ".join((result.headline, *result.instructions)),
                element="ItemIdentifierValue",
                value=msg.item_id,
            )
    # Back at the office, then shipped: the item and its request are written once each, at
    # the end, not once per step (their objects carry both steps' changes meanwhile).
    with ctx.session.no_autoflush:
        request = None  # kept while the item is shipped back (see _in_hand_at_the_office)
        if item.status is not ItemStatus.AT_ILL_OFFICE:
            request = _in_hand_at_the_office(ctx, item)
        with refusals("ItemIdentifierValue", msg.item_id, invalid=ProblemType.ITEM_NOT_CHECKED_OUT):
            shipped = ship_back(ctx.rt, ctx.actor, item.barcode)
        del request
    lender = shipped.lender or "the lender"
    return ItemCheckedIn(
        item.barcode,
        f"Return to lender: ship {shipped.barcode} back to {lender}.",
        shipped.lender or "LENDER",
    )
