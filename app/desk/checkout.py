"""Check out at the desk: an ILL item to the patron it waits for, or one of our own items
to the ILL dummy account when it is being lent to another library.

The due date is the lender's strap date (moved off closed days), never a local loan rule.
Staff confirm it against the physical strap; when the strap says otherwise, the strap
wins and the difference goes to the ILL librarian's discrepancy log.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import overload

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.borrowing.due_date_rule import accepted_due_date, latest_due_date
from app.borrowing.due_dates import DueDate, due_date_at_branch, say_date
from app.borrowing.pieces import pieces_line
from app.desk.checkout_lending import Lend, lending_plan
from app.desk.checkout_results import CheckoutResult, Outcome, refusal
from app.desk.offline_fallback import (
    OFFLINE_NOT_ALLOWED,
    ONLINE_ONLY,
    OfflineFallback,
    ProvisionalCheckout,
    journal_checkout,
)
from app.desk.unknown_commit import was_saved
from app.desk.whereabouts import describe_whereabouts, find_item, lock_item, whereabouts_now
from app.lending.pull_list import checkout_to_ill
from app.library import library_settings
from app.library.actors import Actor
from app.library.branches import branch_by_code
from app.library.errors import (
    Conflict,
    DatabaseUnavailable,
    InvalidInput,
    OutcomeUnknown,
    is_lock_busy,
)
from app.library.runtime import Runtime
from app.library.scanning import InvalidScan, normalize_scan
from app.people.patrons import patron_blocks, require_patron
from app.records import audit
from db.engine import CommitOutcomeUnknown
from db.models import (
    AppliedScan,
    Branch,
    DueDateDiscrepancy,
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

MAX_REASON_LENGTH = 300


@dataclass(frozen=True)
class _Plan:
    """A checkout that may go ahead: the result to report and what to write."""

    result: CheckoutResult
    item: Item
    patron: Patron
    branch: Branch
    hold: HoldShelfEntry | None
    override_note: str


def _who(session: Session, patron_id: int | None) -> str:
    patron = session.get(Patron, patron_id) if patron_id else None
    return f"{patron.display_name} ({patron.patron_id})" if patron else "no patron"


def _waiting_here(session: Session, patron: Patron, branch: Branch) -> str:
    """What the patron at the desk has on this branch's hold shelf: where to look instead."""
    waiting = session.scalar(
        select(func.count(HoldShelfEntry.id)).where(
            HoldShelfEntry.patron_id == patron.id,
            HoldShelfEntry.branch_id == branch.id,
            HoldShelfEntry.status == HoldStatus.ACTIVE,
        )
    )
    name, here = patron.display_name, f"on the hold shelf here at {branch.code}"
    if not waiting:
        return f"Nothing waits for {name} {here}."
    if waiting == 1:
        return f"{name}'s own item waits {here}: look for it."
    return f"{waiting} items wait for {name} {here}: look for them."


def _holdrefusal(
    session: Session, item: Item, patron: Patron, branch: Branch, hold: HoldShelfEntry | None
) -> str | None:
    """Why this item is not on this branch's hold shelf for this patron, or None when it is."""
    if hold is not None and hold.patron_id == patron.id and hold.branch_id == branch.id:
        return None
    if hold is None:
        return (
            f"This item is not on a hold shelf: {describe_whereabouts(session, item)} "
            "If it just arrived, check it in first."
        )
    where = session.get(Branch, hold.branch_id)
    where_code = where.code if where else "another branch"
    if hold.patron_id != patron.id:  # said in front of the patron: no other patron named
        return (
            f"Held for another patron, at {where_code}'s hold shelf: put it back there. "
            + _waiting_here(session, patron, branch)
        )
    return (
        f"This item waits for {patron.display_name} on the hold shelf at {where_code}, not here "
        f"at {branch.code}. Check it in here to route it, or ask the ILL office."
    )


