"""A test initiator: NCIP messages in the shapes real ILL systems send, posted over HTTP.

Shapes (quirks included) follow ILLiad's NCIP add-ons (default namespace, unqualified
`version`, ISO-8859-1, UserId before ItemId in CheckInItem, `pseudopatron`,
DateForReturn without a zone), Tipasa (prefixed namespace, qualified version, zoned
dates), ReShare (LookupUser with UserElementTypes, RequestItem, CancelRequestItem,
DeleteItem) and FOLIO's mod-ncip samples (pretty-printed, Scheme attributes, stray text).
"""

from __future__ import annotations

import base64
import http.client
import socket
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

NS = "http://www.niso.org/2008/ncip"
VERSION = "http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd"
SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).with_name("ncip_v2_02.xsd"))))
SECRET = "illiad-shared-secret-0123456789"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def tree(self) -> etree._Element:
        return etree.fromstring(self.body)

    def text(self, name: str) -> str | None:
        found = self.tree.find(f".//{{{NS}}}{name}")
        return found.text if found is not None else None

    @property
    def problem(self) -> str | None:
        return self.text("ProblemType")

    def assert_valid(self) -> Reply:
        tree = etree.fromstring(self.body)
        assert SCHEMA.validate(tree), f"{SCHEMA.error_log}\n{self.body.decode()}"
        return self


def free_port() -> int:
    """A loopback port nothing listens on, for a responder a test starts in a process."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(
    port: int,
    body: bytes,
    *,
    content_type: str = "application/xml",
    auth: tuple[str, str] | None = None,
    path: str = "/ncip",
    timeout: float = 10.0,
) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": content_type} if content_type else {}
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return Reply(response.status, response.read(), dict(response.getheaders()))
    finally:
        conn.close()


def get(port: int, path: str) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return Reply(response.status, response.read(), dict(response.getheaders()))
    finally:
        conn.close()


def _e(value: str) -> str:
    return escape(value)


def header(from_agency: str = "ILLIAD", to_agency: str = "EXC", secret: str | None = SECRET) -> str:
    auth = (
        f"<FromAgencyAuthentication>{_e(secret)}</FromAgencyAuthentication>"
        if secret is not None
        else ""
    )
    return (
        "<InitiationHeader>"
        f"<FromAgencyId><AgencyId>{_e(from_agency)}</AgencyId></FromAgencyId>{auth}"
        f"<ToAgencyId><AgencyId>{_e(to_agency)}</AgencyId></ToAgencyId>"
        "<ApplicationProfileType>ILL</ApplicationProfileType>"
        "</InitiationHeader>"
    )


def illiad(service_xml: str, encoding: str = "ISO-8859-1") -> bytes:
    """ILLiad's add-on: default namespace, unqualified version, ISO-8859-1."""
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        f'<NCIPMessage xmlns="{NS}" version="{VERSION}">{service_xml}</NCIPMessage>'
    )
    return text.encode(encoding.lower())


def tipasa(service_xml: str) -> bytes:
    """Prefixed namespace and qualified version, as the schema has it; UTF-8."""
    prefixed = service_xml.replace("<", "<ns1:").replace("<ns1:/", "</ns1:")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<ns1:NCIPMessage xmlns:ns1="{NS}" ns1:version="{VERSION}">{prefixed}</ns1:NCIPMessage>'
    ).encode()


def no_namespace(service_xml: str) -> bytes:
    """Some initiators send no namespace and no version at all."""
    return f"<NCIPMessage>{service_xml}</NCIPMessage>".encode()


def folio_pretty(service_xml: str) -> bytes:
    """FOLIO's samples: pretty-printed, stray text between elements."""
    spaced = service_xml.replace("><", ">\n    stray text\n  <")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<NCIPMessage xmlns="{NS}" version="{VERSION}">\n  {spaced}\n</NCIPMessage>\n'
    ).encode()


def accept_item(
    request: str,
    user: str = "21000123456",
    *,
    item: str | None = None,
    due: str = "2026-12-20T23:59:00",
    title: str = "Gödel, Escher, Bach",
    author: str = "Hofstadter, Douglas",
    pickup: str | None = None,
    action: str = "Hold For Pickup And Notify",
    restriction: str | None = None,
    head: str | None = None,
    pieces: str | None = None,
) -> str:
    pickup_xml = f"<PickupLocation>{_e(pickup)}</PickupLocation>" if pickup else ""
    pieces_xml = (
        f"<ItemDescription><NumberOfPieces>{_e(pieces)}</NumberOfPieces></ItemDescription>"
        if pieces is not None
        else ""
    )
    restriction_xml = (
        f"<ItemUseRestrictionType>{_e(restriction)}</ItemUseRestrictionType>" if restriction else ""
    )
    return (
        "<AcceptItem>"
        + (head if head is not None else header())
        + f"<RequestId><AgencyId>EXC</AgencyId>"
        f"<RequestIdentifierValue>{_e(request)}</RequestIdentifierValue></RequestId>"
        f"<RequestedActionType>{_e(action)}</RequestedActionType>"
        "<UserId><AgencyId>EXC</AgencyId><UserIdentifierType>Barcode Id</UserIdentifierType>"
        f"<UserIdentifierValue>{_e(user)}</UserIdentifierValue></UserId>"
        f"<ItemId><ItemIdentifierValue>{_e(item or request)}</ItemIdentifierValue></ItemId>"
        f"<DateForReturn>{_e(due)}</DateForReturn>"
        "<ItemOptionalFields><BibliographicDescription>"
        f"<Author>{_e(author)}</Author><Title>{_e(title)}</Title>"
        f"</BibliographicDescription>{restriction_xml}{pieces_xml}</ItemOptionalFields>"
        f"{pickup_xml}"
        "</AcceptItem>"
    )


