"""Charges on a patron's account for a borrowed ILL item kept or lost.

Declaring the item lost (or long overdue) puts two charges on the patron who has it: the
replacement cost, marked "estimated" until the lender's actual bill replaces it, and the
library's processing fee. Each keeps its reason, shown in the patron view. Only the ILL
office changes or removes a charge, always with a reason, always audited. A charge already
reported to the bursar is never silently changed: the result carries a reminder to tell the
bursar (and to lift any transcript hold), which the screen shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.library import amounts, library_settings
from app.library.actors import Actor
from app.library.amounts import money
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.runtime import Runtime
from app.library.scanning import InvalidScan, normalize_scan
from app.money.charge_views import ChargeView, row_view, view_of, view_query
from app.notices.outbox import queue_notice
from app.records import audit
from db.models import (
    Charge,
    ChargeKind,
    IllRequest,
    Item,
    ItemKind,
    ItemStatus,
    Loan,
    Patron,
    RequestStatus,
    Role,
)

MAX_AMOUNT = Decimal(amounts.DEFAULT_MAXIMUM)
_ESTIMATE_NOTE = re.compile(r"\s*\(estimate[^)]*\)", re.IGNORECASE)


@dataclass(frozen=True)
class LostDeclaration:
    item_barcode: str
    title: str
    patron_id: str
    patron_name: str
    charges: tuple[ChargeView, ...]
    total: Decimal
    notice_queued: bool
    message: str


@dataclass(frozen=True)
class ChargeChange:
    charge: ChargeView
    message: str
    bursar_reminder: str  # "" when the bursar need not be told


@dataclass(frozen=True)
class LostItemReturned:
    """What the screen offers when a lost ILL item with open charges comes back."""

    item_barcode: str
    title: str
    patron_id: str
    patron_name: str
    open_charges: tuple[ChargeView, ...]
    total: Decimal
    message: str
    bursar_reminder: str  # "" when nothing was reported to the bursar


def _reason_text(reason: str, what: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise InvalidInput(f"{what} needs a reason; it is kept in the audit trail.")
    return text


def _item_by_barcode(session: Session, barcode: str, *, lock: bool = False) -> Item:
    scan = normalize_scan(barcode)
    if isinstance(scan, InvalidScan):
        raise InvalidInput(scan.reason)
    query = select(Item).where(Item.barcode == scan.barcode)
    item = session.scalar(query.with_for_update() if lock else query)
    if item is None:
        raise NotFound(f"No item has the barcode {scan.barcode}. Scan the strap barcode.")
    return item


def _open_charges(session: Session, item_id: int) -> list[Charge]:
    return list(
        session.scalars(
            select(Charge)
            .where(Charge.item_id == item_id, Charge.removed_at.is_(None))
            .order_by(Charge.id)
        )
    )


def declare_lost(
    rt: Runtime,
    actor: Actor,
    barcode: str,
    *,
    replacement_cost: str | Decimal,
    estimated: bool = True,
    long_overdue: bool = False,
    note: str = "",
) -> LostDeclaration:
    """Declare a borrowed ILL item lost or long overdue and charge the patron who has it.

    The item's row is locked first, so two offices declaring the same item at once are
    served one after the other: the second is told it was already declared.
    """
    actor.require(Role.ILL_OFFICE, "Declaring an ILL item lost")
    try:
        return _declare_lost(
            rt,
            actor,
            barcode,
            replacement_cost=replacement_cost,
            estimated=estimated,
            long_overdue=long_overdue,
            note=note,
        )
    except (StaleDataError, IntegrityError):
        raise Conflict(
            f"Another desk changed {barcode.strip()[:40]} at the same moment (it may have "
            "declared it lost). Nothing was charged here; look at the patron's charges and "
            "try again if they are missing."
        ) from None


def _declare_lost(
    rt: Runtime,
    actor: Actor,
    barcode: str,
    *,
    replacement_cost: str | Decimal,
    estimated: bool = True,
    long_overdue: bool = False,
    note: str = "",
) -> LostDeclaration:
    """The declaration itself, once the actor's role has been checked."""
    replacement = amounts.parse_amount(replacement_cost, "The replacement cost", maximum=MAX_AMOUNT)
    now, today = rt.clock.now(), rt.clock.today()
    with rt.db.transaction() as session:
        settings = library_settings.load(session)
        replacement = library_settings.within_amount_maximum(
            session, replacement, "The replacement cost"
        )
        fee = _processing_fee(settings.processing_fee)
        item = _item_by_barcode(session, barcode, lock=True)
        if item.kind is not ItemKind.TEMPORARY:
            raise InvalidInput(
                f"{item.barcode} is one of the library's own items. Lost-item ILL charges are "
                "only for items borrowed from another library (scan the strap barcode)."
            )
        existing = _open_charges(session, item.id)
        if existing:
            raise Conflict(
                f"{item.barcode} was already declared lost and has {len(existing)} open "
                "charge(s). Record the lender's actual bill on the replacement charge instead."
            )
        if item.status not in (ItemStatus.CHECKED_OUT, ItemStatus.LOST):
            raise InvalidInput(
                f"{item.barcode} is {item.status.value.replace('_', ' ')}, not with a patron: "
                "only an item checked out to a patron can be declared lost on their account."
            )
        loan = session.scalar(
            select(Loan).where(Loan.item_id == item.id, Loan.returned_at.is_(None))
        )
        req = session.get(IllRequest, item.request_id) if item.request_id else None
        patron_pk = loan.patron_id if loan and loan.patron_id else (req.patron_id if req else None)
        patron = session.get(Patron, patron_pk) if patron_pk else None
        if patron is None:
            raise InvalidInput(
                f"No patron is recorded for {item.barcode}; the charges cannot be placed. "
                "Check the ILL request, then try again."
            )
        what = "long overdue" if long_overdue else "lost"
        extra = f" ({' '.join(note.split())})" if note.strip() else ""
        label = f"{item.title}" + (f", ILL request {req.request_number}" if req else "")
        replacement_reason = (
            f"Replacement cost of {what} ILL item: {label}"
            + (" (estimate until the lending library bills us)" if estimated else "")
            + extra
        )
        fee_reason = f"ILL {what}-item processing fee: {label}"
        rows = [
            Charge(
                patron_id=patron.id,
                item_id=item.id,
                request_id=req.id if req else None,
                kind=kind,
                amount=amount,
                estimated=is_estimate,
                is_ill=True,
                reason=reason,
                created_at=now,
                created_by_id=actor.staff_id or None,
            )
            for kind, amount, is_estimate, reason in (
                (ChargeKind.REPLACEMENT, replacement, estimated, replacement_reason),
                (ChargeKind.PROCESSING_FEE, fee, False, fee_reason),
            )
        ]
        session.add_all(rows)
        before = {"item_status": item.status.value}
        item.status = ItemStatus.LOST
        if req is not None:
            req.status = RequestStatus.LOST
        session.flush()
        audit.record(
            session,
            actor,
            "charges.declare_lost",
            at=now,
            entity="item",
            entity_id=item.id,
            item_id=item.id,
            patron_id=patron.id,
            before=before,
            after={
                "item_status": ItemStatus.LOST.value,
                "charges": [r.id for r in rows],
                "replacement": str(replacement),
                "estimated": estimated,
                "processing_fee": str(fee),
            },
            detail=what,
        )
        notice = queue_notice(
            session,
            "lost_charges",
            at=now,
            patron=patron,
            request_id=req.id if req else None,
            loan_id=loan.id if loan else None,
            context={
                "title": item.title,
                "item_barcode": item.barcode,
                "due_date": loan.due_date if loan else item.lender_due_date,
                "replacement_amount": replacement,
                "replacement_estimated": estimated,
                "processing_fee": fee,
                "total_amount": replacement + fee,
            },
            dedupe_key=f"lost_charges:{item.id}:{today.isoformat()}",
        )
        session.flush()
        views = tuple(view_of(session, r.id) for r in rows)
        return LostDeclaration(
            item_barcode=item.barcode,
            title=item.title,
            patron_id=patron.patron_id,
            patron_name=patron.display_name,
            charges=views,
            total=replacement + fee,
            notice_queued=notice is not None,
            message=(
                f"{item.barcode} declared {what}. {patron.display_name} ({patron.patron_id}) is "
                f"charged {money(replacement)} replacement"
                + (" (estimated)" if estimated else "")
                + f" and a {money(fee)} processing fee. The notice to the patron waits in the "
                "outbox for you to check and send."
            ),
        )