def _ill_plan(
    session: Session,
    actor: Actor,
    today: date,
    item: Item,
    patron: Patron,
    branch: Branch,
    strap_due: date | None,
    override: bool,
) -> _Plan | CheckoutResult:
    hold = session.scalar(
        select(HoldShelfEntry).where(
            HoldShelfEntry.item_id == item.id, HoldShelfEntry.status == HoldStatus.ACTIVE
        )
    )
    request = session.get(IllRequest, item.request_id) if item.request_id else None
    number = request.request_number if request else None
    notes: list[str] = []
    why_not = _holdrefusal(session, item, patron, branch, hold)
    if why_not is not None:
        if not override:
            held_at = None
            if hold is not None:
                hold_branch = session.get(Branch, hold.branch_id)
                held_at = hold_branch.code if hold_branch else None
            return refusal(
                Outcome.REFUSED_NOT_ON_HOLD_FOR_PATRON,
                item.barcode,
                patron,
                why_not,
                item,
                request_number=number,
                held_for=_who(session, hold.patron_id) if hold else None,
                held_at=held_at,
                held_for_another=hold is not None and hold.patron_id != patron.id,
            )
        actor.require(Role.ILL_OFFICE, "Checking out an item that is not on the hold shelf here")
        notes.append(why_not)
        if hold is not None and hold.patron_id != patron.id:  # the audit trail names them
            notes.append(f"It was held for {_who(session, hold.patron_id)}.")
    if item.in_library_use_only:
        return refusal(
            Outcome.REFUSED_IN_LIBRARY_USE,
            item.barcode,
            patron,
            "The lender allows this item in the library only: it is never checked out, "
            "whoever the patron is. Record an in-library use instead; the item stays on the "
            "hold shelf between uses.",
            item,
            request_number=number,
            offer_in_library_use=why_not is None,
        )
    recorded = item.lender_due_date
    strap = strap_due or recorded
    if strap is None:
        return refusal(
            Outcome.REFUSED_NO_DUE_DATE,
            item.barcode,
            patron,
            "No lender due date was recorded for this item. Enter the date printed on the "
            "strap and check out again.",
            item,
            request_number=number,
        )
    due = due_date_at_branch(session, branch, strap, today=today)
    if due.already_past:
        if not override:
            return refusal(
                Outcome.REFUSED_LENDER_DATE_PASSED,
                item.barcode,
                patron,
                f"{due.sentence} Do not check it out; ask the ILL office, which can record a "
                "renewal the lender granted.",
                item,
                request_number=number,
                strap_due_date=strap,
                recorded_strap_date=recorded,
            )
        actor.require(Role.ILL_OFFICE, "Checking out an item whose lender due date has passed")
        notes.append(due.sentence)
    result = _checked_out(item, patron, due, number, recorded)
    return _Plan(result, item, patron, branch, hold, " ".join(notes))


def _checked_out(
    item: Item, patron: Patron, due: DueDate, number: str | None, recorded: date | None
) -> CheckoutResult:
    return CheckoutResult(
        outcome=Outcome.CHECKED_OUT,
        barcode=item.barcode,
        patron_id=patron.patron_id,
        patron_name=patron.display_name,
        message=f"Checked out to {patron.display_name}: due {say_date(due.due_date)}.",
        title=item.title,
        request_number=number,
        due_date=due.due_date,
        strap_due_date=due.strap_date,
        recorded_strap_date=recorded,
        adjustment_reason=due.adjustment_reason,
        patron_sentence=due.sentence,
        discrepancy_logged=recorded is not None and due.strap_date != recorded,
        is_ill=item.kind is ItemKind.TEMPORARY,
        pieces=item.pieces,
    )


