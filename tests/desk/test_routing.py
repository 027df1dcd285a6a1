"""The routing decision alone: no database, every branch of the table."""

from __future__ import annotations

from datetime import date

import pytest

from app.desk.routing import Desk, ItemState, Outcome, SlipKind, Tone, decide, slip_for, tone_of
from db.models import ItemKind, ItemStatus, RequestStatus, TransitReason

METRO, NEC, SE, OFFICE = 1, 2, 3, 5
TODAY = date(2026, 11, 2)


def temporary(**changes: object) -> ItemState:
    values: dict[str, object] = {
        "kind": ItemKind.TEMPORARY,
        "status": ItemStatus.IN_TRANSIT,
        "home_branch_id": OFFICE,
        "has_request": True,
        "request_status": RequestStatus.RECEIVED,
        "pickup_branch_id": SE,
        "transit_from_id": OFFICE,
        "transit_to_id": SE,
        "transit_reason": TransitReason.TO_PICKUP,
    }
    values.update(changes)
    return ItemState(**values)  # type: ignore[arg-type]


def owned(**changes: object) -> ItemState:
    values: dict[str, object] = {
        "kind": ItemKind.OWNED,
        "status": ItemStatus.AVAILABLE,
        "home_branch_id": METRO,
    }
    values.update(changes)
    return ItemState(**values)  # type: ignore[arg-type]


def at(branch: int) -> Desk:
    return Desk(branch, OFFICE)


def test_arrival_at_pickup_places_hold_and_receives_transit() -> None:
    d = decide(temporary(), at(SE), TODAY)
    assert d.outcome is Outcome.HOLD_SHELF
    assert d.destination_id == SE
    assert d.place_hold and d.receive_transit
    assert d.item_status is ItemStatus.ON_HOLD_SHELF


def test_arrival_at_wrong_campus_starts_transit_to_pickup() -> None:
    d = decide(temporary(), at(METRO), TODAY)
    assert (d.outcome, d.destination_id, d.start_transit) == (
        Outcome.TRANSIT,
        SE,
        TransitReason.WRONG_CAMPUS,
    )


def test_office_sending_to_pickup_twice_is_a_repeat() -> None:
    d = decide(temporary(), at(OFFICE), TODAY)
    assert d.outcome is Outcome.ALREADY_CHECKED_IN and d.routing is Outcome.TRANSIT
    assert not d.changes_state


def test_return_by_patron_ends_loan_and_goes_to_office() -> None:
    state = temporary(status=ItemStatus.CHECKED_OUT, open_loan=True, transit_to_id=None)
    d = decide(state, at(METRO), TODAY)
    assert d.outcome is Outcome.RETURN_TO_ILL_OFFICE
    assert d.end_loan and d.start_transit is TransitReason.TO_ILL_OFFICE
    at_office = decide(state, at(OFFICE), TODAY)
    assert at_office.outcome is Outcome.RETURN_TO_LENDER
    assert at_office.mark_request_returned and at_office.item_status is ItemStatus.AT_ILL_OFFICE


def test_returned_item_in_transit_to_office_is_received_there() -> None:
    state = temporary(
        transit_from_id=METRO, transit_to_id=OFFICE, transit_reason=TransitReason.TO_ILL_OFFICE
    )
    assert decide(state, at(OFFICE), TODAY).outcome is Outcome.RETURN_TO_LENDER
    assert decide(state, at(METRO), TODAY).outcome is Outcome.ALREADY_CHECKED_IN
    wrong = decide(state, at(SE), TODAY)
    assert wrong.outcome is Outcome.RETURN_TO_ILL_OFFICE and wrong.receive_transit


@pytest.mark.parametrize(
    ("pickup_by", "expected"),
    [(TODAY, Outcome.ALREADY_CHECKED_IN), (date(2026, 11, 1), Outcome.RETURN_TO_ILL_OFFICE)],
)
def test_hold_shelf_item_expires_only_after_pickup_by(pickup_by: date, expected: Outcome) -> None:
    state = temporary(
        status=ItemStatus.ON_HOLD_SHELF,
        transit_to_id=None,
        hold_branch_id=SE,
        hold_pickup_by=pickup_by,
    )
    d = decide(state, at(SE), TODAY)
    assert d.outcome is expected
    assert d.expire_hold is (expected is Outcome.RETURN_TO_ILL_OFFICE)


