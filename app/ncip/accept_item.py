"""AcceptItem: an item arrived from a lender; what `illdesk receive` does."""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

from sqlalchemy import select

from app.borrowing.receiving import ReceiveForm, receive_item
from app.borrowing.requests import RequestForm, place_request
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.scanning import InvalidScan, normalize_scan
from app.ncip import messages as m
from app.ncip.handling import (
    ACCEPT_ACTIONS,
    LIBRARY_USE_WORDS,
    UNKNOWN_LENDER,
    Context,
    Result,
    _item_by_barcode,
    pickup_branch,
    refusals,
    request_number,
)
from app.ncip.problems import NcipProblem, ProblemType
from app.ncip.responses import add_item_id, add_request_id
from app.people.patrons import patron_by_reference
from db.models import (
    Branch,
    IllRequest,
    RequestKind,
    RequestStatus,
)

# --- AcceptItem ------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemAccepted(Result):
    request_id: str
    item_id: str

    def render(self, response: Element, agency: str) -> None:
        add_request_id(response, agency, self.request_id)
        add_item_id(response, agency, self.item_id)


def _new_request(ctx: Context, msg: m.AcceptItem, number: str) -> Branch:
    """Place the request the item came for; its pickup branch, which the receipt reads next
    (held by the caller, so the session finds it instead of reading it again)."""
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
                notify_patron=_we_notify(msg),
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
    return pickup


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
    pickup: Branch | None = None  # kept while the item is received (see _new_request)
    if request is None:
        pickup = _new_request(ctx, msg, number)
    else:
        if msg.pickup_location and request.status is RequestStatus.REQUESTED:
            pickup = pickup_branch(session, ctx.settings, msg.pickup_location)
            request.pickup_branch_id = pickup.id
        if request.status is RequestStatus.REQUESTED:
            request.notify_patron = _we_notify(msg)
    session.flush()
    form = ReceiveForm(
        request_number=number,
        lender_symbol=_lender(ctx, msg, request),
        lender_due_date=msg.date_for_return,
        in_library_use_only=library_use,
        pieces=msg.pieces,
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
    del pickup
    barcode = received.strap_barcode
    if ctx.settings.ncip_item_id_policy == "sent" and msg.item_id:
        barcode = _use_sent_barcode(ctx, barcode, msg.item_id)
    return ItemAccepted(msg.request_id, barcode)


def _we_notify(msg: m.AcceptItem) -> bool:
    """ "... And Notify": ILL Desk tells the patron the item is ready (its ready-for-pickup
    notice). Plain "Hold For Pickup" or "Circulate": the ILL system tells them itself, so
    the request gets no ready-for-pickup notice from us, at receipt or at the hold shelf."""
    return msg.requested_action.strip().lower().endswith("and notify")


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
