"""Settling the IFM balance with a partner library by cheque or invoice.

IFM moves replacement costs one request at a time; the balance that builds up with each
partner is settled now and then outside IFM (in the example group, once it reaches plus or
minus $100). The ILL office records the cheque or invoice here so the ledger shows it and
the balance moves.

What an ILL librarian expects, and what this does:

- the direction follows the balance: when the partner owes us, the settlement is their
  cheque to us; when we owe them, it is ours to them;
- a settlement may be smaller than the balance (a partial payment), never larger: a cheque
  for more than is owed is almost always a typo or a transaction not yet marked
  processed, so it is refused with the balance named, and nothing is recorded;
- a settlement may be recorded below the threshold (a partner may settle at year end);
- the date is the cheque's or invoice's date: not in the future, at most a year back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.lending import ifm
from app.library import amounts, library_settings
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.runtime import Runtime
from app.records import audit
from db.models import IfmDirection, IfmSettlement, IfmTransaction, Role, Staff

REFERENCE_MAX = 100  # what the column holds
OLDEST_DAYS = 366
_SYMBOL = re.compile(r"^[A-Z0-9]{2,8}$")


@dataclass(frozen=True)
class SettlementView:
    id: int
    partner_symbol: str
    direction: IfmDirection  # we_receive: the partner paid us; we_pay: we paid the partner
    amount: Decimal
    reference: str
    settled_on: date
    balance_before: Decimal
    balance_after: Decimal
    created_at: datetime
    created_by: str


def parse_symbol(text: str) -> str:
    """A partner's OCLC symbol as typed ("uiu " is UIU)."""
    symbol = text.strip().upper()
    if not _SYMBOL.match(symbol):
        raise InvalidInput(
            f"{text[:20]!r} is not an OCLC symbol: type the partner library's symbol, "
            "letters and digits, e.g. UIU."
        )
    return symbol


def parse_reference(text: str) -> str:
    """The cheque or invoice number, as it will be looked up later."""
    reference = text.strip()
    if not reference:
        raise InvalidInput("Enter the cheque or invoice number (the settlement's reference).")
    if len(reference) > REFERENCE_MAX:
        raise InvalidInput(
            f"The reference is {len(reference):,} characters long; at most {REFERENCE_MAX} "
            "fit (the cheque or invoice number, e.g. CHQ 004512)."
        )
    if not reference.isprintable():
        raise InvalidInput(
            "The reference holds control characters (tabs, line breaks): type the cheque "
            "or invoice number on one line."
        )
    return reference


def parse_settled_on(text: str | date | None, today: date) -> date:
    """The cheque's or invoice's date: today unless given, never ahead, at most a year back."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return today
    if isinstance(text, date):
        day = text
    else:
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            raise InvalidInput(
                f"The date {text[:20]!r} is not a date; write it as YYYY-MM-DD."
            ) from None
    if day > today:
        raise InvalidInput(
            f"The date {day.isoformat()} is in the future: record the settlement once the "
            "cheque or invoice exists, with its date."
        )
    if day < today - timedelta(days=OLDEST_DAYS):
        raise InvalidInput(
            f"The date {day.isoformat()} is more than a year ago; check it (the date on the "
            "cheque or invoice)."
        )
    return day


def _view(session: Session, row: IfmSettlement) -> SettlementView:
    signed = row.amount if row.direction is IfmDirection.WE_RECEIVE else -row.amount
    who = session.get(Staff, row.created_by_id) if row.created_by_id else None
    return SettlementView(
        id=row.id,
        partner_symbol=row.partner_symbol,
        direction=row.direction,
        amount=row.amount,
        reference=row.reference,
        settled_on=row.settled_on,
        balance_before=row.balance_before,
        balance_after=row.balance_before - signed,
        created_at=row.created_at,
        created_by=who.username if who is not None else "",
    )


def settle(
    rt: Runtime,
    actor: Actor,
    partner: str,
    amount: str,
    reference: str,
    settled_on: str | date | None = None,
) -> SettlementView:
    """Record a cheque or invoice against one partner's IFM balance; the balance moves."""
    actor.require(Role.ILL_OFFICE, "Recording an IFM settlement")
    symbol = parse_symbol(partner)
    value = amounts.parse_amount(amount, "The settlement amount")
    ref = parse_reference(reference)
    day = parse_settled_on(settled_on, rt.clock.today())
    now = rt.clock.now()
    with rt.db.transaction() as session:
        value = library_settings.within_amount_maximum(session, value, "The settlement amount")
        # Two settlements at once must not both fit the same balance: take turns.
        session.scalars(
            select(IfmTransaction.id)
            .where(IfmTransaction.partner_symbol == symbol)
            .with_for_update()
        ).all()
        sums = ifm.partner_sums(session)
        if symbol not in sums:
            raise NotFound(
                f"There is no IFM balance with {symbol}: no transaction with that library "
                "has been recorded. `illdesk ifm balance` lists the partners."
            )
        balance = ifm.balance_of(sums[symbol])
        if balance == 0:
            raise Conflict(
                f"The IFM balance with {symbol} is 0.00 USD: there is nothing to settle. "
                "A transaction not yet marked processed does not count until it is."
            )
        owed = abs(balance)
        who_pays = f"{symbol} owes us" if balance > 0 else f"we owe {symbol}"
        if value > owed:
            raise Conflict(
                f"A settlement of {value:.2f} USD is more than the balance: {who_pays} "
                f"{owed:.2f} USD. Record at most {owed:.2f}; if the cheque or invoice really "
                "is for more, mark the IFM transactions it covers processed first."
            )
        direction = IfmDirection.WE_RECEIVE if balance > 0 else IfmDirection.WE_PAY
        row = IfmSettlement(
            partner_symbol=symbol,
            direction=direction,
            amount=value,
            reference=ref,
            settled_on=day,
            balance_before=balance,
            created_at=now,
            created_by_id=actor.staff_id or None,
        )
        session.add(row)
        session.flush()
        view = _view(session, row)
        audit.record(
            session,
            actor,
            "ifm.settle",
            at=now,
            entity="ifm_settlement",
            entity_id=row.id,
            before={"partner": symbol, "balance": str(balance)},
            after={
                "partner": symbol,
                "direction": direction.value,
                "amount": str(value),
                "reference": ref,
                "settled_on": day.isoformat(),
                "balance": str(view.balance_after),
            },
        )
        return view


def list_settlements(
    rt: Runtime, actor: Actor, *, partner: str | None = None
) -> list[SettlementView]:
    """Every settlement recorded, oldest first (one partner's with `partner`)."""
    actor.require(Role.ILL_OFFICE, "Viewing IFM settlements")
    with rt.db.reading() as session:
        query = select(IfmSettlement)
        if partner:
            query = query.where(IfmSettlement.partner_symbol == parse_symbol(partner))
        rows = session.scalars(query.order_by(IfmSettlement.settled_on, IfmSettlement.id))
        return [_view(session, row) for row in rows]
