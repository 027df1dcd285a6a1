"""What each NCIP message does, through the desk's own services.

Every handler runs inside the responder's unit of work, so the services it calls (each of
which opens "its" transaction) join one transaction: a message is applied whole or not at
all. Refusals of the services become NCIP Problems naming the element and value at fault.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from xml.etree.ElementTree import Element

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from app.borrowing.receiving import ReceiveForm, receive_item, temporary_item_for
from app.borrowing.renewals import record_renewal
from app.borrowing.requests import RequestForm, place_request
from app.borrowing.ship_back import ship_back
from app.desk.checkin import check_in_within
from app.desk.checkout import Outcome as CheckoutOutcome
from app.desk.checkout import check_out
from app.desk.routing import Outcome as CheckinOutcome
from app.lending.pull_list import (
    checkout_to_ill,
    create_lending_request,
    find_ill_dummy,
    open_ill_loan,
)
from app.lending.shipping import cancel_lending, ship
from app.library.actors import Actor
from app.library.branches import ill_office_branch
from app.library.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ServiceError
from app.library.library_settings import LibrarySettings
from app.library.runtime import Runtime
from app.library.scanning import InvalidScan, normalize_scan
from app.ncip import messages as m
from app.ncip.problems import NcipProblem, ProblemType
from app.ncip.responses import add, add_item_id, add_request_id, add_user_id, date_time
from app.people.patrons import patron_blocks, patron_by_reference
from app.records import audit
from db.models import (
    Branch,
    Direction,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    Item,
    ItemKind,
    ItemStatus,
    Patron,
    RequestKind,
    RequestStatus,
    Transit,
)

ACCEPT_ACTIONS = (
    "hold for pickup",
    "hold for pickup and notify",
    "circulate",
    "circulate and notify",
)
LIBRARY_USE_WORDS = ("library use only", "in library use", "in-library use")
UNKNOWN_LENDER = "UNKN"


@dataclass(frozen=True)
class Context:
    rt: Runtime
    actor: Actor  # the partner, at the ILL office's branch
    settings: LibrarySettings
    session: Session  # the unit of work every service call joins
    agency: str  # our agency id
    partner: str  # theirs


class Result:
    """What a handler did, written into the `<service>Response`."""

    def render(self, response: Element, agency: str) -> None:
        raise NotImplementedError


@contextmanager
def refusals(
    element: str,
    value: str,
    *,
    not_found: ProblemType = ProblemType.UNKNOWN_ITEM,
    conflict: ProblemType = ProblemType.REQUEST_ALREADY_PROCESSED,
    invalid: ProblemType = ProblemType.INVALID_MESSAGE_SYNTAX,
) -> Iterator[None]:
    """A service's refusal as the Problem this message's element and value explain."""
    try:
        yield
    except NcipProblem:
        raise
    except NotFound as error:
        raise NcipProblem(not_found, error.message, element=element, value=value) from None
    except Conflict as error:
        raise NcipProblem(conflict, error.message, element=element, value=value) from None
    except (InvalidInput, PermissionDenied) as error:
        raise NcipProblem(invalid, error.message, element=element, value=value) from None


# --- shared look-ups -------------------------------------------------------------------


def request_number(text: str, settings: LibrarySettings) -> tuple[str, bool]:
    """Our request number from the ILL system's value, and whether its prefix means the
    item is for use in the library only (ILLiad puts such prefixes before the number)."""
    value = text.strip()
    for prefix in settings.ncip_library_use_prefixes:
        if prefix and value.upper().startswith(prefix.upper()):
            return value[len(prefix) :].strip(), True
    for prefix in settings.ncip_request_prefixes:
        if prefix and value.upper().startswith(prefix.upper()):
            return value[len(prefix) :].strip(), False
    return value, False


def pickup_branch(session: Session, settings: LibrarySettings, text: str) -> Branch:
    mapping = {}
    for line in settings.ncip_pickup_locations:
        name, _, code = line.partition("=")
        mapping[name.strip().lower()] = code.strip()
    code = mapping.get(text.strip().lower(), text.strip())
    branch = session.scalar(select(Branch).where(func.upper(Branch.code) == code.upper()))
    if branch is None or not branch.active:
        raise NcipProblem(
            ProblemType.UNKNOWN_VALUE,
            "No pickup branch has this code, and the library's pickup-location map "
            "(setting ncip_pickup_locations) does not name it.",
            element="PickupLocation",
            value=text,
        )
    if branch.virtual:
        raise NcipProblem(
            ProblemType.UNKNOWN_VALUE,
            f"{branch.code} is the ILL office's virtual branch, not a place where patrons "
            "pick items up. Send the patron's campus.",
            element="PickupLocation",
            value=text,
        )
    return branch


def _item_by_barcode(session: Session, barcode: str) -> Item | None:
    return session.scalar(select(Item).where(Item.barcode == barcode))


def find_item(ctx: Context, item_id: str, request_id: str = "") -> Item | None:
    """The item an ILL system means: our barcode, else the ILL request its number names
    (ILLiad sends the transaction number as the item's identifier)."""
    session = ctx.session
    scan = normalize_scan(item_id) if item_id else None
    if isinstance(scan, InvalidScan):
        scan = None
    if scan is not None:
        item = _item_by_barcode(session, scan.barcode)
        if item is not None:
            return item
    for candidate in (item_id, request_id):
        if not candidate:
            continue
        number, _ = request_number(candidate, ctx.settings)
        number = number.split("-", 1)[0]  # ILLiad's "12345678-1OF2" pieces
        request = session.scalar(select(IllRequest).where(IllRequest.request_number == number))
        if request is None:
            continue
        if request.direction is Direction.BORROWING:
            item = temporary_item_for(session, request)
        else:
            item = session.get(Item, request.item_id) if request.item_id else None
        if item is not None:
            return item
    return None


def _unknown_item(item_id: str) -> NcipProblem:
    return NcipProblem(
        ProblemType.UNKNOWN_ITEM,
        "No item here has this barcode, and no ILL request here has this number.",
        element="ItemIdentifierValue",
        value=item_id,
    )


def _at(ctx: Context, branch_id: int | None) -> Actor:
    branch = ctx.session.get(Branch, branch_id) if branch_id else None
    return replace(ctx.actor, branch_code=branch.code) if branch else ctx.actor


# --- LookupUser ------------------------------------------------------------------------


@dataclass(frozen=True)
class UserFound(Result):
    user_id: str
    first_name: str
    last_name: str
    email: str
    patron_type: str
    home_branch: str
    blocks: tuple[str, ...]
    element_types: tuple[str, ...]

    def render(self, response: Element, agency: str) -> None:
        add_user_id(response, agency, self.user_id)
        wanted = set(self.element_types)
        if not wanted:
            return
        fields = add(response, "UserOptionalFields")
        if "name information" in wanted:
            personal = add(add(fields, "NameInformation"), "PersonalNameInformation")
            structured = add(personal, "StructuredPersonalUserName")
            if self.first_name:
                add(structured, "GivenName", self.first_name)
            add(structured, "Surname", self.last_name)
            add(
                personal,
                "UnstructuredPersonalUserName",
                f"{self.first_name} {self.last_name}".strip(),
            )
        if "user address information" in wanted and self.email:
            address = add(fields, "UserAddressInformation")
            add(address, "UserAddressRoleType", "Home")
            electronic = add(address, "ElectronicAddress")
            add(electronic, "ElectronicAddressType", "mailto")
            add(electronic, "ElectronicAddressData", self.email)
        if "user privilege" in wanted:
            privilege = add(fields, "UserPrivilege")
            add(privilege, "AgencyId", agency)
            add(privilege, "AgencyUserPrivilegeType", self.patron_type)
            add(privilege, "UserPrivilegeDescription", "patron type")
            if self.home_branch:
                home = add(fields, "UserPrivilege")
                add(home, "AgencyId", agency)
                add(home, "AgencyUserPrivilegeType", "home branch")
                add(home, "UserPrivilegeDescription", self.home_branch)
        if "block or trap" in wanted:
            for block in self.blocks:
                element = add(fields, "BlockOrTrap")
                add(element, "AgencyId", agency)
                add(element, "BlockOrTrapType", block)
        if "user id" in wanted:
            add_user_id(fields, agency, self.user_id)


def lookup_user(ctx: Context, msg: m.LookupUser) -> UserFound:
    patron = patron_by_reference(ctx.session, msg.user_id)
    if patron is None or patron.is_ill_dummy:
        raise NcipProblem(
            ProblemType.UNKNOWN_USER,
            "No patron has this campus ID or patron barcode.",
            element="UserIdentifierValue",
            value=msg.user_id,
        )
    home = ctx.session.get(Branch, patron.home_branch_id) if patron.home_branch_id else None
    blocks = patron_blocks(ctx.session, patron, ctx.rt.clock.today(), ctx.settings)
    return UserFound(
        user_id=patron.patron_id,
        first_name=patron.first_name,
        last_name=patron.last_name,
        email=patron.email,
        patron_type=patron.patron_type.value,
        home_branch=home.code if home else "",
        blocks=tuple(b.message for b in blocks),
        element_types=msg.element_types,
    )


# --- AcceptItem ------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemAccepted(Result):
    request_id: str
    item_id: str

    def render(self, response: Element, agency: str) -> None:
        add_request_id(response, agency, self.request_id)
        add_item_id(response, agency, self.item_id)


def _new_request(ctx: Context, msg: m.AcceptItem, number: str) -> None:
    if not msg.user_id:
        raise NcipProblem(
            ProblemType.NEEDED_DATA_MISSING,
            "Request is new here: send the UserId of the patron it is for.",
            element="UserIdentifierValue",
        )
    if not msg.title:
        raise NcipProblem(
            ProblemType.NEEDED_DATA_MISSING,
            "Request is new here: send the title in BibliographicDescription.",
            element="Title",
        )
    if msg.pickup_location:
        pickup = pickup_branch(ctx.session, ctx.settings, msg.pickup_location)
    else:
        patron = patron_by_reference(ctx.session, msg.user_id)
        if patron is None:
            raise _unknown_user(msg.user_id)
        home = ctx.session.get(Branch, patron.home_branch_id) if patron.home_branch_id else None
        if home is None or home.virtual:
            raise NcipProblem(
                ProblemType.NEEDED_DATA_MISSING,
                "The patron has no home campus: send the PickupLocation.",
                element="PickupLocation",
            )
        pickup = home
    try:
        place_request(
            ctx.rt,
            ctx.actor,
            RequestForm(
                patron=msg.user_id,
                kind=RequestKind.LOAN,
                title=msg.title,
                author=msg.author,
                pickup_branch=pickup.code,
                request_number=number,
            ),
        )
    except NotFound:
        raise _unknown_user(msg.user_id) from None
    except InvalidInput as error:  # the ILL account, or a staff record standing in
        raise NcipProblem(
            ProblemType.UNKNOWN_USER,
            error.message,
            element="UserIdentifierValue",
            value=msg.user_id,
        ) from None
    except Conflict as error:
        raise NcipProblem(
            ProblemType.DUPLICATE_REQUEST,
            error.message,
            element="RequestIdentifierValue",
            value=msg.request_id,
        ) from None


def _unknown_user(user_id: str) -> NcipProblem:
    return NcipProblem(
        ProblemType.UNKNOWN_USER,
        "No patron has this campus ID or patron barcode.",
        element="UserIdentifierValue",
        value=user_id,
    )


def _lender(ctx: Context, msg: m.AcceptItem, request: IllRequest | None) -> str:
    if request is not None and request.lender_symbol:
        return request.lender_symbol
    symbol = msg.item_agency.strip().upper()
    if 3 <= len(symbol) <= 5 and symbol.isalnum() and symbol != ctx.agency.upper():
        return symbol
    return UNKNOWN_LENDER


def accept_item(ctx: Context, msg: m.AcceptItem) -> ItemAccepted:
    number, prefix_says_library_use = request_number(msg.request_id, ctx.settings)
    if not number.isdigit() or not 4 <= len(number) <= 12:
        raise NcipProblem(
            ProblemType.UNKNOWN_REQUEST,
            "An ILL request number here is 4 to 12 digits (after any prefix the library "
            "configured in ncip_request_prefixes or ncip_library_use_prefixes).",
            element="RequestIdentifierValue",
            value=msg.request_id,
        )
    if msg.requested_action.strip().lower() not in ACCEPT_ACTIONS:
        raise NcipProblem(
            ProblemType.UNKNOWN_VALUE,
            "RequestedActionType is one of: Hold For Pickup, Hold For Pickup And Notify, "
            "Circulate, Circulate And Notify.",
            element="RequestedActionType",
            value=msg.requested_action,
        )
    if msg.date_for_return is None:
        raise NcipProblem(
            ProblemType.NEEDED_DATA_MISSING,
            "Send DateForReturn: the lender's due date goes on the strap.",
            element="DateForReturn",
        )
    library_use = prefix_says_library_use or any(
        word in restriction.lower()
        for restriction in msg.use_restrictions
        for word in LIBRARY_USE_WORDS
    )
    session = ctx.session
    request = session.scalar(
        select(IllRequest).where(IllRequest.request_number == number).with_for_update()
    )
    if request is None:
        _new_request(ctx, msg, number)
    elif msg.pickup_location and request.status is RequestStatus.REQUESTED:
        request.pickup_branch_id = pickup_branch(session, ctx.settings, msg.pickup_location).id
    _one_strap_at_a_time(session)
    form = ReceiveForm(
        request_number=number,
        lender_symbol=_lender(ctx, msg, request),
        lender_due_date=msg.date_for_return,
        in_library_use_only=library_use,
    )
    try:
        with refusals(
            "RequestIdentifierValue",
            msg.request_id,
            not_found=ProblemType.UNKNOWN_REQUEST,
            conflict=ProblemType.DUPLICATE_ITEM,
        ):
            received = receive_item(ctx.rt, ctx.actor, form)
    except NcipProblem as problem:
        if "due date" in problem.detail:
            raise NcipProblem(
                ProblemType.INVALID_DATE,
                problem.detail,
                element="DateForReturn",
                value=msg.date_for_return.isoformat(),
            ) from None
        raise
    barcode = received.strap_barcode
    if ctx.settings.ncip_item_id_policy == "sent" and msg.item_id:
        barcode = _use_sent_barcode(ctx, barcode, msg.item_id)
    return ItemAccepted(msg.request_id, barcode)


def _one_strap_at_a_time(session: Session) -> None:
    """Strap barcodes are numbered in order; on PostgreSQL, AcceptItems arriving together
    take their numbers in turn (a lock held to the end of the transaction) instead of all
    racing for the same next number."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('illdesk.strap_serial'))"))


def _use_sent_barcode(ctx: Context, strap: str, sent: str) -> str:
    scan = normalize_scan(sent)
    if isinstance(scan, InvalidScan):
        raise NcipProblem(
            ProblemType.INVALID_MESSAGE_SYNTAX,
            f"The ItemId cannot be a barcode here: {scan.reason}",
            element="ItemIdentifierValue",
            value=sent,
        )
    if _item_by_barcode(ctx.session, scan.barcode) is not None:
        raise NcipProblem(
            ProblemType.DUPLICATE_ITEM,
            "An item here already has this barcode.",
            element="ItemIdentifierValue",
            value=sent,
        )
    item = _item_by_barcode(ctx.session, strap)
    assert item is not None
    item.barcode = scan.barcode
    ctx.session.flush()
    return scan.barcode


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
        result = check_out(ctx.rt, actor, msg.user_id, item.barcode, strap_due=None)
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


def _in_hand_at_the_office(ctx: Context, item: Item) -> None:
    """The ILL system says the item is back at the ILL office (ILLiad sends this for an item
    never picked up, or a request cancelled after it came): its hold ends, its transit is
    over, and it waits at the office to go back to the lender."""
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
    session.flush()


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
    if item.status is not ItemStatus.AT_ILL_OFFICE:
        _in_hand_at_the_office(ctx, item)
    with refusals("ItemIdentifierValue", msg.item_id, invalid=ProblemType.ITEM_NOT_CHECKED_OUT):
        shipped = ship_back(ctx.rt, ctx.actor, item.barcode)
    lender = shipped.lender or "the lender"
    return ItemCheckedIn(
        item.barcode,
        f"Return to lender: ship {shipped.barcode} back to {lender}.",
        shipped.lender or "LENDER",
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


def dispatch(ctx: Context, request: m.NcipRequest) -> Result:
    body = request.body
    if isinstance(body, m.LookupUser):
        return lookup_user(ctx, body)
    if isinstance(body, m.AcceptItem):
        return accept_item(ctx, body)
    if isinstance(body, m.CheckOutItem):
        return check_out_item(ctx, body)
    if isinstance(body, m.CheckInItem):
        return check_in_item(ctx, body)
    if isinstance(body, m.RequestItem):
        return request_item(ctx, body)
    if isinstance(body, m.CancelRequestItem):
        return cancel_request_item(ctx, body)
    if isinstance(body, m.RenewItem):
        return renew_item(ctx, body)
    return delete_item(ctx, body)