def _processing_fee(setting: str) -> Decimal:
    try:
        return amounts.parse_amount(setting, "The processing fee setting", maximum=MAX_AMOUNT)
    except InvalidInput as exc:
        raise InvalidInput(f"{exc.message} An administrator fixes it in Admin settings.") from exc


def _open_charge(session: Session, charge_id: int) -> Charge:
    charge = session.get(Charge, charge_id)
    if charge is None:
        raise NotFound(f"There is no charge number {charge_id}. `illdesk charges list` shows them.")
    if charge.removed_at is not None:
        raise Conflict(
            f"Charge {charge_id} was already removed on {charge.removed_at:%Y-%m-%d} "
            f"({charge.removed_reason})."
        )
    return charge


def _reported_reminder(charge: Charge, change: str) -> str:
    if charge.reported_at is None:
        return ""
    hold = " and to lift the transcript hold" if charge.transcript_hold else ""
    return (
        f"This charge was reported to the bursar on {charge.reported_at:%Y-%m-%d}. "
        f"Ask the bursar to {change}{hold}."
    )


def remove_charge(rt: Runtime, actor: Actor, charge_id: int, reason: str) -> ChargeChange:
    """Remove a charge (for example when the lost item came back). ILL office only."""
    actor.require(Role.ILL_OFFICE, "Removing a charge")
    why = _reason_text(reason, "Removing a charge")
    return _remove_many(rt, actor, [charge_id], why)[0]


