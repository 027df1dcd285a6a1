"""All tables. Importing this package registers every model on `Base.metadata`."""

from db.models.base import Base, UTCDateTime, utcnow
from db.models.branches import Branch, Closure
from db.models.circulation import HoldShelfEntry, InHouseUse, Loan, Transit
from db.models.enums import (
    ChargeKind,
    Direction,
    HoldStatus,
    IfmDirection,
    IfmStatus,
    ItemKind,
    ItemStatus,
    NoticeStatus,
    PatronType,
    RequestKind,
    RequestStatus,
    Role,
    TransitReason,
)
from db.models.items import STRAP_SERIALS, Item, MissingPiece, StrapPrint
from db.models.logs import AuditEvent, DueDateDiscrepancy, NotFoundScan
from db.models.money import Charge, IfmSettlement, IfmTransaction
from db.models.ncip import NcipMessage, NcipPartner
from db.models.notices import Notice, NoticeTemplate
from db.models.partners import PartnerLibrary
from db.models.people import Patron, Staff
from db.models.requests import CancelReason, IllRequest
from db.models.settings import AppliedScan, LibrarySetting

# The sequences the migrations create (PostgreSQL only; Alembic does not compare them).
SEQUENCES = (STRAP_SERIALS,)

__all__ = [
    "SEQUENCES",
    "STRAP_SERIALS",
    "AppliedScan",
    "AuditEvent",
    "Base",
    "Branch",
    "CancelReason",
    "Charge",
    "ChargeKind",
    "Closure",
    "Direction",
    "DueDateDiscrepancy",
    "HoldShelfEntry",
    "HoldStatus",
    "IfmDirection",
    "IfmSettlement",
    "IfmStatus",
    "IfmTransaction",
    "IllRequest",
    "InHouseUse",
    "Item",
    "ItemKind",
    "ItemStatus",
    "LibrarySetting",
    "Loan",
    "MissingPiece",
    "NcipMessage",
    "NcipPartner",
    "NotFoundScan",
    "Notice",
    "NoticeStatus",
    "NoticeTemplate",
    "PartnerLibrary",
    "Patron",
    "PatronType",
    "RequestKind",
    "RequestStatus",
    "Role",
    "Staff",
    "StrapPrint",
    "Transit",
    "TransitReason",
    "UTCDateTime",
    "utcnow",
]
