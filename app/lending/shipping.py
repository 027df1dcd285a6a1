"""The ILL office's side of lending: ship to the borrowing library, take it back, or give up.

Ship needs the campus to have checked the item out to the ILL account; the return routes
the item home (or to the shelf, when its home is the office's own campus) and closes the
request. Check-in does the same for a lent item scanned at any desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.lending.pull_list import (
    LendingRequestView,
    clean_note,
    lending_request,
    open_ill_loan,
    record_change,
    require_status,
)
from app.library import transits
from app.library.actors import Actor
from app.library.branches import branch_by_code, ill_office_branch
from app.library.errors import Conflict, InvalidInput
from app.library.runtime import Runtime
from db.models import (
    Branch,
    IllRequest,
    Item,
    ItemStatus,
    RequestKind,
    RequestStatus,
    Role,
    Transit,
    TransitReason,
)


class ReturnOutcome(StrEnum):
    TRANSIT = "transit"  # send home by inter-campus mail
    RESHELVE = "reshelve"  # home is here: back on the shelf
    ALREADY_CHECKED_IN = "already_checked_in"  # check-in had routed it already


@dataclass(frozen=True)
class LendReturnResult:
    request: LendingRequestView
    outcome: ReturnOutcome
    destination: str | None
    instruction: str


def ship(rt: Runtime, actor: Actor, number: str, due: date | None = None) -> LendingRequestView:
    """The office sends the item (or the scan) to the borrowing library."""
    actor.require(Role.ILL_OFFICE, "Shipping to a borrowing library")
    now = rt.clock.now()
    today = rt.clock.today()
    with rt.db.transaction() as session:
        req = lending_request(session, number)
        require_status(req, (RequestStatus.PULLED,), "shipped")
        before = req.status
        if req.kind is RequestKind.COPY:
            req.status = RequestStatus.CLOSED
            req.closed_at = now
            req.status_note = f"Scan sent to {req.borrower_symbol} on {today}."
            return record_change(session, actor, req, "lending.ship", now, before)
        if due is None:
            raise InvalidInput("Give the due date we grant the borrowing library.")
        if due <= today:
            raise InvalidInput(
                f"The due date {due} is not after today ({today}). Give the date the "
                "borrowing library must return it by."
            )
        item = session.get_one(Item, req.item_id)
        loan = open_ill_loan(session, item)
        if loan is None:
            raise Conflict(
                f"Item {item.barcode} is not checked out to the ILL account yet. The campus "
                "checks it out to the ILL account before the office ships it."
            )
        office = ill_office_branch(session)
        for transit in session.scalars(
            select(Transit).where(Transit.item_id == item.id, Transit.received_at.is_(None))
        ):
            transit.received_at = now
            transit.received_by_id = actor.staff_id or None
        # The ILL-account loan covered the trip to the office. Once shipped the item is
        # "lent" and the request holds our due date, so check-in anywhere routes it home.
        loan.returned_at = now
        loan.returned_branch_id = office.id
        item.status = ItemStatus.LENT
        item.current_branch_id = office.id
        req.status = RequestStatus.SHIPPED
        req.lend_due_date = due
        req.status_note = ""
        return record_change(session, actor, req, "lending.ship", now, before, f"due {due}")


def send_to_pull(rt: Runtime, actor: Actor, number: str, branch_code: str) -> LendingRequestView:
    """After 'not on shelf': ask another campus (or the same one again) to pull it."""
    actor.require(Role.ILL_OFFICE, "Sending a lending request to a campus")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        req = lending_request(session, number)
        require_status(req, (RequestStatus.NOT_ON_SHELF,), "sent to a campus again")
        branch = branch_by_code(session, branch_code)
        if branch.virtual:
            raise InvalidInput(f"{branch.code} is a virtual branch with no shelves.")
        before, req.status = req.status, RequestStatus.TO_PULL
        req.pull_branch_id = branch.id
        req.status_note = ""
        return record_change(session, actor, req, "lending.repull", now, before, branch.code)


def cancel_lending(rt: Runtime, actor: Actor, number: str, reason: str) -> LendingRequestView:
    """The office cannot supply it (for example not on the shelf anywhere)."""
    actor.require(Role.ILL_OFFICE, "Cancelling a lending request")
    note = clean_note(reason, "the reason for cancelling")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        req = lending_request(session, number)
        require_status(req, (RequestStatus.TO_PULL, RequestStatus.NOT_ON_SHELF), "cancelled")
        before, req.status = req.status, RequestStatus.CANCELLED
        req.cancel_reason = note
        req.closed_at = now
        return record_change(session, actor, req, "lending.cancel", now, before, note)


def record_return(rt: Runtime, actor: Actor, number: str) -> LendReturnResult:
    """The borrowing library sent it back: end the ILL-account loan, route it home, close."""
    actor.require(Role.ILL_OFFICE, "Recording a lent item's return")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        req = lending_request(session, number)
        require_status(req, (RequestStatus.SHIPPED, RequestStatus.LOST), "recorded as returned")
        item = session.get_one(Item, req.item_id)
        here = branch_by_code(session, actor.branch_code)
        location = here.location_id or here.id
        loan = open_ill_loan(session, item)
        destination: str | None = None
        if loan is None and item.status not in (ItemStatus.LENT, ItemStatus.LOST):
            outcome = ReturnOutcome.ALREADY_CHECKED_IN
            instruction = "Check-in has already routed this item; the request is now closed."
        else:
            if loan is not None:
                loan.returned_at = now
                loan.returned_branch_id = here.id
            home = session.get_one(Branch, item.home_branch_id)
            destination = home.code
            if home.id == location:
                outcome = ReturnOutcome.RESHELVE
                item.status = ItemStatus.AVAILABLE
                item.current_branch_id = home.id
                instruction = f"Reshelve {item.barcode}: its home is here ({home.code})."
            else:
                outcome = ReturnOutcome.TRANSIT
                item.status = ItemStatus.IN_TRANSIT
                item.current_branch_id = here.id
                transits.start(
                    session,
                    actor,
                    item.id,
                    from_branch_id=here.id,
                    to_branch_id=home.id,
                    reason=TransitReason.TO_HOME,
                    at=now,
                )
                instruction = f"Route {item.barcode} home to {home.code} by inter-campus mail."
        before = req.status
        _close_returned(req, now)
        try:
            view = record_change(
                session, actor, req, "lending.returned", now, before, outcome.value
            )
        except IntegrityError:
            raise Conflict(
                f"Item {item.barcode} is already in transit. Check it in first."
            ) from None
        return LendReturnResult(view, outcome, destination, instruction)


def _close_returned(req: IllRequest, now: datetime) -> None:
    req.status = RequestStatus.CLOSED
    req.closed_at = now
    req.status_note = f"Returned by {req.borrower_symbol} on {now.date()}."
