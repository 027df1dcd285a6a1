"""Patron lookup and the patron's account as the desk sees it.

Staff find a patron by campus ID, patron barcode or the start of a name typed without
accents; the account then shows everything the desk needs to answer the patron at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.library import library_settings
from app.library.actors import Actor
from app.library.errors import InvalidInput, NotFound
from app.library.folding import fold
from app.library.library_settings import LibrarySettings
from app.library.runtime import Runtime
from app.records.patron_views import record_patron_view
from db.models import (
    Branch,
    Charge,
    Direction,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    InHouseUse,
    Item,
    ItemKind,
    Loan,
    Patron,
    PatronType,
    RequestStatus,
)

MAX_RESULTS = 25
MAX_QUERY_LENGTH = 100
CLOSED_REQUEST_STATUSES = (RequestStatus.CLOSED, RequestStatus.CANCELLED)


@dataclass(frozen=True)
class PatronSummary:
    patron_id: str
    barcode: str | None
    name: str
    patron_type: PatronType
    home_branch: str | None
    email: str
    is_ill_dummy: bool


def _summary(patron: Patron, codes: dict[int, str]) -> PatronSummary:
    return PatronSummary(
        patron_id=patron.patron_id,
        barcode=patron.barcode,
        name=patron.display_name,
        patron_type=patron.patron_type,
        home_branch=codes.get(patron.home_branch_id) if patron.home_branch_id else None,
        email=patron.email,
        is_ill_dummy=patron.is_ill_dummy,
    )


def _branch_codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Branch.id, Branch.code)).all())


def _clean_query(text: str) -> str:
    cleaned = "".join(ch for ch in text if ch.isprintable()).strip()
    if not cleaned:
        raise InvalidInput("Type a campus ID, scan a patron barcode, or type a name.")
    if len(cleaned) > MAX_QUERY_LENGTH:
        raise InvalidInput(
            f"That is {len(cleaned)} characters, longer than any ID or name. Clear the field "
            "and try again."
        )
    return cleaned


def patron_by_reference(session: Session, reference: str) -> Patron | None:
    """The one patron a campus ID, patron barcode, or the dummy account's name names."""
    cleaned = _clean_query(reference)
    patron = session.scalar(select(Patron).where(Patron.patron_id == cleaned.upper()))
    if patron is None:
        patron = session.scalar(select(Patron).where(Patron.barcode == cleaned))
    if patron is None:
        settings = library_settings.load(session)
        if fold(cleaned) == "ill" or cleaned == settings.ill_dummy_barcode:
            patron = session.scalar(
                select(Patron).where(Patron.is_ill_dummy).order_by(Patron.id).limit(1)
            )
    return patron


def require_patron(session: Session, reference: str) -> Patron:
    patron = patron_by_reference(session, reference)
    if patron is None:
        raise NotFound(
            f"No patron has the campus ID or barcode '{reference.strip()[:40]}'. Check the "
            "ID card, or search by name."
        )
    return patron


def find_patrons(rt: Runtime, actor: Actor, query: str) -> list[PatronSummary]:
    """Exact campus ID or barcode first; otherwise names starting with what was typed.

    'muller', 'Müller, Renée' and 'renee mul' all find Renée Müller: the stored key is
    "last first", folded, and the query is tried both ways round.
    """
    cleaned = _clean_query(query)
    with rt.db.reading() as session:
        codes = _branch_codes(session)
        exact = patron_by_reference(session, cleaned)
        if exact is not None:
            return [_summary(exact, codes)]
        words = fold(cleaned.replace(",", " ")).split()
        matches = [Patron.name_key.startswith(" ".join(words), autoescape=True)]
        if len(words) > 1:  # "first last...": the surname starts with the last word typed
            matches.append(
                and_(
                    Patron.name_key.startswith(words[-1], autoescape=True),
                    Patron.name_key.contains(" " + " ".join(words[:-1]), autoescape=True),
                )
            )
        rows = session.scalars(
            select(Patron)
            .where(or_(*matches))
            .order_by(Patron.name_key, Patron.patron_id)
            .limit(MAX_RESULTS)
        )
        # Sorted here too: PostgreSQL collations ignore punctuation, SQLite does not.
        return [_summary(p, codes) for p in sorted(rows, key=lambda p: (p.name_key, p.patron_id))]


