"""The partner directory: each partner library's name and ILL office e-mail, by OCLC symbol.

Lender-side messages (overdue, lost) and IFM notes go to the partner library. With its
address here they can be e-mailed from ILL Desk, a copy kept in the outbox like patron
notices; without it they are still copied into the ILL system by hand. The ILL office and
administrators keep the directory; every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.lending.ifm_settlement import parse_symbol
from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.runtime import Runtime
from app.people.patron_ids import parse_email
from app.records import audit
from db.models import PartnerLibrary, Role, Staff

NAME_MAX = 200


@dataclass(frozen=True)
class PartnerView:
    symbol: str
    name: str
    email: str
    updated_at: datetime
    updated_by: str


def _view(session: Session, row: PartnerLibrary) -> PartnerView:
    who = session.get(Staff, row.updated_by_id) if row.updated_by_id else None
    return PartnerView(
        symbol=row.symbol,
        name=row.name,
        email=row.email,
        updated_at=row.updated_at,
        updated_by=who.username if who is not None else "",
    )


def parse_name(text: str) -> str:
    name = " ".join(text.split())
    if len(name) > NAME_MAX:
        raise InvalidInput(
            f"The library's name is {len(name):,} characters long; at most {NAME_MAX} fit."
        )
    if not name.isprintable():
        raise InvalidInput("The library's name holds control characters: type it on one line.")
    return name


def email_for(session: Session, symbol: str | None) -> str:
    """The partner's ILL office address, or "" when the directory has none."""
    if not symbol:
        return ""
    row = session.scalar(
        select(PartnerLibrary).where(PartnerLibrary.symbol == symbol.strip().upper())
    )
    return row.email if row is not None else ""


def list_partners(rt: Runtime, actor: Actor) -> list[PartnerView]:
    """Every partner in the directory, by symbol."""
    actor.require(Role.ILL_OFFICE, "Viewing the partner directory")
    with rt.db.reading() as session:
        rows = session.scalars(select(PartnerLibrary).order_by(PartnerLibrary.symbol))
        return [_view(session, row) for row in rows]


def set_partner(
    rt: Runtime,
    actor: Actor,
    symbol: str,
    *,
    email: str | None = None,
    name: str | None = None,
) -> PartnerView:
    """Add a partner or change its e-mail or name (what is not given stays; "" clears it)."""
    actor.require(Role.ILL_OFFICE, "Changing the partner directory")
    code = parse_symbol(symbol)
    if email is None and name is None:
        raise InvalidInput(f"Give {code}'s e-mail address or name, or both.")
    address = None if email is None else (parse_email(email) if email.strip() else "")
    title = None if name is None else parse_name(name)
    now = rt.clock.now()
    with rt.db.transaction() as session:
        row = session.scalar(
            select(PartnerLibrary).where(PartnerLibrary.symbol == code).with_for_update()
        )
        before = None if row is None else {"name": row.name, "email": row.email}
        if row is None:
            row = PartnerLibrary(symbol=code, name="", email="")
            session.add(row)
        if address is not None:
            row.email = address
        if title is not None:
            row.name = title
        row.updated_at = now
        row.updated_by_id = actor.staff_id or None
        session.flush()
        audit.record(
            session,
            actor,
            "partner.set",
            at=now,
            entity="partner_library",
            entity_id=row.id,
            before=before,
            after={"symbol": code, "name": row.name, "email": row.email},
        )
        return _view(session, row)
