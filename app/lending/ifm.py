"""Replacement costs moved through OCLC ILL Fee Management (IFM), and the running balance.

For a lost item the borrowing library places a dummy loan request that exists only to
move money. The fields of that request are built here, identically for both directions:
when a borrower lost our item (we receive) and when our patron lost a borrowed item
(we pay the lender). The original request closes only once the dummy is processed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.borrowing import request_numbers
from app.library import amounts, library_settings
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.runtime import Runtime
from app.records import audit
from db.models import (
    Direction,
    IfmDirection,
    IfmSettlement,
    IfmStatus,
    IfmTransaction,
    IllRequest,
    RequestStatus,
    Role,
)

CURRENCY = "USD"
MAX_AMOUNT = amounts.HARD_MAXIMUM  # what the ledger column holds
_DUMMY_NUMBER = re.compile(r"^[A-Za-z0-9\-]{1,32}$")
CENT = Decimal("0.01")


def parse_amount(text: str, *, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """A US-dollar amount as staff type it ("85", "85.00", "$1,250.50"); anything else refused."""
    return amounts.parse_amount(text, "The replacement cost", maximum=maximum)


def parse_threshold(text: str) -> Decimal:
    """The settlement threshold setting (checked when set; a bad stored value is named)."""
    try:
        return amounts.parse_amount(text, "The IFM settlement threshold", allow_zero=True)
    except InvalidInput as exc:
        raise InvalidInput(f"{exc.message} An administrator sets it in Admin settings.") from None


# The dummy request's fields, in the order of the ILL system's request form.
COPY_LABELS = (
    "Title",
    "Verification",
    "Lender string",
    "Use ILL Fee Management (IFM) for payment",
    "Max cost",
    "Currency",
)


@dataclass(frozen=True)
class IfmFields:
    """What goes into the dummy request, field by field, ready to copy."""

    direction: IfmDirection
    original_request_number: str
    partner_symbol: str
    title: str
    verification_note: str
    lender_string: str
    use_ifm: bool
    max_cost: Decimal
    currency: str

    def copy_rows(self) -> tuple[tuple[str, str], ...]:
        """(label, value) in the order of the ILL system's request form."""
        values = (
            self.title,
            self.verification_note,
            self.lender_string,
            "yes" if self.use_ifm else "no",
            f"{self.max_cost:.2f}",
            self.currency,
        )
        return tuple(zip(COPY_LABELS, values, strict=True))


def build_fields(
    direction: IfmDirection,
    *,
    title: str,
    original_request_number: str,
    our_symbol: str,
    partner_symbol: str,
    amount: Decimal,
) -> IfmFields:
    """The same form both ways; only who is the lender changes."""
    lender = our_symbol if direction is IfmDirection.WE_RECEIVE else partner_symbol
    return IfmFields(
        direction=direction,
        original_request_number=original_request_number,
        partner_symbol=partner_symbol,
        title=f"{title} (Replacement for request #{original_request_number})",
        verification_note=(
            "This request is for the replacement cost of a lost item "
            f"(original request #{original_request_number}); no material will be sent."
        ),
        lender_string=lender,
        use_ifm=True,
        max_cost=amount.quantize(CENT),
        currency=CURRENCY,
    )


@dataclass(frozen=True)
class IfmTransactionView:
    id: int
    request_number: str
    direction: IfmDirection
    partner_symbol: str
    amount: Decimal
    status: IfmStatus
    dummy_request_number: str | None
    fields: IfmFields
    created_at: datetime
    processed_at: datetime | None
    original_status: RequestStatus


def _lost_request(session: Session, number: str, *, lock: bool = False) -> IllRequest:
    req = request_numbers.find(session, number, lock=lock)
    if req.status is not RequestStatus.LOST:
        raise Conflict(
            f"Request {req.request_number} is {req.status.value}, not lost. IFM replacement "
            "is only for a lost item: the lending list marks it lost at the lost threshold, "
            "and the ILL office declares a borrowed item lost."
        )
    return req


def _fields_for(session: Session, req: IllRequest, amount: Decimal) -> IfmFields:
    ours = library_settings.load(session).library_oclc_symbol
    if req.direction is Direction.LENDING:
        direction = IfmDirection.WE_RECEIVE
        partner = req.borrower_symbol or ""
    else:
        direction = IfmDirection.WE_PAY
        partner = req.lender_symbol or ""
    if not partner:
        raise Conflict(
            f"Request {req.request_number} names no partner library, so there is nobody to "
            "settle with through IFM. Record the partner's OCLC symbol on the request first."
        )
    return build_fields(
        direction,
        title=req.title,
        original_request_number=_original_number(req),
        our_symbol=ours,
        partner_symbol=partner,
        amount=amount,
    )