def _plan(
    session: Session,
    actor: Actor,
    today: date,
    patron_ref: str,
    raw_barcode: str,
    strap_due: date | None,
    override: bool,
) -> _Plan | Lend | CheckoutResult:
    patron = require_patron(session, patron_ref)
    scan = normalize_scan(raw_barcode)
    if isinstance(scan, InvalidScan):
        return refusal(Outcome.INVALID_SCAN, scan.shown, patron, scan.reason)
    item, lender_label = find_item(session, scan.barcode)
    if item is None:
        return refusal(
            Outcome.NOT_FOUND,
            scan.barcode,
            patron,
            f"No item has the barcode {scan.barcode}. Scan the barcode at the TOP of the strap.",
        )
    branch = branch_by_code(session, actor.branch_code)
    loan = session.scalar(select(Loan).where(Loan.item_id == item.id, Loan.returned_at.is_(None)))
    if loan is not None:
        holder = "this patron" if loan.patron_id == patron.id else _who(session, loan.patron_id)
        return refusal(
            Outcome.REFUSED_ALREADY_CHECKED_OUT,
            item.barcode,
            patron,
            f"This item is already checked out to {holder}, due {say_date(loan.due_date)}. "
            "Check it in first if it has come back.",
            item,
            due_date=loan.due_date,
        )
    settings = library_settings.load(session)
    blocking = [b for b in patron_blocks(session, patron, today, settings) if b.stops_checkout]
    if blocking:
        return refusal(
            Outcome.REFUSED_BLOCKED,
            item.barcode,
            patron,
            " ".join(b.message for b in blocking)
            + " This stops checkouts until the ILL office clears it.",
            item,
        )
    if item.kind is ItemKind.TEMPORARY:
        if strap_due is not None and strap_due.year < 2000:
            raise InvalidInput("That strap date is not a real due date. Type it as YYYY-MM-DD.")
        if strap_due is not None and strap_due > latest_due_date(today):
            accepted_due_date(strap_due, today, what="The strap date")  # says why it is refused
        plan: _Plan | Lend | CheckoutResult = _ill_plan(
            session, actor, today, item, patron, branch, strap_due, override
        )
    else:
        if strap_due is not None:
            raise InvalidInput(
                "Only ILL items carry a lender's strap date; leave the strap date empty for "
                "the library's own items."
            )
        plan = lending_plan(session, actor, item, patron)
    if lender_label and isinstance(plan, _Plan):
        note = (
            " You scanned the lender's own label: next time scan the barcode at the TOP of "
            "the strap."
        )
        plan = replace(plan, result=replace(plan.result, message=plan.result.message + note))
    return plan


def preview_checkout(
    rt: Runtime, actor: Actor, patron_ref: str, barcode: str, *, strap_due: date | None = None
) -> CheckoutResult:
    """What a checkout would do, written nowhere: the screen shows it for staff to confirm."""
    with rt.db.reading() as session:
        plan = _plan(session, actor, rt.clock.today(), patron_ref, barcode, strap_due, False)
        if isinstance(plan, Lend):
            return plan.preview
        if isinstance(plan, _Plan):
            if plan.item.pieces > 1:  # said before the loan is made; confirmed with it
                return replace(
                    plan.result, message=f"{pieces_line(plan.item.pieces)} {plan.result.message}"
                )
            return plan.result
        return plan


def _pieces_unchecked(plan: _Plan) -> CheckoutResult:
    """A multi-piece item whose pieces staff have not confirmed: no loan yet."""
    return refusal(
        Outcome.REFUSED_PIECES_NOT_CHECKED,
        plan.item.barcode,
        plan.patron,
        f"{pieces_line(plan.item.pieces)} Count them in front of the patron, then confirm "
        "that every piece is here to check it out. If one is missing, do not check it out: "
        "ask the ILL office.",
        plan.item,
        request_number=plan.result.request_number,
        due_date=plan.result.due_date,
        strap_due_date=plan.result.strap_due_date,
        recorded_strap_date=plan.result.recorded_strap_date,
    )


@overload
def check_out(
    rt: Runtime,
    actor: Actor,
    patron_ref: str,
    barcode: str,
    *,
    strap_due: date | None = None,
    override: bool = False,
    idempotency_key: str | None = None,
    offline: None = None,
    pieces_checked: bool = False,
) -> CheckoutResult: ...


