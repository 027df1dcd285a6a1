"""NCIP Problems: what an initiator is told when a message cannot be carried out.

ProblemType values come from the NCIP 2 processing-error schemes; every Problem names the
element and the value at fault, so the ILL system's staff can see what to fix.
"""

from __future__ import annotations

from enum import StrEnum

_SCHEMES = "http://www.niso.org/ncip/v1_0/schemes/processingerrortype/"
GENERAL_SCHEME = _SCHEMES + "generalprocessingerror.scm"
MESSAGING_SCHEME = _SCHEMES + "messagingerror.scm"
MAX_SHOWN_VALUE = 100  # a Problem echoes at most this much of the value at fault


class ProblemType(StrEnum):
    INVALID_MESSAGE_SYNTAX = "Invalid Message Syntax Error"
    UNSUPPORTED_SERVICE = "Unsupported Service"
    NEEDED_DATA_MISSING = "Needed Data Missing"
    INVALID_DATE = "Invalid Date"
    UNKNOWN_AGENCY = "Unknown Agency"
    AGENCY_AUTHENTICATION_FAILED = "Agency Authentication Failed"
    UNKNOWN_VALUE = "Unknown Value From Known Scheme"
    TEMPORARY_PROCESSING_FAILURE = "Temporary Processing Failure"
    UNKNOWN_USER = "Unknown User"
    USER_BLOCKED = "User Blocked"
    UNKNOWN_ITEM = "Unknown Item"
    UNKNOWN_REQUEST = "Unknown Request"
    DUPLICATE_ITEM = "Duplicate Item"
    DUPLICATE_REQUEST = "Duplicate Request"
    ITEM_ALREADY_CHECKED_OUT = "Item Already Checked Out"
    ITEM_NOT_CHECKED_OUT = "Item Not Checked Out"
    ITEM_DOES_NOT_CIRCULATE = "Item Does Not Circulate"
    REQUEST_ALREADY_PROCESSED = "Request Already Processed"
    NOT_RENEWABLE = "Item Not Renewable"

    @property
    def scheme(self) -> str:
        if self in (ProblemType.INVALID_MESSAGE_SYNTAX, ProblemType.UNSUPPORTED_SERVICE):
            return MESSAGING_SCHEME
        return GENERAL_SCHEME


class NcipProblem(Exception):
    """A message refused as it stands; nothing it asked for was written."""

    def __init__(
        self,
        problem_type: ProblemType,
        detail: str,
        *,
        element: str = "",
        value: str = "",
        http_status: int = 200,
    ) -> None:
        super().__init__(detail)
        self.problem_type = problem_type
        self.detail = detail
        self.element = element
        self.value = shown_value(value)
        self.http_status = http_status
        self.after_trust = False  # raised once the partner was trusted (not a trust refusal)


def shown_value(value: str) -> str:
    """The value at fault as a Problem echoes it: printable and at most 100 characters."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in value)
    if len(printable) <= MAX_SHOWN_VALUE:
        return printable
    return printable[: MAX_SHOWN_VALUE - 3] + "..."