def reduce_charge(
    rt: Runtime, actor: Actor, charge_id: int, new_amount: str | Decimal, reason: str
) -> ChargeChange:
    """Lower a charge to `new_amount`, with a reason. ILL office only."""
    actor.require(Role.ILL_OFFICE, "Reducing a charge")
    why = _reason_text(reason, "Reducing a charge")
    amount = amounts.parse_amount(new_amount, "The new amount", maximum=MAX_AMOUNT)
    now = rt.clock.now()
    with rt.db.transaction() as session:
        amount = library_settings.within_amount_maximum(session, amount, "The new amount")
        charge = _open_charge(session, charge_id)
        old = Decimal(charge.amount).quantize(amounts.CENT)
        if amount >= old:
            raise InvalidInput(
                f"The new amount {money(amount)} is not less than the charge ({money(old)}). "
                "A reduction lowers a charge; to record the lender's actual bill use 'actual'."
            )
        charge.amount = amount
        reminder = _reported_reminder(charge, f"lower it from {money(old)} to {money(amount)}")
        session.flush()
        audit.record(
            session,
            actor,
            "charges.reduce",
            at=now,
            entity="charge",
            entity_id=charge.id,
            item_id=charge.item_id,
            patron_id=charge.patron_id,
            before={"amount": str(old)},
            after={"amount": str(amount)},
            detail=why,
        )
        view = view_of(session, charge.id)
        return ChargeChange(
            view, f"Charge {charge.id} reduced from {money(old)} to {money(amount)}.", reminder
        )


