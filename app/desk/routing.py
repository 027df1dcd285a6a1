"""Where a scanned item goes next: a pure decision from its state and the desk's branch.

No database and no Qt here, so every branch of the decision is testable as a plain function
call; `app.desk.checkin` loads the state, asks `decide`, and applies the returned steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.library.vocabulary import ItemKind, ItemStatus, RequestStatus, TransitReason


class Outcome(StrEnum):
    """Stable codes: the CLI's JSON `outcome`, the banner's style, the sound."""

    HOLD_SHELF = "hold_shelf"
    TRANSIT = "transit"
    RETURN_TO_ILL_OFFICE = "return_to_ill_office"
    RETURN_TO_LENDER = "return_to_lender"
    IN_HOUSE_USE_RETURNED = "in_house_use_returned"
    RESHELVE = "reshelve"
    NOT_FOUND = "not_found"
    LENDER_BARCODE = "lender_barcode"
    INVALID_SCAN = "invalid_scan"
    # The cases that should not happen, each with its own message.
    ALREADY_CHECKED_IN = "already_checked_in"
    REQUEST_CANCELLED = "request_cancelled"
    ON_HOLD_ELSEWHERE = "on_hold_elsewhere"
    ITEM_CLOSED = "item_closed"
    PULL_FOR_LENDING = "pull_for_lending"
    SEE_ILL_OFFICE = "see_ill_office"
    CHANGED_ELSEWHERE = "changed_elsewhere"


class Tone(StrEnum):
    """What the desk hears and sees first: a good read, an item to send on, or a problem."""

    GOOD = "good"
    MOVE = "move"
    PROBLEM = "problem"


class SlipKind(StrEnum):
    HOLD = "hold"  # patron and pickup-by date, for the hold shelf
    TRANSIT = "transit"  # destination in large type
    RETURN = "return"  # the yellow return slip for the ILL office


_TONES = {
    Outcome.HOLD_SHELF: Tone.GOOD,
    Outcome.IN_HOUSE_USE_RETURNED: Tone.GOOD,
    Outcome.RESHELVE: Tone.GOOD,
    Outcome.TRANSIT: Tone.MOVE,
    Outcome.RETURN_TO_ILL_OFFICE: Tone.MOVE,
    Outcome.RETURN_TO_LENDER: Tone.MOVE,
    Outcome.PULL_FOR_LENDING: Tone.MOVE,
}

_SLIPS = {
    Outcome.HOLD_SHELF: SlipKind.HOLD,
    Outcome.TRANSIT: SlipKind.TRANSIT,
    Outcome.RETURN_TO_ILL_OFFICE: SlipKind.RETURN,
}

# Lending requests still "out": the item is with the borrowing library or on its way back.
OPEN_LENDING = frozenset({RequestStatus.SHIPPED, RequestStatus.LOST})


def tone_of(outcome: Outcome, routing: Outcome | None = None) -> Tone:
    """A repeat or a lender-barcode scan sounds like the routing it repeats."""
    if outcome in (Outcome.ALREADY_CHECKED_IN, Outcome.LENDER_BARCODE) and routing is not None:
        return _TONES.get(routing, Tone.PROBLEM)
    return _TONES.get(outcome, Tone.PROBLEM)


def slip_for(routing: Outcome) -> SlipKind | None:
    return _SLIPS.get(routing)


@dataclass(frozen=True)
class ItemState:
    """What the decision needs to know about one item, loaded in one query."""

    kind: ItemKind
    status: ItemStatus
    home_branch_id: int
    has_request: bool = False  # a temporary item's borrowing request exists
    request_status: RequestStatus | None = None
    pickup_branch_id: int | None = None
    open_loan: bool = False
    loan_to_ill_account: bool = False  # checked out to the ILL dummy account for lending
    transit_from_id: int | None = None  # the open transit, if any
    transit_to_id: int | None = None
    transit_reason: TransitReason | None = None
    hold_branch_id: int | None = None  # the active hold-shelf entry, if any
    hold_pickup_by: date | None = None
    in_house_use: bool = False  # an open in-house use
    lending_status: RequestStatus | None = None  # newest open lending request of an owned item


@dataclass(frozen=True)
class Desk:
    branch_id: int
    ill_office_id: int


@dataclass(frozen=True)
class Decision:
    """The outcome, where the item goes, and the state changes that apply it.

    `routing` is the routing the outcome stands for: the same as `outcome`, except for
    `already_checked_in` (the routing done a moment ago) and problems without one.
    `problem` names the odd fact behind a `see_ill_office` outcome.
    """

    outcome: Outcome
    routing: Outcome
    destination_id: int | None = None
    problem: str = ""
    receive_transit: bool = False
    end_loan: bool = False
    end_in_house_use: bool = False
    expire_hold: bool = False
    place_hold: bool = False
    start_transit: TransitReason | None = None
    item_status: ItemStatus | None = None
    mark_request_returned: bool = False
    close_lending: bool = False
    was_lost: bool = False

    @property
    def changes_state(self) -> bool:
        return any(
            (
                self.receive_transit,
                self.end_loan,
                self.end_in_house_use,
                self.expire_hold,
                self.place_hold,
                self.start_transit is not None,
                self.item_status is not None,
                self.mark_request_returned,
                self.close_lending,
            )
        )


def _same(outcome: Outcome, destination_id: int | None = None) -> Decision:
    """Nothing changes: a repeat scan or a case staff must sort out by hand."""
    return Decision(outcome, outcome, destination_id)


def decide(state: ItemState, desk: Desk, today: date) -> Decision:
    if state.kind is ItemKind.TEMPORARY:
        return _temporary(state, desk, today)
    return _owned(state, desk)


def _temporary(state: ItemState, desk: Desk, today: date) -> Decision:
    office = desk.ill_office_id
    if not state.has_request:
        return Decision(
            Outcome.SEE_ILL_OFFICE, Outcome.SEE_ILL_OFFICE, office, problem="no_request"
        )
    if state.request_status is RequestStatus.CANCELLED:
        return _same(Outcome.REQUEST_CANCELLED, office)
    if state.status is ItemStatus.CLOSED or state.request_status is RequestStatus.CLOSED:
        return _same(Outcome.ITEM_CLOSED, office)
    if state.open_loan:
        return _to_office(state, desk, end_loan=True)
    if state.in_house_use:
        return _in_house_use_back(state, desk, today)
    if state.hold_branch_id is not None:
        if state.hold_branch_id != desk.branch_id:
            return _same(Outcome.ON_HOLD_ELSEWHERE, state.hold_branch_id)
        if state.hold_pickup_by is not None and state.hold_pickup_by < today:
            return _to_office(state, desk, expire_hold=True)
        return Decision(Outcome.ALREADY_CHECKED_IN, Outcome.HOLD_SHELF, desk.branch_id)
    if (
        state.status in (ItemStatus.LOST, ItemStatus.AT_ILL_OFFICE)
        or state.request_status in (RequestStatus.RETURNED, RequestStatus.LOST)
        or state.transit_reason is TransitReason.TO_ILL_OFFICE
    ):
        return _to_office(state, desk)
    if state.pickup_branch_id is None:
        return Decision(
            Outcome.SEE_ILL_OFFICE, Outcome.SEE_ILL_OFFICE, office, problem="no_pickup_branch"
        )
    return _to_pickup(state, desk)


def _to_pickup(state: ItemState, desk: Desk) -> Decision:
    pickup = state.pickup_branch_id
    assert pickup is not None
    if pickup == desk.branch_id:
        return Decision(
            Outcome.HOLD_SHELF,
            Outcome.HOLD_SHELF,
            pickup,
            receive_transit=state.transit_to_id is not None,
            place_hold=True,
            item_status=ItemStatus.ON_HOLD_SHELF,
        )
    if state.transit_from_id == desk.branch_id and state.transit_to_id == pickup:
        return Decision(Outcome.ALREADY_CHECKED_IN, Outcome.TRANSIT, pickup)
    reason = (
        TransitReason.TO_PICKUP
        if desk.branch_id == desk.ill_office_id
        else (TransitReason.WRONG_CAMPUS)
    )
    return Decision(
        Outcome.TRANSIT,
        Outcome.TRANSIT,
        pickup,
        receive_transit=state.transit_to_id is not None,
        start_transit=reason,
        item_status=ItemStatus.IN_TRANSIT,
    )


def _to_office(
    state: ItemState, desk: Desk, *, end_loan: bool = False, expire_hold: bool = False
) -> Decision:
    """Back to the ILL office: a return, an unclaimed hold, a lost item found again."""
    office = desk.ill_office_id
    was_lost = state.status is ItemStatus.LOST or state.request_status is RequestStatus.LOST
    fresh = end_loan or expire_hold
    if desk.branch_id == office:
        if state.status is ItemStatus.AT_ILL_OFFICE and not fresh:
            return Decision(Outcome.ALREADY_CHECKED_IN, Outcome.RETURN_TO_LENDER, office)
        return Decision(
            Outcome.RETURN_TO_LENDER,
            Outcome.RETURN_TO_LENDER,
            office,
            receive_transit=state.transit_to_id is not None,
            end_loan=end_loan,
            expire_hold=expire_hold,
            item_status=ItemStatus.AT_ILL_OFFICE,
            mark_request_returned=state.request_status is not RequestStatus.LOST,
            was_lost=was_lost,
        )
    if not fresh and state.transit_from_id == desk.branch_id and state.transit_to_id == office:
        return Decision(Outcome.ALREADY_CHECKED_IN, Outcome.RETURN_TO_ILL_OFFICE, office)
    return Decision(
        Outcome.RETURN_TO_ILL_OFFICE,
        Outcome.RETURN_TO_ILL_OFFICE,
        office,
        receive_transit=state.transit_to_id is not None,
        end_loan=end_loan,
        expire_hold=expire_hold,
        start_transit=TransitReason.TO_ILL_OFFICE,
        item_status=ItemStatus.IN_TRANSIT,
        was_lost=was_lost,
    )


def _in_house_use_back(state: ItemState, desk: Desk, today: date) -> Decision:
    """Handed back after a use in the library: onto this branch's hold shelf again."""
    hold_branch = state.hold_branch_id or state.pickup_branch_id or desk.branch_id
    if hold_branch == desk.branch_id:
        return Decision(
            Outcome.IN_HOUSE_USE_RETURNED,
            Outcome.IN_HOUSE_USE_RETURNED,
            desk.branch_id,
            end_in_house_use=True,
            place_hold=state.hold_branch_id is None,
            item_status=ItemStatus.ON_HOLD_SHELF,
        )
    return Decision(
        Outcome.TRANSIT,
        Outcome.TRANSIT,
        hold_branch,
        receive_transit=state.transit_to_id is not None,
        end_in_house_use=True,
        start_transit=TransitReason.WRONG_CAMPUS,
        item_status=ItemStatus.IN_TRANSIT,
    )


