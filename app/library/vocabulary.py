"""The library's closed vocabularies: roles, request and item statuses, and the rest.

They are defined beside the columns that store them (`db/models/enums.py`) because the
database models need them and `db` may not import `app`. This module is where the rest of
the program takes them from, so the screens, the command line and the desk's routing rules
name the library's words without reaching into the database layer.
"""

from __future__ import annotations

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

__all__ = [
    "ChargeKind",
    "Direction",
    "HoldStatus",
    "IfmDirection",
    "IfmStatus",
    "ItemKind",
    "ItemStatus",
    "NoticeStatus",
    "PatronType",
    "RequestKind",
    "RequestStatus",
    "Role",
    "TransitReason",
]
