"""After a check-out: the renewal the desk refuses (ILL items are renewed by the lender,
through the ILL office) and the due-date change with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.borrowing import request_numbers
from app.borrowing.due_date_rule import accepted_due_date
from app.borrowing.due_dates import say_date
from app.borrowing.pickup_by import keep_pickup_by_within, tell_patron_new_pickup_by
from app.borrowing.request_numbers import temporary_item_for
from app.desk.checkout import MAX_REASON_LENGTH
from app.desk.checkout_results import Outcome
from app.desk.whereabouts import find_item
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.runtime import Runtime
from app.library.scanning import InvalidScan, normalize_scan
from app.notices.outbox import queue_notice
from app.records import audit
from db.models import (
    Direction,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    Item,
    ItemKind,
    ItemStatus,
    Loan,
    Patron,
    Role,
)


@dataclass(frozen=True)
class RenewalResult:
    """Always a refusal at the desk; the message says who can renew and how."""

    outcome: Outcome
    barcode: str
    title: str | None
    due_date: date | None
    message: str


RENEWAL_REFUSAL = (
    "ILL items are never renewed at the desk: only the lending library grants renewals. "
    "Ask the patron to request a renewal through their ILL account; the ILL office records "
    "the lender's answer and the due date follows it."
)


def refuse_renewal(rt: Runtime, actor: Actor, barcode: str) -> RenewalResult:
    """The Renew button: renews nothing; explains, for this item, why the desk does not."""
    scan = normalize_scan(barcode)
    if isinstance(scan, InvalidScan):
        raise InvalidInput(scan.reason)
    with rt.db.reading() as session:
        item, _ = find_item(session, scan.barcode)
        if item is None:
            return RenewalResult(Outcome.REFUSED_RENEWAL, scan.barcode, None, None, RENEWAL_REFUSAL)
        loan = session.scalar(
            select(Loan).where(Loan.item_id == item.id, Loan.returned_at.is_(None))
        )
        due = loan.due_date if loan else None
        patron = session.get(Patron, loan.patron_id) if loan and loan.patron_id else None
        if patron is not None and patron.is_ill_dummy:
            message = (
                "This item is lent to another library through the ILL dummy account: its due "
                "date is agreed with the borrowing library by the ILL office, not at the desk."
            )
        elif item.kind is ItemKind.TEMPORARY:
            message = RENEWAL_REFUSAL
            if due is not None:
                message += f" It is due {say_date(due)} until then."
        else:
            message = (
                "This is one of the library's own items: renew it in the library's "
                "circulation system."
            )
        return RenewalResult(Outcome.REFUSED_RENEWAL, item.barcode, item.title, due, message)


@dataclass(frozen=True)
class DueDateChange:
    barcode: str
    title: str
    patron_id: str | None
    old_due_date: date
    due_date: date
    reason: str
    # A borrowed item waiting on a hold shelf (or in in-library use): its hold's pickup-by
    # date after the change, and whether it was pulled back to stay within the new date.
    pickup_by: date | None = None
    pickup_by_pulled_back: bool = False
    patron_told: bool = False  # the ready-for-pickup notice went again, with the new date


_WAITING = (ItemStatus.ON_HOLD_SHELF, ItemStatus.IN_TRANSIT, ItemStatus.IN_HOUSE_USE)


def _change_lender_date(
    session: Session,
    actor: Actor,
    item: Item,
    new_due: date,
    reason: str,
    today: date,
    now: datetime,
) -> DueDateChange:
    """A borrowed item not checked out: the lender's date moves, and a waiting hold's
    pickup-by date never passes it (ILL office, audited)."""
    old = item.lender_due_date
    if old == new_due:
        raise InvalidInput(f"The lender's date is already {say_date(new_due)}; nothing to change.")
    item.lender_due_date = new_due
    pulled = keep_pickup_by_within(session, item.id, new_due, today)
    told = pulled is not None and tell_patron_new_pickup_by(session, item, pulled.new, now)
    hold = session.scalar(
        select(HoldShelfEntry).where(
            HoldShelfEntry.item_id == item.id, HoldShelfEntry.status == HoldStatus.ACTIVE
        )
    )
    request = session.get(IllRequest, item.request_id) if item.request_id else None
    before: dict[str, object] = {"lender_due_date": old.isoformat() if old else None}
    after: dict[str, object] = {"lender_due_date": new_due.isoformat()}
    if pulled is not None:
        before["pickup_by"] = pulled.old.isoformat()
        after["pickup_by"] = pulled.new.isoformat()
    audit.record(
        session,
        actor,
        "item.change_lender_due_date",
        at=now,
        entity="item",
        entity_id=item.id,
        item_id=item.id,
        patron_id=request.patron_id if request else None,
        before=before,
        after=after,
        detail=reason,
    )
    patron = session.get(Patron, request.patron_id) if request and request.patron_id else None
    return DueDateChange(
        item.barcode,
        item.title,
        patron.patron_id if patron else None,
        old or new_due,
        new_due,
        reason,
        pickup_by=hold.pickup_by if hold else None,
        pickup_by_pulled_back=pulled is not None,
        patron_told=told,
    )


def _refuse_a_later_recall(barcode: str, current: date | None, new_due: date) -> None:
    """A recall brings the date forward; a later date is a renewal (or a mistyped date)."""
    if current is not None and new_due > current:  # the same date: "nothing to change"
        raise InvalidInput(
            f"{barcode} is due {say_date(current)}; a recall moves the date earlier, and "
            f"{say_date(new_due)} is not. Enter the earlier date the lender gave (a later "
            "date the lender granted is recorded as an approved renewal)."
        )


def _tell_patron_of_recall(
    session: Session,
    item: Item,
    loan: Loan,
    patron: Patron | None,
    old: date,
    new_due: date,
    now: datetime,
) -> bool:
    """Queue the patron's `recalled` notice (once per loan and date); True when queued."""
    request = session.get(IllRequest, item.request_id) if item.request_id else None
    notice = queue_notice(
        session,
        "recalled",
        at=now,
        patron=patron,
        request_id=item.request_id,
        loan_id=loan.id,
        context={
            "title": item.title,
            "request_number": request.request_number if request else "",
            "old_due_date": old.isoformat(),
            "due_date": new_due.isoformat(),
            "barcode": item.barcode,
        },
        dedupe_key=f"recalled:{loan.id}:{new_due.isoformat()}",
    )
    return notice is not None and patron is not None