def check_in_item(item: str, request: str = "", user: str = "", head: str | None = None) -> str:
    """ILLiad's order: UserId first, then ItemId, then RequestId (not the schema's)."""
    user_xml = f"<UserId><UserIdentifierValue>{_e(user)}</UserIdentifierValue></UserId>"
    request_xml = (
        f"<RequestId><AgencyId>EXC</AgencyId>"
        f"<RequestIdentifierValue>{_e(request)}</RequestIdentifierValue></RequestId>"
        if request
        else ""
    )
    return (
        "<CheckInItem>"
        + (head if head is not None else header())
        + (user_xml if user else "")
        + f"<ItemId><AgencyId>EXC</AgencyId><ItemIdentifierValue>{_e(item)}</ItemIdentifierValue>"
        "</ItemId>" + request_xml + "</CheckInItem>"
    )


def check_out_item(
    item: str, user: str, *, due: str | None = None, request: str = "", head: str | None = None
) -> str:
    due_xml = f"<DesiredDateDue>{_e(due)}</DesiredDateDue>" if due else ""
    request_xml = (
        f"<RequestId><RequestIdentifierValue>{_e(request)}</RequestIdentifierValue></RequestId>"
        if request
        else ""
    )
    return (
        "<CheckOutItem>"
        + (head if head is not None else header())
        + f"<UserId><UserIdentifierValue>{_e(user)}</UserIdentifierValue></UserId>"
        f"<ItemId><AgencyId>EXC</AgencyId><ItemIdentifierValue>{_e(item)}</ItemIdentifierValue>"
        f"</ItemId>{request_xml}{due_xml}</CheckOutItem>"
    )


def lookup_user(user: str, *types: str, head: str | None = None) -> str:
    wanted = "".join(
        f'<UserElementType Scheme="http://www.niso.org/ncip/v1_0/schemes/userelementtype/'
        f'userelementtype.scm">{_e(t)}</UserElementType>'
        for t in types
    )
    return (
        "<LookupUser>"
        + (head if head is not None else header("RESHARE"))
        + f"<UserId><UserIdentifierValue>{_e(user)}</UserIdentifierValue></UserId>"
        f"{wanted}</LookupUser>"
    )


def lookup_user_by_authentication(
    inputs: tuple[tuple[str, str], ...], *types: str, head: str | None = None
) -> str:
    """LookupUser as ReShare sends it: the patron named by AuthenticationInput (each a
    (type, data) pair, e.g. ("Barcode Id", "21000123456")), not by UserId."""
    given = "".join(
        "<AuthenticationInput>"
        f"<AuthenticationInputData>{_e(data)}</AuthenticationInputData>"
        '<AuthenticationDataFormatType Scheme="http://www.iana.org/assignments/media-types">'
        "text/plain</AuthenticationDataFormatType>"
        f"<AuthenticationInputType>{_e(kind)}</AuthenticationInputType>"
        "</AuthenticationInput>"
        for kind, data in inputs
    )
    wanted = "".join(f"<UserElementType>{_e(t)}</UserElementType>" for t in types)
    return (
        "<LookupUser>"
        + (head if head is not None else header("RESHARE"))
        + f"{given}{wanted}</LookupUser>"
    )


def request_item(partner_number: str, item: str, borrower: str = "OKT") -> str:
    return (
        "<RequestItem>"
        + header("RESHARE")
        + f"<UserId><UserIdentifierValue>{_e(borrower)}</UserIdentifierValue></UserId>"
        f"<ItemId><ItemIdentifierValue>{_e(item)}</ItemIdentifierValue></ItemId>"
        f"<RequestId><RequestIdentifierValue>{_e(partner_number)}</RequestIdentifierValue>"
        "</RequestId><RequestType>Loan</RequestType><RequestScopeType>Item</RequestScopeType>"
        "</RequestItem>"
    )


def cancel_request_item(partner_number: str, borrower: str = "OKT") -> str:
    return (
        "<CancelRequestItem>"
        + header("RESHARE")
        + f"<UserId><UserIdentifierValue>{_e(borrower)}</UserIdentifierValue></UserId>"
        f"<RequestId><RequestIdentifierValue>{_e(partner_number)}</RequestIdentifierValue>"
        "</RequestId><RequestType>Loan</RequestType></CancelRequestItem>"
    )


def renew_item(item: str, due: str) -> str:
    return (
        "<RenewItem>"
        + header()
        + "<UserId><UserIdentifierValue>T00123456</UserIdentifierValue></UserId>"
        f"<ItemId><ItemIdentifierValue>{_e(item)}</ItemIdentifierValue></ItemId>"
        f"<DesiredDateDue>{_e(due)}</DesiredDateDue></RenewItem>"
    )


def delete_item(item: str) -> str:
    return (
        "<DeleteItem>"
        + header("RESHARE")
        + f"<ItemId><ItemIdentifierValue>{_e(item)}</ItemIdentifierValue></ItemId></DeleteItem>"
    )
