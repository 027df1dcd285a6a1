"""Reading an NCIP initiation message into a frozen dataclass: lenient in, hardened always.

Initiators in the field are looser than the schema: the NCIP namespace or none, the
version attribute qualified or not, ISO-8859-1 or UTF-8, stray text between elements,
elements out of the schema's order, dates with or without a zone. All of that is read.
What is never read: a DTD, an entity or an external reference (defusedxml refuses them
before anything expands), or an identifier longer than any real one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from app.ncip.problems import NcipProblem, ProblemType

NCIP_NAMESPACE = "http://www.niso.org/2008/ncip"
MAX_IDENTIFIER = 100  # longest identifier (barcode, user id, request id, agency) read
MAX_TEXT = 1000  # longest free text (title, author) read
SUPPORTED = (
    "LookupUser",
    "AcceptItem",
    "CheckOutItem",
    "CheckInItem",
    "RequestItem",
    "CancelRequestItem",
    "RenewItem",
    "DeleteItem",
)


@dataclass(frozen=True)
class Header:
    from_agency: str = ""
    to_agency: str = ""
    authentication: str = ""  # FromAgencyAuthentication: the shared secret, if sent

    def __repr__(self) -> str:  # never show the secret (logs, idempotency digests)
        return f"Header(from_agency={self.from_agency!r}, to_agency={self.to_agency!r})"


@dataclass(frozen=True)
class LookupUser:
    user_id: str
    element_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class AcceptItem:
    request_id: str
    requested_action: str
    user_id: str = ""
    item_id: str = ""
    item_agency: str = ""
    date_for_return: date | None = None
    title: str = ""
    author: str = ""
    pickup_location: str = ""
    use_restrictions: tuple[str, ...] = ()
    pieces: int = 1  # ItemOptionalFields/ItemDescription/NumberOfPieces; 1 when not sent


@dataclass(frozen=True)
class CheckOutItem:
    user_id: str
    item_id: str
    request_id: str = ""
    desired_date_due: date | None = None


@dataclass(frozen=True)
class CheckInItem:
    item_id: str
    request_id: str = ""
    user_id: str = ""


@dataclass(frozen=True)
class RequestItem:
    user_id: str
    item_ids: tuple[str, ...]
    request_id: str = ""
    request_type: str = ""
    title: str = ""
    pickup_location: str = ""


@dataclass(frozen=True)
class CancelRequestItem:
    user_id: str
    request_id: str = ""
    item_id: str = ""
    request_type: str = ""


@dataclass(frozen=True)
class RenewItem:
    user_id: str
    item_id: str
    desired_date_due: date | None = None


@dataclass(frozen=True)
class DeleteItem:
    item_id: str


Body = (
    LookupUser
    | AcceptItem
    | CheckOutItem
    | CheckInItem
    | RequestItem
    | CancelRequestItem
    | RenewItem
    | DeleteItem
)


@dataclass(frozen=True)
class NcipRequest:
    service: str
    header: Header
    body: Body = field(repr=True)

    @property
    def digest(self) -> str:
        """Same partner, same service, same content: same digest, however it was spelled."""
        text = f"{self.header.from_agency.upper()}|{self.service}|{self.body!r}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the tree, by local names -----------------------------------------------------------


def local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if local(child.tag) == name]


def _first(element: Element | None, *path: str) -> Element | None:
    """The first element at `path` below `element` (local names, any order among siblings)."""
    current = element
    for name in path:
        if current is None:
            return None
        found = _children(current, name)
        current = found[0] if found else None
    return current


def _text(element: Element | None, name: str, limit: int = MAX_IDENTIFIER) -> str:
    """The element's text, whitespace-trimmed; refused when longer than any real value."""
    if element is None:
        return ""
    value = " ".join("".join(element.itertext()).split())
    if len(value) > limit:
        raise NcipProblem(
            ProblemType.INVALID_MESSAGE_SYNTAX,
            f"{name} is {len(value)} characters long; at most {limit} are read. "
            "Send the identifier itself.",
            element=name,
            value=value,
        )
    return value


def _value(element: Element | None, *path: str, limit: int = MAX_IDENTIFIER) -> str:
    return _text(_first(element, *path), path[-1], limit)


def _identifier(service: Element, wrapper: str, value_name: str) -> str:
    return _value(service, wrapper, value_name)


def _required(value: str, element: str, what: str) -> str:
    if not value:
        raise NcipProblem(
            ProblemType.NEEDED_DATA_MISSING,
            f"The message has no {element}: send {what}.",
            element=element,
        )
    return value


