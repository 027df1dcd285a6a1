"""The banner's headline for a Check Out answer: the action first, then the fact.

A desk worker reads the headline from two metres while the patron waits, so it says what
to do ("Back to hold shelf at METRO"), never only what is wrong. The outcome codes stay as
they are; only these words may change.
"""

from __future__ import annotations

from app.desk.checkout_results import CheckoutResult, Outcome

_HEADLINES = {
    Outcome.REFUSED_IN_LIBRARY_USE: "Record an in-library use: no checkout",
    Outcome.REFUSED_BLOCKED: "Do not check out: account blocked",
    Outcome.REFUSED_ALREADY_CHECKED_OUT: "Check it in first: already checked out",
    Outcome.REFUSED_LENDER_DATE_PASSED: "Keep it for the ILL office: lender's date passed",
    Outcome.REFUSED_NO_DUE_DATE: "Enter the strap date",
    Outcome.REFUSED_OWN_ITEM: "Use the library's system: not an ILL item",
    Outcome.REFUSED_NOT_AVAILABLE: "Give to the ILL office: cannot be checked out",
    Outcome.REFUSED_RENEWAL: "Refer to the ILL office: no renewal at the desk",
    Outcome.REFUSED_PIECES_NOT_CHECKED: "Check every piece is here: not checked out yet",
    Outcome.NOT_FOUND: "Scan the TOP barcode: not found",
    Outcome.INVALID_SCAN: "Scan again: not readable",
}


def checkout_headline(result: CheckoutResult) -> str:
    """What the banner says first for a refusal (a checkout's headline is its due date)."""
    if result.outcome is Outcome.REFUSED_NOT_ON_HOLD_FOR_PATRON:
        if result.held_at is None:
            return "Check it in first: not on a hold shelf"
        if result.held_for_another:
            return f"Back to hold shelf at {result.held_at}"
        return f"Check it in to send it to {result.held_at}"
    return _HEADLINES.get(result.outcome, "Do not check out")
