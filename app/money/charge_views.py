"""Reading the charges on patrons' accounts: what staff see, listed or one at a time.

Changing charges (declaring an item lost, reducing, removing, recording the lender's
bill) lives in `app.money.charges`; both show the result through `ChargeView`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from app.library import amounts
from app.library.actors import Actor
from app.library.errors import NotFound
from app.library.runtime import Runtime
from app.people.patron_ids import parse_patron_id
from app.records.patron_views import record_patron_view
from db.models import Charge, ChargeKind, IllRequest, Item, Patron


@dataclass(frozen=True)
class ChargeView:
    """One charge as staff see it on the patron's account."""

    id: int
    patron_id: str  # campus ID
    patron_name: str
    kind: ChargeKind
    amount: Decimal
    estimated: bool
    is_ill: bool
    reason: str
    created_at: datetime
    item_barcode: str
    title: str
    request_number: str
    reported_at: datetime | None
    transcript_hold: bool
    removed_at: datetime | None
    removed_reason: str

    @property
    def is_open(self) -> bool:
        return self.removed_at is None

    @property
    def note(self) -> str:
        """What the account shows beside the amount: estimate, reported date, removal."""
        parts: list[str] = []
        if self.removed_at is not None:
            parts.append(f"Removed on {self.removed_at:%Y-%m-%d}: {self.removed_reason}")
        if self.estimated:
            parts.append("Estimated until the lending library's bill arrives")
        if self.reported_at is not None:
            hold = "; transcript hold placed" if self.transcript_hold else ""
            parts.append(f"Reported to the bursar on {self.reported_at:%Y-%m-%d}{hold}")
        return ". ".join(parts)


def view_query() -> Select[Charge, Patron, Item, IllRequest]:
    """Charges with their patron, item and request, oldest first; callers add filters."""
    return (
        select(Charge, Patron, Item, IllRequest)
        .join(Patron, Patron.id == Charge.patron_id)
        .outerjoin(Item, Item.id == Charge.item_id)
        .outerjoin(IllRequest, IllRequest.id == Charge.request_id)
        .order_by(Charge.created_at, Charge.id)
    )


def _view(charge: Charge, patron: Patron, item: Item | None, req: IllRequest | None) -> ChargeView:
    return ChargeView(
        id=charge.id,
        patron_id=patron.patron_id,
        patron_name=patron.display_name,
        kind=charge.kind,
        amount=Decimal(charge.amount).quantize(amounts.CENT),
        estimated=charge.estimated,
        is_ill=charge.is_ill,
        reason=charge.reason,
        created_at=charge.created_at,
        item_barcode=item.barcode if item else "",
        title=item.title if item else (req.title if req else ""),
        request_number=req.request_number if req else "",
        reported_at=charge.reported_at,
        transcript_hold=charge.transcript_hold,
        removed_at=charge.removed_at,
        removed_reason=charge.removed_reason or "",
    )


def row_view(row: Row[Charge, Patron, Item, IllRequest]) -> ChargeView:
    """One row of `view_query` as staff see it."""
    charge, patron, item, req = row
    return _view(charge, patron, item, req)


def view_of(session: Session, charge_id: int) -> ChargeView:
    row = session.execute(view_query().where(Charge.id == charge_id)).one_or_none()
    if row is None:
        raise NotFound(f"There is no charge number {charge_id}. `illdesk charges list` shows them.")
    return row_view(row)


def list_charges(
    rt: Runtime,
    actor: Actor,
    *,
    patron_id: str | None = None,
    include_removed: bool = False,
) -> tuple[ChargeView, ...]:
    """Charges, oldest first; for one patron (campus ID) when given.

    Listing one patron's charges is a look at that patron's account: the audit trail
    records it.
    """
    if patron_id is None:
        with rt.db.reading() as session:
            return charges_in(session, patron_id=patron_id, include_removed=include_removed)
    with rt.db.transaction() as session:
        found = charges_in(session, patron_id=patron_id, include_removed=include_removed)
        campus_id = parse_patron_id(patron_id)
        patron = session.scalar(select(Patron).where(Patron.patron_id == campus_id))
        if patron is not None:
            record_patron_view(session, actor, patron.id, rt.clock.now(), detail="charges")
        return found


def charges_in(
    session: Session, *, patron_id: str | None = None, include_removed: bool = False
) -> tuple[ChargeView, ...]:
    query = view_query()
    if patron_id is not None:
        query = query.where(Patron.patron_id == parse_patron_id(patron_id))
    if not include_removed:
        query = query.where(Charge.removed_at.is_(None))
    return tuple(row_view(row) for row in session.execute(query))