def parse_date(text: str, element: str) -> date | None:
    """An xs:dateTime (or a bare date) as the calendar day it names, zone or not."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    raise NcipProblem(
        ProblemType.INVALID_DATE,
        f"{element} is not a date and time (send it like 2026-12-20T23:59:00).",
        element=element,
        value=text,
    )


def _header(service: Element) -> Header:
    head = _first(service, "InitiationHeader")
    return Header(
        from_agency=_value(head, "FromAgencyId", "AgencyId"),
        to_agency=_value(head, "ToAgencyId", "AgencyId"),
        authentication=_value(head, "FromAgencyAuthentication", limit=200),
    )


def _root(body: bytes) -> Element:
    try:
        root: Element = fromstring(body, forbid_dtd=True, forbid_entities=True)
    except DefusedXmlException as exc:
        raise NcipProblem(
            ProblemType.INVALID_MESSAGE_SYNTAX,
            "The message declares a DTD, an entity or an external reference; NCIP messages "
            f"carry none, and this responder reads none ({type(exc).__name__}).",
            element="NCIPMessage",
        ) from None
    except (ParseError, ValueError, UnicodeError) as exc:
        raise NcipProblem(
            ProblemType.INVALID_MESSAGE_SYNTAX,
            f"The message is not well-formed XML ({str(exc)[:120]}).",
            element="NCIPMessage",
        ) from None
    namespace = str(root.tag)[1:].split("}", 1)[0] if str(root.tag).startswith("{") else ""
    if local(root.tag) != "NCIPMessage" or namespace not in ("", NCIP_NAMESPACE):
        raise NcipProblem(
            ProblemType.INVALID_MESSAGE_SYNTAX,
            f"The document is not an NCIPMessage in the namespace {NCIP_NAMESPACE}.",
            element=local(root.tag)[:60],
        )
    return root


def service_element(body: bytes) -> tuple[str, Element]:
    root = _root(body)
    services = list(root)
    if len(services) != 1:
        raise NcipProblem(
            ProblemType.INVALID_MESSAGE_SYNTAX,
            f"An NCIPMessage holds exactly one service element; this one holds {len(services)}.",
            element="NCIPMessage",
        )
    return local(services[0].tag), services[0]


def parse(body: bytes) -> NcipRequest:
    """The message as a dataclass, or an NcipProblem saying what is wrong with it."""
    name, service = service_element(body)
    header = _header(service)
    if name not in SUPPORTED:
        raise NcipProblem(
            ProblemType.UNSUPPORTED_SERVICE,
            f"This responder does not offer {name[:60]}. It answers: {', '.join(SUPPORTED)}.",
            element=name,
        )
    reader = _READERS[name]
    return NcipRequest(name, header, reader(service))


def partial_header(body: bytes) -> tuple[str, Header]:
    """The service name and header of a message that failed later, for the answer's header."""
    try:
        name, service = service_element(body)
        return name, _header(service)
    except NcipProblem:
        return "", Header()


# --- one reader per service ------------------------------------------------------------


def _user(service: Element) -> str:
    return _identifier(service, "UserId", "UserIdentifierValue")


def _item(service: Element) -> str:
    return _identifier(service, "ItemId", "ItemIdentifierValue")


def _request(service: Element) -> str:
    return _identifier(service, "RequestId", "RequestIdentifierValue")


# AuthenticationInputType values that name the patron (ReShare and FOLIO send "Barcode Id";
# others "User Id"); a PIN or password cannot be checked here: ILL Desk keeps none.
IDENTIFYING_INPUTS = ("barcode id", "user id", "username", "patron id")
SECRET_INPUTS = ("pin", "password")


def _authenticated_user(service: Element) -> str:
    """The patron named by AuthenticationInput, the alternative to UserId in LookupUser."""
    named = ""
    for given in _children(service, "AuthenticationInput"):
        kind = _value(given, "AuthenticationInputType").lower()
        if kind in SECRET_INPUTS:
            raise NcipProblem(
                ProblemType.UNKNOWN_VALUE,
                "ILL Desk keeps no patron PINs or passwords, so it cannot check one: send "
                "the patron's barcode (AuthenticationInputType Barcode Id) or a UserId only.",
                element="AuthenticationInputType",
                value=kind,
            )
        if kind in IDENTIFYING_INPUTS and not named:
            named = _value(given, "AuthenticationInputData")
    return named


def _lookup_user(service: Element) -> LookupUser:
    user = _required(
        _user(service) or _authenticated_user(service),
        "UserIdentifierValue",
        "the patron's campus ID or barcode (UserId, or AuthenticationInput of type Barcode Id)",
    )
    types = tuple(
        _text(e, "UserElementType").lower() for e in _children(service, "UserElementType")
    )
    return LookupUser(user, tuple(sorted(set(types))))