class BlockKind(StrEnum):
    BURSAR_CHARGES = "bursar_charges"
    OVERDUE_ILL = "overdue_ill"


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    message: str
    stops_checkout: bool  # a library setting per block kind


@dataclass(frozen=True)
class HoldLine:
    barcode: str
    title: str
    request_number: str | None
    branch_code: str
    pickup_by: date


@dataclass(frozen=True)
class LoanLine:
    barcode: str
    title: str
    request_number: str | None
    due_date: date
    strap_due_date: date | None
    adjustment_reason: str | None
    branch_code: str
    checked_out_at: datetime
    is_ill: bool
    overdue: bool


@dataclass(frozen=True)
class RequestLine:
    request_number: str
    title: str
    kind: str
    status: RequestStatus
    pickup_branch: str | None


@dataclass(frozen=True)
class ChargeLine:
    kind: str
    amount: Decimal
    estimated: bool
    reason: str
    created_at: datetime
    reported_at: datetime | None
    transcript_hold: bool

    @property
    def bursar_note(self) -> str:
        if self.reported_at is None:
            return "Not reported to the bursar"
        note = f"Reported to the bursar on {self.reported_at.date().isoformat()}"
        return note + " (transcript hold)" if self.transcript_hold else note


@dataclass(frozen=True)
class InHouseLine:
    barcode: str
    title: str
    branch_code: str
    pickup_by: date | None
    in_use_since: datetime | None  # the patron has it in hand right now
    uses: int


@dataclass(frozen=True)
class PatronView:
    patron_id: str
    barcode: str | None
    name: str
    email: str
    patron_type: PatronType
    home_branch: str | None
    is_ill_dummy: bool
    waiting: tuple[HoldLine, ...]
    checkouts: tuple[LoanLine, ...]
    requests: tuple[RequestLine, ...]
    charges: tuple[ChargeLine, ...]
    in_house: tuple[InHouseLine, ...]
    blocks: tuple[Block, ...]

    @property
    def checkout_blocked(self) -> bool:
        return any(b.stops_checkout for b in self.blocks)


def patron_view(rt: Runtime, actor: Actor, reference: str) -> PatronView:
    """The whole account of the patron a campus ID or barcode names; the look is audited."""
    with rt.db.transaction() as session:
        patron = require_patron(session, reference)
        view = build_view(session, patron, rt.clock.today(), library_settings.load(session))
        record_patron_view(session, actor, patron.id, rt.clock.now(), detail="patron account")
        return view


def patron_blocks(
    session: Session, patron: Patron, today: date, settings: LibrarySettings
) -> tuple[Block, ...]:
    """What stands against the patron; whether each stops a checkout is a library setting."""
    blocks: list[Block] = []
    reported = session.scalars(
        select(Charge).where(
            Charge.patron_id == patron.id,
            Charge.removed_at.is_(None),
            Charge.reported_at.is_not(None),
        )
    ).all()
    if reported:
        total = sum((c.amount for c in reported), Decimal(0))
        first = min(c.reported_at for c in reported if c.reported_at is not None)
        text = f"Charges of ${total:.2f} were reported to the bursar on {first.date().isoformat()}"
        if any(c.transcript_hold for c in reported):
            text += " and a transcript hold may be in place"
        blocks.append(
            Block(
                BlockKind.BURSAR_CHARGES,
                text + ". Only the ILL office removes them.",
                settings.block_checkout_on_bursar_charges,
            )
        )
    overdue = session.execute(
        select(func.count(), func.min(Loan.due_date))
        .join(Item, Item.id == Loan.item_id)
        .where(
            Loan.patron_id == patron.id,
            Loan.returned_at.is_(None),
            Loan.due_date < today,
            Item.kind == ItemKind.TEMPORARY,
        )
    ).one()
    count, oldest = overdue
    if count:
        items = "item is" if count == 1 else "items are"
        blocks.append(
            Block(
                BlockKind.OVERDUE_ILL,
                f"{count} ILL {items} overdue (the oldest was due {oldest.isoformat()}).",
                settings.block_checkout_on_overdue_ill,
            )
        )
    return tuple(blocks)


