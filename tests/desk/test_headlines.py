"""Every desk headline says the action first, read from two metres; the codes stay as they are.

Words may change (they are for people), outcome codes may not (they are the CLI's contract):
a new code fails here until its headline is worded as an action.
"""

from __future__ import annotations

from datetime import date

import pytest

from app.desk.checkin_wording import Facts, Place, is_worded_offline, provisional_headline, word
from app.desk.checkout_results import CheckoutResult
from app.desk.checkout_results import Outcome as CheckoutOutcome
from app.desk.checkout_wording import checkout_headline
from app.desk.routing import Decision, Outcome

# What a desk worker does first: the opening word of every headline.
ACTIONS = (
    "Put", "Send", "Return", "Back", "Reshelve", "Try", "Scan", "Give", "Check", "Record",
    "Do not", "Keep", "Enter", "Use", "Refer",
)  # fmt: skip

OFFICE = Place(5, "WS-ILL", "West ILL office")
WEST = Place(2, "WEST", "West Campus Library")
FACTS = Facts(
    office=OFFICE,
    desk=Place(1, "METRO", "Metro Campus Library"),
    destination=WEST,
    home=WEST,
    patron="NGUYEN, M.",
    patron_id="T00123456",
    pickup_by=date(2026, 11, 16),
)

# The check-in headlines, each beginning with what to do with the item in hand.
CHECK_IN = {
    Outcome.HOLD_SHELF: "Put on hold shelf: NGUYEN, M.",
    Outcome.TRANSIT: "Send to WEST",
    Outcome.RETURN_TO_ILL_OFFICE: "Return to WS-ILL",
    Outcome.RETURN_TO_LENDER: "Return to lender",
    Outcome.IN_HOUSE_USE_RETURNED: "Back to hold shelf: NGUYEN, M.",
    Outcome.RESHELVE: "Reshelve",
    Outcome.NOT_FOUND: "Try Barcode recovery: not found",
    Outcome.LENDER_BARCODE: "Send to WEST",
    Outcome.INVALID_SCAN: "Scan again: scan not accepted",
    Outcome.ALREADY_CHECKED_IN: "Send to WEST (already checked in)",
    Outcome.REQUEST_CANCELLED: "Send to WS-ILL: request cancelled",
    Outcome.ON_HOLD_ELSEWHERE: "Send back to WEST: on hold there",
    Outcome.ITEM_CLOSED: "Send to WS-ILL: loan already closed",
    Outcome.PULL_FOR_LENDING: "Give to your team lead: wanted for lending",
    Outcome.SEE_ILL_OFFICE: "Give to the ILL office",
    Outcome.CHANGED_ELSEWHERE: "Scan again",
}


def test_check_in_outcome_codes_are_the_documented_contract() -> None:
    assert [o.value for o in Outcome] == [
        "hold_shelf", "transit", "return_to_ill_office", "return_to_lender",
        "in_house_use_returned", "reshelve", "not_found", "lender_barcode", "invalid_scan",
        "already_checked_in", "request_cancelled", "on_hold_elsewhere", "item_closed",
        "pull_for_lending", "see_ill_office", "changed_elsewhere",
    ]  # fmt: skip
    assert set(CHECK_IN) == set(Outcome)


@pytest.mark.parametrize("outcome", list(Outcome))
def test_every_check_in_headline_says_the_action(outcome: Outcome) -> None:
    routing = Outcome.TRANSIT if outcome is Outcome.ALREADY_CHECKED_IN else outcome
    facts = FACTS
    if outcome is Outcome.LENDER_BARCODE:
        facts = Facts(**{**FACTS.__dict__, "decision": Decision(Outcome.TRANSIT, Outcome.TRANSIT)})
    headline = word(outcome, routing, facts).headline
    assert headline == CHECK_IN[outcome]
    assert headline.startswith(ACTIONS), headline


@pytest.mark.parametrize("routing", [o for o in Outcome if is_worded_offline(o)])
def test_offline_guesses_say_the_action_too(routing: Outcome) -> None:
    headline = provisional_headline(routing, "WEST")
    assert headline.startswith("Provisional: ")
    assert headline.removeprefix("Provisional: ").capitalize().startswith(ACTIONS), headline


def _refusal(outcome: CheckoutOutcome, **facts: object) -> CheckoutResult:
    return CheckoutResult(outcome, "ILL00000042", "T00123456", "Renée Müller", "", **facts)  # type: ignore[arg-type]


def test_check_out_outcome_codes_are_the_documented_contract() -> None:
    assert [o.value for o in CheckoutOutcome] == [
        "checked_out", "refused_in_library_use", "refused_not_on_hold_for_patron",
        "refused_blocked", "refused_already_checked_out", "refused_lender_date_passed",
        "refused_no_due_date", "refused_own_item", "refused_not_available", "refused_renewal",
        "refused_pieces_not_checked", "not_found", "invalid_scan",
    ]  # fmt: skip


@pytest.mark.parametrize("outcome", [o for o in CheckoutOutcome if o.refused])
def test_every_check_out_refusal_headline_says_the_action(outcome: CheckoutOutcome) -> None:
    headline = checkout_headline(_refusal(outcome))
    assert headline.startswith(ACTIONS), headline


def test_the_wrong_patron_headline_names_the_right_shelf() -> None:
    other = _refusal(
        CheckoutOutcome.REFUSED_NOT_ON_HOLD_FOR_PATRON,
        held_for="Björn Larsen (T00678901)",
        held_at="METRO",
        held_for_another=True,
    )
    assert checkout_headline(other) == "Back to hold shelf at METRO"
    theirs_elsewhere = _refusal(
        CheckoutOutcome.REFUSED_NOT_ON_HOLD_FOR_PATRON, held_for="x", held_at="WEST"
    )
    assert checkout_headline(theirs_elsewhere) == "Check it in to send it to WEST"
    nowhere = _refusal(CheckoutOutcome.REFUSED_NOT_ON_HOLD_FOR_PATRON)
    assert checkout_headline(nowhere).startswith("Check it in first")