def test_hold_at_other_branch_changes_nothing() -> None:
    state = temporary(status=ItemStatus.ON_HOLD_SHELF, transit_to_id=None, hold_branch_id=SE)
    d = decide(state, at(METRO), TODAY)
    assert d.outcome is Outcome.ON_HOLD_ELSEWHERE and d.destination_id == SE
    assert not d.changes_state


def test_in_house_use_back_creates_hold_only_when_missing() -> None:
    state = temporary(status=ItemStatus.IN_HOUSE_USE, transit_to_id=None, in_house_use=True)
    d = decide(state, at(SE), TODAY)
    assert d.outcome is Outcome.IN_HOUSE_USE_RETURNED and d.place_hold and d.end_in_house_use
    kept = decide(temporary(in_house_use=True, hold_branch_id=SE), at(SE), TODAY)
    assert kept.outcome is Outcome.IN_HOUSE_USE_RETURNED and not kept.place_hold


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (temporary(request_status=RequestStatus.CANCELLED), Outcome.REQUEST_CANCELLED),
        (temporary(status=ItemStatus.CLOSED), Outcome.ITEM_CLOSED),
        (temporary(has_request=False, request_status=None), Outcome.SEE_ILL_OFFICE),
        (temporary(pickup_branch_id=None, transit_to_id=None), Outcome.SEE_ILL_OFFICE),
        (owned(open_loan=True, loan_to_ill_account=True), Outcome.SEE_ILL_OFFICE),
    ],
)
def test_impossible_cases_change_nothing(state: ItemState, expected: Outcome) -> None:
    d = decide(state, at(SE), TODAY)
    assert d.outcome is expected
    assert not d.changes_state
    assert tone_of(d.outcome, d.routing) is Tone.PROBLEM


def test_owned_item_reshelves_at_home_and_travels_home_elsewhere() -> None:
    assert decide(owned(), at(METRO), TODAY).outcome is Outcome.RESHELVE
    assert not decide(owned(), at(METRO), TODAY).changes_state
    away = decide(owned(), at(SE), TODAY)
    assert (away.outcome, away.destination_id, away.start_transit) == (
        Outcome.TRANSIT,
        METRO,
        TransitReason.TO_HOME,
    )


def test_lent_item_closes_lending_request_on_the_way_home() -> None:
    state = owned(status=ItemStatus.LENT, lending_status=RequestStatus.SHIPPED)
    home = decide(state, at(METRO), TODAY)
    assert home.outcome is Outcome.RESHELVE and home.close_lending
    assert home.item_status is ItemStatus.AVAILABLE
    away = decide(state, at(NEC), TODAY)
    assert away.outcome is Outcome.TRANSIT and away.close_lending


def test_item_wanted_for_lending_is_held_back_at_home() -> None:
    d = decide(owned(lending_status=RequestStatus.TO_PULL), at(METRO), TODAY)
    assert d.outcome is Outcome.PULL_FOR_LENDING and not d.changes_state


def test_tones_and_slips_follow_the_routing() -> None:
    assert tone_of(Outcome.HOLD_SHELF) is Tone.GOOD
    assert tone_of(Outcome.TRANSIT) is Tone.MOVE
    assert tone_of(Outcome.NOT_FOUND) is Tone.PROBLEM
    assert tone_of(Outcome.ALREADY_CHECKED_IN, Outcome.HOLD_SHELF) is Tone.GOOD
    assert tone_of(Outcome.LENDER_BARCODE, Outcome.NOT_FOUND) is Tone.PROBLEM
    assert slip_for(Outcome.HOLD_SHELF) is SlipKind.HOLD
    assert slip_for(Outcome.RETURN_TO_ILL_OFFICE) is SlipKind.RETURN
    assert slip_for(Outcome.RESHELVE) is None


def test_outcome_codes_are_the_documented_ones() -> None:
    codes = {o.value for o in Outcome}
    assert {
        "hold_shelf",
        "transit",
        "return_to_ill_office",
        "return_to_lender",
        "in_house_use_returned",
        "reshelve",
        "not_found",
        "lender_barcode",
        "invalid_scan",
    } <= codes