@overload
def check_out(
    rt: Runtime,
    actor: Actor,
    patron_ref: str,
    barcode: str,
    *,
    strap_due: date | None = None,
    override: bool = False,
    idempotency_key: str | None = None,
    offline: OfflineFallback,
    pieces_checked: bool = False,
) -> CheckoutResult | ProvisionalCheckout: ...


def check_out(
    rt: Runtime,
    actor: Actor,
    patron_ref: str,
    barcode: str,
    *,
    strap_due: date | None = None,
    override: bool = False,
    idempotency_key: str | None = None,
    offline: OfflineFallback | None = None,
    pieces_checked: bool = False,
) -> CheckoutResult | ProvisionalCheckout:
    """Check out one item; a refusal is returned (not raised) and writes nothing.

    `strap_due` is the date staff read on the physical strap; when it differs from the
    date recorded at receipt, the strap wins and a discrepancy is logged. `override`
    (ILL office only, audited) checks out an item not on this hold shelf for this patron.
    `idempotency_key` (made when not given) is recorded with the loan: when the reply to
    COMMIT is lost, it tells whether the checkout happened (`OutcomeUnknown` carries it when
    the database cannot be asked yet). With `offline`, an ILL checkout (one with a strap
    date) that finds the database away is journaled, due by the strap until the replay, if
    the library allows it; a lost reply to COMMIT is journaled under its key as "not sure".
    Without, `DatabaseUnavailable` (or its `OutcomeUnknown`) is raised. An item of more
    than one piece is checked out only with `pieces_checked` (staff counted them); without,
    `refused_pieces_not_checked` and nothing is written.
    """
    key = idempotency_key or str(uuid.uuid4())
    try:
        return _check_out_online(
            rt, actor, patron_ref, barcode, strap_due, override, key, pieces_checked
        )
    except OutcomeUnknown as exc:
        if offline is None:
            raise
        due = strap_due or rt.clock.today()
        saved = offline.check_out(actor, patron_ref, barcode, due, key=exc.key)
        return replace(saved, unsure=exc.message)
    except DatabaseUnavailable:
        if offline is None:
            raise
        if not offline.checkouts_allowed:
            raise DatabaseUnavailable(OFFLINE_NOT_ALLOWED) from None
        if strap_due is None or override:
            raise DatabaseUnavailable(ONLINE_ONLY) from None
        return journal_checkout(rt, actor, offline, patron_ref, barcode, strap_due)


def _check_out_online(
    rt: Runtime,
    actor: Actor,
    patron_ref: str,
    barcode: str,
    strap_due: date | None,
    override: bool,
    key: str,
    pieces_checked: bool,
) -> CheckoutResult:
    now, today = rt.clock.now(), rt.clock.today()
    done: CheckoutResult | None = None
    try:
        with rt.db.transaction() as session:
            lock_item(session, barcode)
            plan = _plan(session, actor, today, patron_ref, barcode, strap_due, override)
            if isinstance(plan, _Plan) and plan.item.pieces > 1 and not pieces_checked:
                return _pieces_unchecked(plan)
            if isinstance(plan, _Plan):
                done = _apply(session, actor, plan, now)
                session.add(
                    AppliedScan(
                        idempotency_key=key,
                        applied_at=now,
                        result=json.dumps(
                            {"outcome": done.outcome.value, "due_date": _iso(done.due_date)}
                        ),
                    )
                )
                return done
    except CommitOutcomeUnknown:
        assert done is not None  # COMMIT is only sent once the loan is written
        if not was_saved(rt.db, key, "check-out"):
            raise DatabaseUnavailable(
                "The connection broke before the check-out was saved: nothing was checked "
                "out. Try again."
            ) from None
        return replace(
            done,
            message=f"{done.message} The connection broke just after the check-out was sent; "
            "the database had saved it.",
        )
    except (IntegrityError, StaleDataError, OperationalError) as exc:
        if isinstance(exc, OperationalError) and not is_lock_busy(exc):
            raise
        raise Conflict(
            "Another desk changed this item at the same moment. "
            f"{whereabouts_now(rt.db, barcode)} Nothing was checked out; scan it again."
        ) from None
    if isinstance(plan, Lend):
        lent = checkout_to_ill(rt, actor, plan.request_number, patron_ref)
        return replace(
            plan.preview,
            message=lent.reminder,
            due_date=lent.due_date,
            patron_sentence=f"Due back at the ILL office by {say_date(lent.due_date)}.",
        )
    return plan


