"""What a checkout answers: its outcome codes (a contract: the CLI prints them) and the
result the desk shows, whether a proposal, a refusal or what was done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from db.models import Item, ItemKind, Patron


class Outcome(StrEnum):
    CHECKED_OUT = "checked_out"
    REFUSED_IN_LIBRARY_USE = "refused_in_library_use"
    REFUSED_NOT_ON_HOLD_FOR_PATRON = "refused_not_on_hold_for_patron"
    REFUSED_BLOCKED = "refused_blocked"
    REFUSED_ALREADY_CHECKED_OUT = "refused_already_checked_out"
    REFUSED_LENDER_DATE_PASSED = "refused_lender_date_passed"
    REFUSED_NO_DUE_DATE = "refused_no_due_date"
    REFUSED_OWN_ITEM = "refused_own_item"
    REFUSED_NOT_AVAILABLE = "refused_not_available"
    REFUSED_RENEWAL = "refused_renewal"
    REFUSED_PIECES_NOT_CHECKED = "refused_pieces_not_checked"
    NOT_FOUND = "not_found"
    INVALID_SCAN = "invalid_scan"

    @property
    def refused(self) -> bool:
        return self is not Outcome.CHECKED_OUT


@dataclass(frozen=True)
class CheckoutResult:
    """What the desk shows after a scan at Check Out (a proposal, or what was done)."""

    outcome: Outcome
    barcode: str
    patron_id: str
    patron_name: str
    message: str  # for staff: what happened, or why not and what to do
    title: str | None = None
    request_number: str | None = None
    due_date: date | None = None
    strap_due_date: date | None = None  # the lender's date the due date comes from
    recorded_strap_date: date | None = None  # what the ILL office recorded at receipt
    adjustment_reason: str | None = None
    patron_sentence: str = ""  # one sentence for staff to tell the patron about the date
    discrepancy_logged: bool = False
    overridden: bool = False
    held_for: str | None = None  # refusals: who the item waits for, and where
    held_at: str | None = None
    held_for_another: bool = False  # the hold is another patron's: never name them aloud
    offer_in_library_use: bool = False
    is_ill: bool = True
    pieces: int = 1  # more than one: staff confirm every piece is there before the loan


def refusal(
    outcome: Outcome,
    barcode: str,
    patron: Patron,
    message: str,
    item: Item | None = None,
    *,
    request_number: str | None = None,
    due_date: date | None = None,
    strap_due_date: date | None = None,
    recorded_strap_date: date | None = None,
    held_for: str | None = None,
    held_at: str | None = None,
    held_for_another: bool = False,
    offer_in_library_use: bool = False,
) -> CheckoutResult:
    """A result that writes nothing: a refusal, or the proposal a preview shows."""
    return CheckoutResult(
        outcome=outcome,
        barcode=barcode,
        patron_id=patron.patron_id,
        patron_name=patron.display_name,
        message=message,
        title=item.title if item else None,
        request_number=request_number,
        due_date=due_date,
        strap_due_date=strap_due_date,
        recorded_strap_date=recorded_strap_date,
        held_for=held_for,
        held_at=held_at,
        held_for_another=held_for_another,
        offer_in_library_use=offer_in_library_use,
        is_ill=item.kind is ItemKind.TEMPORARY if item else True,
        pieces=item.pieces if item else 1,
    )