def build_view(
    session: Session, patron: Patron, today: date, settings: LibrarySettings
) -> PatronView:
    codes = _branch_codes(session)
    numbers = dict(
        session.execute(
            select(Item.id, IllRequest.request_number)
            .join(IllRequest, IllRequest.id == Item.request_id)
            .where(
                or_(
                    Item.id.in_(select(Loan.item_id).where(Loan.patron_id == patron.id)),
                    Item.id.in_(
                        select(HoldShelfEntry.item_id).where(HoldShelfEntry.patron_id == patron.id)
                    ),
                )
            )
        ).all()
    )
    holds = session.execute(
        select(HoldShelfEntry, Item)
        .join(Item, Item.id == HoldShelfEntry.item_id)
        .where(HoldShelfEntry.patron_id == patron.id, HoldShelfEntry.status == HoldStatus.ACTIVE)
        .order_by(HoldShelfEntry.pickup_by, Item.title)
    ).all()
    waiting: list[HoldLine] = []
    in_house: dict[int, InHouseLine] = {}
    open_uses = {
        use.item_id: use
        for use in session.scalars(
            select(InHouseUse).where(
                InHouseUse.patron_id == patron.id, InHouseUse.ended_at.is_(None)
            )
        )
    }
    use_counts = dict(
        session.execute(
            select(InHouseUse.item_id, func.count())
            .where(InHouseUse.patron_id == patron.id)
            .group_by(InHouseUse.item_id)
        ).all()
    )
    for entry, item in holds:
        if item.in_library_use_only:
            use = open_uses.get(item.id)
            in_house[item.id] = InHouseLine(
                item.barcode,
                item.title,
                codes[entry.branch_id],
                entry.pickup_by,
                use.started_at if use else None,
                use_counts.get(item.id, 0),
            )
        else:
            waiting.append(
                HoldLine(
                    item.barcode,
                    item.title,
                    numbers.get(item.id),
                    codes[entry.branch_id],
                    entry.pickup_by,
                )
            )
    for item_id, use in open_uses.items():
        if item_id not in in_house:
            used = session.get(Item, item_id)
            if used is not None:
                in_house[item_id] = InHouseLine(
                    used.barcode,
                    used.title,
                    codes[use.branch_id],
                    None,
                    use.started_at,
                    use_counts.get(item_id, 0),
                )
    loans = session.execute(
        select(Loan, Item)
        .join(Item, Item.id == Loan.item_id)
        .where(Loan.patron_id == patron.id, Loan.returned_at.is_(None))
        .order_by(Loan.due_date, Item.title)
    ).all()
    checkouts = tuple(
        LoanLine(
            barcode=item.barcode,
            title=item.title,
            request_number=numbers.get(item.id),
            due_date=loan.due_date,
            strap_due_date=loan.strap_due_date,
            adjustment_reason=loan.adjustment_reason,
            branch_code=codes[loan.branch_id],
            checked_out_at=loan.checked_out_at,
            is_ill=item.kind is ItemKind.TEMPORARY,
            overdue=loan.due_date < today,
        )
        for loan, item in loans
    )
    requests = tuple(
        RequestLine(
            request_number=r.request_number,
            title=r.title,
            kind=r.kind.value,
            status=r.status,
            pickup_branch=codes.get(r.pickup_branch_id) if r.pickup_branch_id else None,
        )
        for r in session.scalars(
            select(IllRequest)
            .where(
                IllRequest.patron_id == patron.id,
                IllRequest.direction == Direction.BORROWING,
                IllRequest.status.not_in(CLOSED_REQUEST_STATUSES),
            )
            .order_by(IllRequest.created_at, IllRequest.request_number)
        )
    )
    charges = tuple(
        ChargeLine(
            kind=c.kind.value,
            amount=c.amount,
            estimated=c.estimated,
            reason=c.reason,
            created_at=c.created_at,
            reported_at=c.reported_at,
            transcript_hold=c.transcript_hold,
        )
        for c in session.scalars(
            select(Charge)
            .where(Charge.patron_id == patron.id, Charge.removed_at.is_(None))
            .order_by(Charge.created_at, Charge.id)
        )
    )
    return PatronView(
        patron_id=patron.patron_id,
        barcode=patron.barcode,
        name=patron.display_name,
        email=patron.email,
        patron_type=patron.patron_type,
        home_branch=codes.get(patron.home_branch_id) if patron.home_branch_id else None,
        is_ill_dummy=patron.is_ill_dummy,
        waiting=tuple(waiting),
        checkouts=checkouts,
        requests=requests,
        charges=charges,
        in_house=tuple(in_house.values()),
        blocks=patron_blocks(session, patron, today, settings),
    )