def preview(rt: Runtime, actor: Actor, request_number: str, amount: str) -> IfmFields:
    """The fields to copy, without recording anything yet."""
    actor.require(Role.ILL_OFFICE, "Building IFM replacement fields")
    value = parse_amount(amount)
    with rt.db.reading() as session:
        value = library_settings.within_amount_maximum(session, value, "The replacement cost")
        return _fields_for(session, _lost_request(session, request_number), value)


def _original_number(req: IllRequest) -> str:
    """The number both libraries know the request by in the ILL system."""
    if req.direction is Direction.LENDING:
        return req.partner_request_number or req.request_number
    return req.request_number


def _view(session: Session, tx: IfmTransaction) -> IfmTransactionView:
    req = session.get_one(IllRequest, tx.request_id)
    fields = IfmFields(
        direction=tx.direction,
        original_request_number=_original_number(req),
        partner_symbol=tx.partner_symbol,
        title=tx.dummy_title,
        verification_note=tx.verification_note,
        lender_string=tx.lender_string,
        use_ifm=True,
        max_cost=tx.amount,
        currency=CURRENCY,
    )
    return IfmTransactionView(
        id=tx.id,
        request_number=req.request_number,
        direction=tx.direction,
        partner_symbol=tx.partner_symbol,
        amount=tx.amount,
        status=tx.status,
        dummy_request_number=tx.dummy_request_number,
        fields=fields,
        created_at=tx.created_at,
        processed_at=tx.processed_at,
        original_status=req.status,
    )


def record_transaction(
    rt: Runtime, actor: Actor, request_number: str, amount: str
) -> IfmTransactionView:
    """Record the dummy request as pending once its fields have been sent or entered."""
    actor.require(Role.ILL_OFFICE, "Recording an IFM transaction")
    value = parse_amount(amount)
    now = rt.clock.now()
    with rt.db.transaction() as session:
        value = library_settings.within_amount_maximum(session, value, "The replacement cost")
        req = _lost_request(session, request_number, lock=True)
        existing = session.scalar(select(IfmTransaction).where(IfmTransaction.request_id == req.id))
        if existing is not None:
            raise Conflict(
                f"Request {req.request_number} already has IFM transaction {existing.id} "
                f"({existing.status.value}, {existing.amount} {CURRENCY})."
            )
        fields = _fields_for(session, req, value)
        tx = IfmTransaction(
            request_id=req.id,
            direction=fields.direction,
            partner_symbol=fields.partner_symbol,
            amount=fields.max_cost,
            dummy_title=fields.title,
            verification_note=fields.verification_note,
            lender_string=fields.lender_string,
            status=IfmStatus.PENDING,
            created_at=now,
        )
        session.add(tx)
        session.flush()
        audit.record(
            session,
            actor,
            "ifm.record",
            at=now,
            entity="ifm_transaction",
            entity_id=tx.id,
            after={
                "request": req.request_number,
                "direction": fields.direction.value,
                "partner": fields.partner_symbol,
                "amount": str(fields.max_cost),
            },
        )
        return _view(session, tx)


def mark_processed(
    rt: Runtime, actor: Actor, transaction_id: int, dummy_request_number: str
) -> IfmTransactionView:
    """The dummy request went through: the money moved, so the original request closes."""
    actor.require(Role.ILL_OFFICE, "Marking an IFM transaction processed")
    dummy = dummy_request_number.strip()
    if not _DUMMY_NUMBER.match(dummy):
        raise InvalidInput(
            "Enter the dummy request's number from the ILL system (letters, digits or "
            "dashes, at most 32)."
        )
    now = rt.clock.now()
    with rt.db.transaction() as session:
        tx = session.get(IfmTransaction, transaction_id, with_for_update=True)
        if tx is None:
            raise NotFound(f"There is no IFM transaction {transaction_id}. `illdesk ifm list`.")
        if tx.status is IfmStatus.PROCESSED:
            raise Conflict(
                f"IFM transaction {tx.id} was already processed on {tx.processed_at} "
                f"(dummy request #{tx.dummy_request_number})."
            )
        req = session.get_one(IllRequest, tx.request_id)
        tx.status = IfmStatus.PROCESSED
        tx.dummy_request_number = dummy
        tx.processed_at = now
        before = req.status
        req.status = RequestStatus.CLOSED
        req.closed_at = now
        req.updated_at = now
        req.status_note = (
            f"Closed after IFM replacement request #{dummy} was processed ({tx.amount} {CURRENCY})."
        )
        audit.record(
            session,
            actor,
            "ifm.processed",
            at=now,
            entity="ifm_transaction",
            entity_id=tx.id,
            before={"request_status": before.value},
            after={"request_status": req.status.value, "dummy": dummy},
        )
        session.flush()
        return _view(session, tx)


