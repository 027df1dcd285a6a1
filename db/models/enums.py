"""Closed vocabularies of the domain, stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    DESK = "desk"
    CTL = "ctl"
    ILL_OFFICE = "ill_office"
    ADMIN = "admin"


class PatronType(StrEnum):
    STUDENT = "student"
    FACULTY = "faculty"
    STAFF = "staff"
    ILL_ACCOUNT = "ill_account"


class Direction(StrEnum):
    BORROWING = "borrowing"
    LENDING = "lending"


class RequestKind(StrEnum):
    LOAN = "loan"
    COPY = "copy"


class RequestStatus(StrEnum):
    # borrowing
    REQUESTED = "requested"
    RECEIVED = "received"
    AVAILABLE = "available"  # copy delivered for download
    RETURNED = "returned"  # back at the ILL office, waiting to ship to the lender
    CLOSED = "closed"
    CANCELLED = "cancelled"
    LOST = "lost"
    # lending
    TO_PULL = "to_pull"
    PULLED = "pulled"
    NOT_ON_SHELF = "not_on_shelf"
    SHIPPED = "shipped"


class ItemKind(StrEnum):
    OWNED = "owned"
    TEMPORARY = "temporary"


class ItemStatus(StrEnum):
    AVAILABLE = "available"
    IN_TRANSIT = "in_transit"
    ON_HOLD_SHELF = "on_hold_shelf"
    CHECKED_OUT = "checked_out"
    IN_HOUSE_USE = "in_house_use"
    AT_ILL_OFFICE = "at_ill_office"  # checked in at WS-ILL, ready to ship back to the lender
    LENT = "lent"  # one of our items shipped to a borrowing library
    CLOSED = "closed"  # temporary item whose loan is over and which left the building
    LOST = "lost"


class HoldStatus(StrEnum):
    ACTIVE = "active"
    PICKED_UP = "picked_up"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class TransitReason(StrEnum):
    TO_PICKUP = "to_pickup"
    TO_ILL_OFFICE = "to_ill_office"
    TO_HOME = "to_home"
    WRONG_CAMPUS = "wrong_campus"


class ChargeKind(StrEnum):
    REPLACEMENT = "replacement"
    PROCESSING_FEE = "processing_fee"
    OTHER = "other"


class NoticeStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # last attempt failed; retried after next_attempt_at
    HELD = "held"  # cannot be sent as it stands (no institutional address, ...)


class IfmDirection(StrEnum):
    WE_RECEIVE = "we_receive"  # a borrower lost our item and pays us
    WE_PAY = "we_pay"  # our patron lost a borrowed item; we pay the lender


class IfmStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