def _accept_item(service: Element) -> AcceptItem:
    request = _required(_request(service), "RequestIdentifierValue", "the ILL request number")
    action = _required(
        _value(service, "RequestedActionType"),
        "RequestedActionType",
        "Hold For Pickup, Hold For Pickup And Notify or Circulate",
    )
    bib = _first(service, "ItemOptionalFields", "BibliographicDescription")
    optional = _first(service, "ItemOptionalFields")
    restrictions = (
        tuple(
            _text(e, "ItemUseRestrictionType", MAX_TEXT)
            for e in _children(optional, "ItemUseRestrictionType")
        )
        if optional is not None
        else ()
    )
    pickup = _first(service, "PickupLocation")
    pieces = _number_of_pieces(_value(optional, "ItemDescription", "NumberOfPieces"))
    return AcceptItem(
        request_id=request,
        requested_action=action,
        user_id=_user(service),
        item_id=_item(service),
        item_agency=_value(service, "ItemId", "AgencyId"),
        date_for_return=parse_date(_value(service, "DateForReturn"), "DateForReturn"),
        title=_text(_first(bib, "Title"), "Title", MAX_TEXT),
        author=_text(_first(bib, "Author"), "Author", MAX_TEXT),
        pickup_location=_text(pickup, "PickupLocation"),
        use_restrictions=restrictions,
        pieces=pieces,
    )


def _number_of_pieces(text: str) -> int:
    """NumberOfPieces is an xs:positiveInteger; absent means one piece."""
    if not text:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise NcipProblem(
            ProblemType.INVALID_MESSAGE_SYNTAX,
            "NumberOfPieces is a whole number of 1 or more (a book with a CD: 2).",
            element="NumberOfPieces",
            value=text,
        )
    return int(text)


def _check_out_item(service: Element) -> CheckOutItem:
    return CheckOutItem(
        user_id=_required(_user(service), "UserIdentifierValue", "the borrower's user id"),
        item_id=_required(_item(service), "ItemIdentifierValue", "the item's barcode"),
        request_id=_request(service),
        desired_date_due=parse_date(_value(service, "DesiredDateDue"), "DesiredDateDue"),
    )


def _check_in_item(service: Element) -> CheckInItem:
    return CheckInItem(
        item_id=_required(_item(service), "ItemIdentifierValue", "the item's barcode"),
        request_id=_request(service),
        user_id=_user(service),
    )


def _request_item(service: Element) -> RequestItem:
    items = tuple(
        _text(_first(e, "ItemIdentifierValue"), "ItemIdentifierValue")
        for e in _children(service, "ItemId")
    )
    bib_ids = tuple(
        _text(
            _first(e, "BibliographicItemId", "BibliographicItemIdentifier"),
            "BibliographicItemIdentifier",
        )
        for e in _children(service, "BibliographicId")
    )
    found = tuple(i for i in items + bib_ids if i)
    if not found:
        raise NcipProblem(
            ProblemType.NEEDED_DATA_MISSING,
            "The message has no ItemId: send the barcode of our item to lend.",
            element="ItemIdentifierValue",
        )
    return RequestItem(
        user_id=_user(service),
        item_ids=found,
        request_id=_request(service),
        request_type=_value(service, "RequestType"),
        title=_value(
            service, "ItemOptionalFields", "BibliographicDescription", "Title", limit=MAX_TEXT
        ),
        pickup_location=_text(_first(service, "PickupLocation"), "PickupLocation"),
    )


def _cancel_request_item(service: Element) -> CancelRequestItem:
    message = CancelRequestItem(
        user_id=_user(service),
        request_id=_request(service),
        item_id=_item(service),
        request_type=_value(service, "RequestType"),
    )
    if not message.request_id and not message.item_id:
        raise NcipProblem(
            ProblemType.NEEDED_DATA_MISSING,
            "The message names no request: send the RequestId (or the ItemId).",
            element="RequestIdentifierValue",
        )
    return message


def _renew_item(service: Element) -> RenewItem:
    due = parse_date(_value(service, "DesiredDateDue"), "DesiredDateDue") or parse_date(
        _value(service, "DesiredDateForReturn"), "DesiredDateForReturn"
    )
    return RenewItem(
        user_id=_user(service),
        item_id=_required(_item(service), "ItemIdentifierValue", "the item's barcode"),
        desired_date_due=due,
    )


def _delete_item(service: Element) -> DeleteItem:
    return DeleteItem(_required(_item(service), "ItemIdentifierValue", "the item's barcode"))


_READERS: dict[str, Callable[[Element], Body]] = {
    "LookupUser": _lookup_user,
    "AcceptItem": _accept_item,
    "CheckOutItem": _check_out_item,
    "CheckInItem": _check_in_item,
    "RequestItem": _request_item,
    "CancelRequestItem": _cancel_request_item,
    "RenewItem": _renew_item,
    "DeleteItem": _delete_item,
}