def record_actual_bill(
    rt: Runtime, actor: Actor, charge_id: int, amount: str | Decimal
) -> ChargeChange:
    """Replace an estimated replacement cost with the lending library's actual bill."""
    actor.require(Role.ILL_OFFICE, "Recording the lender's bill")
    actual = amounts.parse_amount(amount, "The lender's bill", maximum=MAX_AMOUNT)
    now = rt.clock.now()
    with rt.db.transaction() as session:
        actual = library_settings.within_amount_maximum(session, actual, "The lender's bill")
        charge = _open_charge(session, charge_id)
        if charge.kind is not ChargeKind.REPLACEMENT:
            raise InvalidInput(
                f"Charge {charge.id} is a {charge.kind.value.replace('_', ' ')}; the lender's "
                "bill replaces the replacement-cost charge."
            )
        old = Decimal(charge.amount).quantize(amounts.CENT)
        was_estimated = charge.estimated
        charge.amount, charge.estimated = actual, False
        charge.reason = (
            _ESTIMATE_NOTE.sub("", charge.reason)
            + f"; lender's actual bill {money(actual)} recorded {now:%Y-%m-%d}"
        )
        reminder = (
            _reported_reminder(charge, f"change it from {money(old)} to {money(actual)}")
            if actual != old
            else ""
        )
        session.flush()
        audit.record(
            session,
            actor,
            "charges.actual_bill",
            at=now,
            entity="charge",
            entity_id=charge.id,
            item_id=charge.item_id,
            patron_id=charge.patron_id,
            before={"amount": str(old), "estimated": was_estimated},
            after={"amount": str(actual), "estimated": False},
        )
        view = view_of(session, charge.id)
        return ChargeChange(
            view, f"Charge {charge.id} is now the lender's actual bill, {money(actual)}.", reminder
        )


def lost_item_returned(rt: Runtime, actor: Actor, barcode: str) -> LostItemReturned | None:
    """For a scanned item with open charges: the removal offer and bursar reminder; else None."""
    with rt.db.reading() as session:
        item = _item_by_barcode(session, barcode)
        rows = session.execute(
            view_query().where(Charge.item_id == item.id, Charge.removed_at.is_(None))
        ).all()
        if not rows:
            return None
        views = tuple(row_view(row) for row in rows)
        total = sum((v.amount for v in views), Decimal("0.00"))
        first = views[0]
        reported = [v for v in views if v.reported_at is not None]
        reminder = ""
        if reported:
            hold = (
                " and to lift the transcript hold"
                if any(v.transcript_hold for v in reported)
                else ""
            )
            reminder = (
                f"{len(reported)} of these charges were reported to the bursar. After removing "
                f"them, ask the bursar to clear them from {first.patron_name}'s account{hold}."
            )
        return LostItemReturned(
            item_barcode=item.barcode,
            title=item.title,
            patron_id=first.patron_id,
            patron_name=first.patron_name,
            open_charges=views,
            total=total,
            message=(
                f"This item was declared lost. {first.patron_name} ({first.patron_id}) has "
                f"{len(views)} open charge(s) for it, {money(total)} in all. Remove them now "
                "that the item is back?"
            ),
            bursar_reminder=reminder,
        )


def remove_charges_for_returned_item(
    rt: Runtime, actor: Actor, barcode: str, reason: str = "The lost item was returned"
) -> tuple[ChargeChange, ...]:
    """Accept the offer: remove every open charge of a lost item that came back."""
    actor.require(Role.ILL_OFFICE, "Removing charges")
    why = _reason_text(reason, "Removing charges")
    with rt.db.reading() as session:
        item = _item_by_barcode(session, barcode)
        ids = [c.id for c in _open_charges(session, item.id)]
    if not ids:
        raise Conflict(f"{item.barcode} has no open charges to remove.")
    return _remove_many(rt, actor, ids, why)


def _remove_many(rt: Runtime, actor: Actor, ids: list[int], why: str) -> tuple[ChargeChange, ...]:
    now = rt.clock.now()
    results: list[ChargeChange] = []
    with rt.db.transaction() as session:
        for charge_id in ids:
            charge = _open_charge(session, charge_id)
            charge.removed_at, charge.removed_by_id, charge.removed_reason = (
                now,
                actor.staff_id or None,
                why,
            )
            reminder = _reported_reminder(
                charge, f"remove {money(charge.amount)} from the patron's account"
            )
            session.flush()
            audit.record(
                session,
                actor,
                "charges.remove",
                at=now,
                entity="charge",
                entity_id=charge.id,
                item_id=charge.item_id,
                patron_id=charge.patron_id,
                before={"amount": str(charge.amount)},
                after={"removed": True},
                detail=why,
            )
            view = view_of(session, charge.id)
            results.append(
                ChargeChange(view, f"Charge {charge.id} ({money(view.amount)}) removed.", reminder)
            )
    return tuple(results)