def list_transactions(
    rt: Runtime, actor: Actor, *, status: IfmStatus | None = None, partner: str | None = None
) -> list[IfmTransactionView]:
    actor.require(Role.ILL_OFFICE, "Viewing IFM transactions")
    with rt.db.reading() as session:
        query = select(IfmTransaction)
        if status is not None:
            query = query.where(IfmTransaction.status == status)
        if partner:
            query = query.where(IfmTransaction.partner_symbol == partner.strip().upper())
        rows = session.scalars(query.order_by(IfmTransaction.created_at, IfmTransaction.id))
        return [_view(session, tx) for tx in rows]


@dataclass(frozen=True)
class LostRequest:
    """A lost request, either way, that IFM may settle."""

    request_number: str
    title: str
    direction: IfmDirection
    partner_symbol: str
    transaction_status: IfmStatus | None  # None: no IFM transaction recorded yet


def lost_requests(rt: Runtime, actor: Actor) -> list[LostRequest]:
    actor.require(Role.ILL_OFFICE, "Viewing lost requests for IFM")
    with rt.db.reading() as session:
        rows = session.scalars(
            select(IllRequest)
            .where(IllRequest.status == RequestStatus.LOST)
            .order_by(IllRequest.request_number)
        ).all()
        recorded = {
            tx.request_id: tx.status
            for tx in session.scalars(
                select(IfmTransaction).where(IfmTransaction.request_id.in_([r.id for r in rows]))
            )
        }
        return [
            LostRequest(
                request_number=r.request_number,
                title=r.title,
                direction=IfmDirection.WE_RECEIVE
                if r.direction is Direction.LENDING
                else IfmDirection.WE_PAY,
                partner_symbol=(
                    r.borrower_symbol if r.direction is Direction.LENDING else r.lender_symbol
                )
                or "",
                transaction_status=recorded.get(r.id),
            )
            for r in rows
        ]


@dataclass(frozen=True)
class PartnerBalance:
    """Positive: the partner owes us; negative: we owe the partner."""

    partner_symbol: str
    received: Decimal
    paid: Decimal
    balance: Decimal  # received - paid - settled
    pending: Decimal  # net of transactions not yet processed (not in the balance)
    settle: bool
    settled: Decimal = Decimal("0.00")  # net of settlements: positive, the partner paid us


@dataclass(frozen=True)
class IfmLedger:
    partners: tuple[PartnerBalance, ...]
    received: Decimal
    paid: Decimal
    balance: Decimal
    pending: Decimal
    threshold: Decimal
    settle: bool  # the total reached plus or minus the threshold: time to settle
    settled: Decimal = Decimal("0.00")


def partner_sums(session: Session) -> dict[str, dict[str, Decimal]]:
    """Per partner: processed received and paid, pending (signed) and settled (signed)."""
    zero = Decimal("0.00")
    sums: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"received": zero, "paid": zero, "pending": zero, "settled": zero}
    )
    for tx in session.scalars(select(IfmTransaction)):
        signed = tx.amount if tx.direction is IfmDirection.WE_RECEIVE else -tx.amount
        bucket = sums[tx.partner_symbol]
        if tx.status is IfmStatus.PENDING:
            bucket["pending"] += signed
        elif tx.direction is IfmDirection.WE_RECEIVE:
            bucket["received"] += tx.amount
        else:
            bucket["paid"] += tx.amount
    for row in session.scalars(select(IfmSettlement)):
        signed = row.amount if row.direction is IfmDirection.WE_RECEIVE else -row.amount
        sums[row.partner_symbol]["settled"] += signed
    return sums


def balance_of(sums: dict[str, Decimal]) -> Decimal:
    """What the partner owes us (negative: what we owe), once settlements are counted."""
    return sums["received"] - sums["paid"] - sums["settled"]


def ledger(rt: Runtime, actor: Actor) -> IfmLedger:
    """Processed transactions less settlements make the balance; pending ones show beside it."""
    actor.require(Role.ILL_OFFICE, "Viewing the IFM ledger")
    zero = Decimal("0.00")
    with rt.db.reading() as session:
        threshold = parse_threshold(library_settings.load(session).ifm_settlement_threshold)
        sums = partner_sums(session)
    partners = tuple(
        PartnerBalance(
            partner_symbol=symbol,
            received=s["received"],
            paid=s["paid"],
            balance=balance_of(s),
            pending=s["pending"],
            settle=threshold > 0 and abs(balance_of(s)) >= threshold,
            settled=s["settled"],
        )
        for symbol, s in sorted(sums.items())
    )
    received = sum((p.received for p in partners), zero)
    paid = sum((p.paid for p in partners), zero)
    settled = sum((p.settled for p in partners), zero)
    balance = received - paid - settled
    return IfmLedger(
        partners=partners,
        received=received,
        paid=paid,
        balance=balance,
        pending=sum((p.pending for p in partners), zero),
        threshold=threshold,
        settle=threshold > 0 and abs(balance) >= threshold,
        settled=settled,
    )