def change_due_date(
    rt: Runtime, actor: Actor, barcode: str, new_due: date, reason: str, *, recall: bool = False
) -> DueDateChange:
    """Set a checkout's due date to match a strap or a renewal the lender granted (audited).

    A borrowed item not checked out (on its way, on the hold shelf, in in-library use) has
    no checkout: the ILL office changes the lender's date itself (a recall), and the hold's
    pickup-by date is pulled back so it never passes the new date. `barcode` may also be the
    ILL request number of a borrowed item (the office's Renewals tab records a recall so).

    `recall` (ILL office): the lender recalled the item. A checked-out item's lender's date
    moves with its due date (else the office would ship it back by the old one) and the
    patron gets a `recalled` notice; a desk matching a strap leaves the lender's date as
    the office recorded it, and the difference stays visible.
    """
    if recall:
        actor.require(Role.ILL_OFFICE, "Recording a recall")
    cleaned = " ".join(reason.split())
    if not cleaned:
        raise InvalidInput(
            "Say why the due date changes (for example 'Lender renewed to 15 January'). "
            "The reason is kept in the audit trail."
        )
    if len(cleaned) > MAX_REASON_LENGTH:
        raise InvalidInput(f"Keep the reason under {MAX_REASON_LENGTH} characters.")
    scan = normalize_scan(barcode)
    if isinstance(scan, InvalidScan):
        raise InvalidInput(scan.reason)
    now, today = rt.clock.now(), rt.clock.today()
    accepted_due_date(new_due, today, what="The new due date", actor=actor, override_reason=cleaned)
    try:
        with rt.db.transaction() as session:
            item, _ = find_item(session, scan.barcode)
            if item is None and scan.barcode.isdigit():  # a request number: its borrowed item
                request = request_numbers.find_or_none(
                    session, scan.barcode, direction=Direction.BORROWING
                )
                item = temporary_item_for(session, request) if request is not None else None
            loan = (
                session.scalar(
                    select(Loan).where(Loan.item_id == item.id, Loan.returned_at.is_(None))
                )
                if item
                else None
            )
            waiting = (
                item is not None
                and loan is None
                and item.kind is ItemKind.TEMPORARY
                and item.status in _WAITING
            )
            if waiting and item is not None and actor.has_role(Role.ILL_OFFICE):
                if recall:
                    _refuse_a_later_recall(item.barcode, item.lender_due_date, new_due)
                return _change_lender_date(session, actor, item, new_due, cleaned, today, now)
            if item is None or loan is None:
                raise NotFound(
                    f"{scan.barcode} is not checked out, so it has no due date to change."
                    + (
                        " The ILL office changes the lender's date of a borrowed item that "
                        "waits for its patron."
                        if waiting
                        else ""
                    )
                )
            if recall and item.kind is not ItemKind.TEMPORARY:
                raise InvalidInput(
                    f"{item.barcode} is one of our own items: a lender's recall is recorded "
                    "for borrowed items. Change its due date without --recall."
                )
            if recall:
                _refuse_a_later_recall(item.barcode, loan.due_date, new_due)
            if loan.due_date == new_due:
                raise InvalidInput(f"It is already due {say_date(new_due)}; nothing to change.")
            old = loan.due_date
            loan.due_date = new_due
            loan.adjustment_reason = cleaned
            patron = session.get(Patron, loan.patron_id) if loan.patron_id else None
            before: dict[str, object] = {"due_date": old.isoformat()}
            after: dict[str, object] = {"due_date": new_due.isoformat()}
            told = False
            if recall:
                lender_date = item.lender_due_date
                before["lender_due_date"] = lender_date.isoformat() if lender_date else None
                after["lender_due_date"] = new_due.isoformat()
                item.lender_due_date = loan.strap_due_date = new_due
                told = _tell_patron_of_recall(session, item, loan, patron, old, new_due, now)
            audit.record(
                session,
                actor,
                "loan.change_due_date",
                at=now,
                entity="loan",
                entity_id=loan.id,
                item_id=item.id,
                patron_id=loan.patron_id,
                before=before,
                after=after,
                detail=cleaned,
            )
            return DueDateChange(
                item.barcode,
                item.title,
                patron.patron_id if patron else None,
                old,
                new_due,
                cleaned,
                patron_told=told,
            )
    except StaleDataError:
        raise Conflict(
            "Another desk changed this checkout at the same moment. Look at it again and "
            "retry if still needed."
        ) from None