def check_out_within(
    session: Session, actor: Actor, today: date, now: datetime, patron_ref: str, barcode: str
) -> CheckoutResult:
    """Check out inside the caller's transaction, as an offline scan replayed with its key.

    Lending one of our own items to the ILL account is an ILL-office step, never offline.
    The loan was made at the desk already, so a multi-piece item is not asked about again.
    """
    lock_item(session, barcode)
    plan = _plan(session, actor, today, patron_ref, barcode, None, False)
    if isinstance(plan, _Plan):
        return _apply(session, actor, plan, now)
    if isinstance(plan, Lend):
        return replace(
            plan.preview,
            outcome=Outcome.REFUSED_OWN_ITEM,
            message="Lending one of our items to the ILL account is done online only.",
        )
    return plan


def _apply(session: Session, actor: Actor, plan: _Plan, now: datetime) -> CheckoutResult:
    result, item, patron, branch = plan.result, plan.item, plan.patron, plan.branch
    assert result.due_date is not None
    loan = Loan(
        item_id=item.id,
        patron_id=patron.id,
        branch_id=branch.id,
        staff_id=actor.staff_id or None,
        checked_out_at=now,
        due_date=result.due_date,
        strap_due_date=result.strap_due_date,
        adjustment_reason=result.adjustment_reason,
    )
    session.add(loan)
    if plan.hold is not None:
        plan.hold.status = (
            HoldStatus.PICKED_UP if plan.hold.patron_id == patron.id else HoldStatus.CANCELLED
        )
        plan.hold.ended_at = now
    before = {"status": item.status.value, "lender_due_date": _iso(item.lender_due_date)}
    item.status = ItemStatus.CHECKED_OUT
    item.current_branch_id = branch.id
    if result.discrepancy_logged and result.strap_due_date is not None:
        item.lender_due_date = result.strap_due_date
    session.flush()
    if result.discrepancy_logged:
        assert result.recorded_strap_date is not None and result.strap_due_date is not None
        session.add(
            DueDateDiscrepancy(
                at=now,
                patron_id=patron.id,
                patron_campus_id=patron.patron_id,
                request_number=result.request_number or "",
                loan_id=loan.id,
                system_date=result.recorded_strap_date,
                strap_date=result.strap_due_date,
                due_date=result.due_date,
                adjustment_reason=result.adjustment_reason,
                staff_id=actor.staff_id or None,
                branch_id=branch.id,
            )
        )
    audit.record(
        session,
        actor,
        "checkout",
        at=now,
        entity="loan",
        entity_id=loan.id,
        item_id=item.id,
        patron_id=patron.id,
        before=before,
        after={
            "status": item.status.value,
            "lender_due_date": _iso(item.lender_due_date),
            "due_date": result.due_date.isoformat(),
            "strap_due_date": _iso(result.strap_due_date),
            "adjustment_reason": result.adjustment_reason,
        },
    )
    if plan.override_note:
        audit.record(
            session,
            actor,
            "checkout.override",
            at=now,
            entity="loan",
            entity_id=loan.id,
            item_id=item.id,
            patron_id=patron.id,
            detail=plan.override_note,
        )
        result = replace(result, overridden=True)
    return result


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