def _owned(state: ItemState, desk: Desk) -> Decision:
    home = state.home_branch_id
    if state.open_loan and state.loan_to_ill_account:
        return Decision(
            Outcome.SEE_ILL_OFFICE,
            Outcome.SEE_ILL_OFFICE,
            desk.ill_office_id,
            problem="lending_checkout",
        )
    close_lending = state.lending_status is RequestStatus.SHIPPED
    was_lost = state.status is ItemStatus.LOST or state.lending_status is RequestStatus.LOST
    if home == desk.branch_id:
        if (
            state.lending_status is RequestStatus.TO_PULL
            and not state.open_loan
            and state.transit_to_id is None
        ):
            return _same(Outcome.PULL_FOR_LENDING, desk.ill_office_id)
        needs_status = state.status is not ItemStatus.AVAILABLE
        return Decision(
            Outcome.RESHELVE,
            Outcome.RESHELVE,
            home,
            receive_transit=state.transit_to_id is not None,
            end_loan=state.open_loan,
            item_status=ItemStatus.AVAILABLE if needs_status else None,
            close_lending=close_lending,
            was_lost=was_lost,
        )
    if (
        not state.open_loan
        and state.status is ItemStatus.IN_TRANSIT
        and state.transit_from_id == desk.branch_id
        and state.transit_to_id == home
    ):
        return Decision(Outcome.ALREADY_CHECKED_IN, Outcome.TRANSIT, home)
    return Decision(
        Outcome.TRANSIT,
        Outcome.TRANSIT,
        home,
        receive_transit=state.transit_to_id is not None,
        end_loan=state.open_loan,
        start_transit=TransitReason.TO_HOME,
        item_status=ItemStatus.IN_TRANSIT,
        close_lending=close_lending,
        was_lost=was_lost,
    )
