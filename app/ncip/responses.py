"""Writing NCIP response messages that validate against the NCIP 2.02 schema.

Strict out: every element in the schema's order, in the NCIP namespace with the `ncip`
prefix, and the version as a qualified attribute (`ncip:version`), which is what the
schema asks for and what an unqualified `version=` fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

from app.ncip.messages import NCIP_NAMESPACE
from app.ncip.problems import NcipProblem

VERSION = "http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd"
register_namespace("ncip", NCIP_NAMESPACE)
# Every initiation message of NCIP 2.02: a Problem about one of these is answered in its own
# `...Response`; anything else (not NCIP at all) in a bare NCIPMessage Problem.
NCIP_SERVICES = frozenset(
    [
        "AcceptItem",
        "AgencyCreated",
        "AgencyUpdated",
        "CancelRecallItem",
        "CancelRequestItem",
        "CheckInItem",
        "CheckOutItem",
        "CirculationStatusChangeReported",
        "CirculationStatusUpdated",
        "CreateAgency",
        "CreateItem",
        "CreateUser",
        "CreateUserFiscalTransaction",
        "DeleteItem",
        "DeleteUser",
        "ItemCheckedIn",
        "ItemCheckedOut",
        "ItemCreated",
        "ItemRecallCancelled",
        "ItemRecalled",
        "ItemReceived",
        "ItemRenewed",
        "ItemRequestCancelled",
        "ItemRequestUpdated",
        "ItemRequested",
        "ItemShipped",
        "ItemUpdated",
        "LookupAgency",
        "LookupItem",
        "LookupItemSet",
        "LookupRequest",
        "LookupUser",
        "RecallItem",
        "RenewItem",
        "ReportCirculationStatusChange",
        "RequestItem",
        "SendUserNotice",
        "UndoCheckOutItem",
        "UpdateAgency",
        "UpdateCirculationStatus",
        "UpdateItem",
        "UpdateRequestItem",
        "UpdateUser",
        "UserCreated",
        "UserFiscalTransactionCreated",
        "UserNoticeSent",
        "UserUpdated",
    ]
)


def _q(name: str) -> str:
    return f"{{{NCIP_NAMESPACE}}}{name}"


def add(parent: Element, name: str, text: str | None = None, *, scheme: str = "") -> Element:
    element = SubElement(parent, _q(name))
    if text is not None:
        element.text = text
    if scheme:
        element.set(_q("Scheme"), scheme)
    return element


@dataclass(frozen=True)
class Agencies:
    """Who answers (our agency id) and to whom (the initiator's agency id)."""

    ours: str
    theirs: str


def date_time(day: date) -> str:
    """A due date as xs:dateTime: the end of that day, library time."""
    return f"{day.isoformat()}T23:59:59"


def message(service: str, agencies: Agencies | None) -> tuple[Element, Element]:
    """The NCIPMessage and its (empty) `<service>Response` with the ResponseHeader."""
    root = Element(_q("NCIPMessage"), {_q("version"): VERSION})
    response = add(root, f"{service}Response")
    if agencies is not None and agencies.theirs:
        header = add(response, "ResponseHeader")
        add(add(header, "FromAgencyId"), "AgencyId", agencies.ours)
        add(add(header, "ToAgencyId"), "AgencyId", agencies.theirs)
    return root, response


def add_problem(parent: Element, problem: NcipProblem) -> None:
    element = add(parent, "Problem")
    add(element, "ProblemType", problem.problem_type.value, scheme=problem.problem_type.scheme)
    add(element, "ProblemDetail", problem.detail)
    if problem.element:
        add(element, "ProblemElement", problem.element)
    if problem.value:
        add(element, "ProblemValue", problem.value)


def problem_message(service: str, problem: NcipProblem, agencies: Agencies | None = None) -> bytes:
    """A `<service>Response` holding the Problem, or a bare NCIPMessage Problem when the
    message had no service this responder could name."""
    if service not in NCIP_SERVICES:
        root = Element(_q("NCIPMessage"), {_q("version"): VERSION})
        add_problem(root, problem)
        return serialize(root)
    root, response = message(service, agencies)
    add_problem(response, problem)
    return serialize(root)


def serialize(root: Element) -> bytes:
    body: bytes = tostring(root, encoding="UTF-8", xml_declaration=True)
    return body


def add_item_id(parent: Element, agency: str, barcode: str) -> None:
    element = add(parent, "ItemId")
    add(element, "AgencyId", agency)
    add(element, "ItemIdentifierValue", barcode)


def add_user_id(parent: Element, agency: str, user: str) -> None:
    element = add(parent, "UserId")
    add(element, "AgencyId", agency)
    add(element, "UserIdentifierValue", user)


def add_request_id(parent: Element, agency: str, number: str) -> None:
    element = add(parent, "RequestId")
    add(element, "AgencyId", agency)
    add(element, "RequestIdentifierValue", number)
