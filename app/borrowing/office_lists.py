"""The lists the ILL office works from, and the two logs it reviews.

Received today; in transit (with age, flagged when older than the library's
`transit_overdue_days`: probably lost in inter-campus mail); hold shelves by branch;
overdue ILL loans; the due-date discrepancy log (review and close); the not-found scans.

Each list takes `limit`: its first rows only, in the same order. A window asks for the
first screenful, shows it, then asks for the whole list: a person reads the top of a
5,000-row list before the rest has been read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.library import library_settings
from app.library.actors import Actor
from app.library.clock import Clock
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.runtime import Runtime
from app.people.patron_names import patron_label
from app.records import audit
from db.models import (
    Branch,
    DueDateDiscrepancy,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    Item,
    ItemKind,
    Loan,
    NotFoundScan,
    Patron,
    Role,
    Staff,
    Transit,
)

MAX_REVIEW_NOTE = 1000


def day_bounds(clock: Clock, day: date | None = None) -> tuple[datetime, datetime]:
    """Start and end of a local calendar day (today by default) as aware datetimes."""
    day = day or clock.today()
    start = datetime.combine(day, time.min).astimezone()
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class ReceivedRow:
    strap_barcode: str
    request_number: str
    title: str
    patron: str
    destination: str
    received_at: datetime
    in_library_use_only: bool
    patron_id: str = ""  # the campus ID ("" when anonymised): a printed list audits it
    pieces: int = 1  # physical pieces under the strap: every one goes with it


@dataclass(frozen=True)
class TransitRow:
    barcode: str
    title: str
    from_branch: str
    to_branch: str
    reason: str
    started_at: datetime
    age_days: int
    overdue: bool  # older than transit_overdue_days: probably lost in inter-campus mail
    pieces: int = 1  # physical pieces in the mail under one strap


@dataclass(frozen=True)
class HoldShelfRow:
    branch: str
    barcode: str
    title: str
    patron: str
    pickup_by: date
    expired: bool
    in_library_use_only: bool
    patron_id: str = ""  # the campus ID ("" when anonymised): a printed list audits it
    pieces: int = 1  # physical pieces under the strap: the patron gets every one


@dataclass(frozen=True)
class OverdueLoanRow:
    barcode: str
    request_number: str
    title: str
    patron: str
    patron_id: str
    due_date: date
    days_overdue: int
    lender: str


@dataclass(frozen=True)
class DiscrepancyRow:
    id: int
    at: datetime
    patron_id: str
    request_number: str
    system_date: date  # what the ILL office recorded at receipt: the date the system gave
    strap_date: date  # what staff read on the strap at checkout: it won
    staff: str
    branch: str
    closed: bool
    review_note: str
    due_date: date | None = None  # the strap date moved off a closed day (None: not recorded)
    adjustment_reason: str = ""  # why it moved; empty when the strap date stood

    @property
    def story(self) -> str:
        """Why the loan's due date is not the system's date, in one line for the librarian."""
        text = (
            f"System {self.system_date.isoformat()}, strap {self.strap_date.isoformat()}: "
            "the strap won"
        )
        if self.due_date is None:
            return f"{text}."
        if self.due_date == self.strap_date:
            return f"{text}; due {self.due_date.isoformat()}, the strap date."
        why = self.adjustment_reason or "the strap date is a closed day"
        return f"{text}; due {self.due_date.isoformat()}, moved: {why}."


@dataclass(frozen=True)
class NotFoundRow:
    id: int
    at: datetime
    barcode: str
    branch: str
    staff: str
    reviewed: bool
    review_note: str


def _label(first: str | None, last: str | None, campus_id: str | None, display: str) -> str:
    if campus_id is None:
        return ""
    return patron_label(first or "", last or "", campus_id, display)


# The lists select plain columns (Core rows, never ORM objects): a list of thousands of rows
# is then a few milliseconds of Python over what the database itself takes.


def received_on(
    rt: Runtime, actor: Actor, day: date | None = None, *, limit: int | None = None
) -> list[ReceivedRow]:
    actor.require(Role.ILL_OFFICE, "The received list")
    start, end = day_bounds(rt.clock, day)
    with rt.db.reading() as session:
        display = library_settings.load(session).patron_display
        pickup = aliased(Branch)
        rows = session.execute(
            select(
                Item.barcode,
                IllRequest.request_number,
                Item.title,
                Patron.first_name,
                Patron.last_name,
                Patron.patron_id,
                pickup.code,
                Item.received_at,
                Item.in_library_use_only,
                Item.pieces,
            )
            .join(IllRequest, IllRequest.id == Item.request_id)
            .outerjoin(Patron, Patron.id == IllRequest.patron_id)
            .outerjoin(pickup, pickup.id == IllRequest.pickup_branch_id)
            .where(
                Item.received_at >= start, Item.received_at < end, Item.kind == ItemKind.TEMPORARY
            )
            .order_by(Item.received_at, Item.id)
            .limit(limit)
        ).all()
        return [
            ReceivedRow(
                strap_barcode=barcode,
                request_number=number,
                title=title,
                patron=_label(first, last, campus_id, display),
                destination=code or "",
                received_at=received_at,
                in_library_use_only=library_use,
                patron_id=campus_id or "",
                pieces=pieces,
            )
            for (
                barcode,
                number,
                title,
                first,
                last,
                campus_id,
                code,
                received_at,
                library_use,
                pieces,
            ) in rows
            if received_at is not None
        ]


def in_transit(rt: Runtime, actor: Actor, *, limit: int | None = None) -> list[TransitRow]:
    """Open transits, oldest first."""
    actor.require(Role.ILL_OFFICE, "The in-transit list")
    now = rt.clock.now()
    with rt.db.reading() as session:
        days_allowed = library_settings.load(session).transit_overdue_days
        source, target = aliased(Branch), aliased(Branch)
        rows = session.execute(
            select(
                Item.barcode,
                Item.title,
                source.code,
                target.code,
                Transit.reason,
                Transit.started_at,
                Item.pieces,
            )
            .join(Item, Item.id == Transit.item_id)
            .join(source, source.id == Transit.from_branch_id)
            .join(target, target.id == Transit.to_branch_id)
            .where(Transit.received_at.is_(None))
            .order_by(Transit.started_at, Transit.id)
            .limit(limit)
        ).all()
        result = []
        for barcode, title, from_code, to_code, reason, started_at, pieces in rows:
            age = (now - started_at).days
            result.append(
                TransitRow(
                    barcode=barcode,
                    title=title,
                    from_branch=from_code,
                    to_branch=to_code,
                    reason=reason.value,
                    started_at=started_at,
                    age_days=age,
                    overdue=age > days_allowed,
                    pieces=pieces,
                )
            )
        return result


def hold_shelves(
    rt: Runtime, actor: Actor, branch_code: str = "", *, limit: int | None = None
) -> list[HoldShelfRow]:
    """Active hold-shelf entries by branch, then pickup-by date."""
    actor.require(Role.ILL_OFFICE, "The hold-shelf list")
    today = rt.clock.today()
    with rt.db.reading() as session:
        display = library_settings.load(session).patron_display
        query = (
            select(
                Branch.code,
                Item.barcode,
                Item.title,
                Patron.first_name,
                Patron.last_name,
                Patron.patron_id,
                HoldShelfEntry.pickup_by,
                Item.in_library_use_only,
                Item.pieces,
            )
            .join(Item, Item.id == HoldShelfEntry.item_id)
            .join(Branch, Branch.id == HoldShelfEntry.branch_id)
            .outerjoin(Patron, Patron.id == HoldShelfEntry.patron_id)
            .where(HoldShelfEntry.status == HoldStatus.ACTIVE)
            .order_by(Branch.code, HoldShelfEntry.pickup_by, Item.barcode)
            .limit(limit)
        )
        if branch_code.strip():
            query = query.where(Branch.code == branch_code.strip().upper())
        return [
            HoldShelfRow(
                branch=code,
                barcode=barcode,
                title=title,
                patron=_label(first, last, campus_id, display),
                pickup_by=pickup_by,
                expired=pickup_by < today,
                in_library_use_only=library_use,
                patron_id=campus_id or "",
                pieces=pieces,
            )
            for (
                code,
                barcode,
                title,
                first,
                last,
                campus_id,
                pickup_by,
                library_use,
                pieces,
            ) in session.execute(query).all()
        ]


def overdue_ill_loans(
    rt: Runtime, actor: Actor, *, limit: int | None = None
) -> list[OverdueLoanRow]:
    """Open loans of borrowed items past their due date, most overdue first."""
    actor.require(Role.ILL_OFFICE, "The overdue list")
    today = rt.clock.today()
    with rt.db.reading() as session:
        display = library_settings.load(session).patron_display
        rows = session.execute(
            select(
                Item.barcode,
                IllRequest.request_number,
                Item.title,
                Patron.first_name,
                Patron.last_name,
                Patron.patron_id,
                Loan.due_date,
                IllRequest.lender_symbol,
            )
            .join(Item, Item.id == Loan.item_id)
            .join(IllRequest, IllRequest.id == Item.request_id)
            .outerjoin(Patron, Patron.id == Loan.patron_id)
            .where(
                Loan.returned_at.is_(None),
                Loan.due_date < today,
                Item.kind == ItemKind.TEMPORARY,
            )
            .order_by(Loan.due_date, Item.barcode)
            .limit(limit)
        ).all()
        return [
            OverdueLoanRow(
                barcode=barcode,
                request_number=number,
                title=title,
                patron=_label(first, last, campus_id, display),
                patron_id=campus_id or "",
                due_date=due,
                days_overdue=(today - due).days,
                lender=lender or "",
            )
            for barcode, number, title, first, last, campus_id, due, lender in rows
        ]


def discrepancies(
    rt: Runtime, actor: Actor, *, include_closed: bool = False, limit: int | None = None
) -> list[DiscrepancyRow]:
    actor.require(Role.ILL_OFFICE, "The due-date discrepancy log")
    with rt.db.reading() as session:
        query = (
            select(
                DueDateDiscrepancy.id,
                DueDateDiscrepancy.at,
                DueDateDiscrepancy.patron_campus_id,
                DueDateDiscrepancy.request_number,
                DueDateDiscrepancy.system_date,
                DueDateDiscrepancy.strap_date,
                DueDateDiscrepancy.due_date,
                DueDateDiscrepancy.adjustment_reason,
                Staff.username,
                Branch.code,
                DueDateDiscrepancy.closed_at,
                DueDateDiscrepancy.review_note,
            )
            .join(Branch, Branch.id == DueDateDiscrepancy.branch_id)
            .outerjoin(Staff, Staff.id == DueDateDiscrepancy.staff_id)
            .order_by(DueDateDiscrepancy.at.desc(), DueDateDiscrepancy.id.desc())
            .limit(limit)
        )
        if not include_closed:
            query = query.where(DueDateDiscrepancy.closed_at.is_(None))
        return [
            DiscrepancyRow(
                id=row.id,
                at=row.at,
                patron_id=row.patron_campus_id,
                request_number=row.request_number,
                system_date=row.system_date,
                strap_date=row.strap_date,
                staff=row.username or "",
                branch=row.code,
                closed=row.closed_at is not None,
                review_note=row.review_note,
                due_date=row.due_date,
                adjustment_reason=row.adjustment_reason or "",
            )
            for row in session.execute(query).all()
        ]


def _note(text: str) -> str:
    note = text.strip()
    if len(note) > MAX_REVIEW_NOTE:
        raise InvalidInput(f"The note is {len(note)} characters; keep it under {MAX_REVIEW_NOTE}.")
    return note


def close_discrepancy(rt: Runtime, actor: Actor, entry_id: int, note: str = "") -> DiscrepancyRow:
    """Mark a due-date discrepancy reviewed and closed, with an optional note."""
    actor.require(Role.ILL_OFFICE, "Closing a due-date discrepancy")
    review_note = _note(note)
    now = rt.clock.now()
    with rt.db.transaction() as session:
        row = session.get(DueDateDiscrepancy, entry_id)
        if row is None:
            raise NotFound(f"There is no due-date discrepancy number {entry_id}.")
        if row.closed_at is not None:
            raise Conflict(f"Discrepancy {entry_id} is already closed.")
        row.closed_at = now
        row.closed_by_id = actor.staff_id or None
        row.review_note = review_note
        audit.record(
            session,
            actor,
            "discrepancy.close",
            at=now,
            entity="due_date_discrepancy",
            entity_id=row.id,
            patron_id=row.patron_id,
            after={"review_note": review_note},
        )
        staff = session.get(Staff, row.staff_id) if row.staff_id else None
        branch = session.get(Branch, row.branch_id)
        return DiscrepancyRow(
            id=row.id,
            at=row.at,
            patron_id=row.patron_campus_id,
            request_number=row.request_number,
            system_date=row.system_date,
            strap_date=row.strap_date,
            staff=staff.username if staff else "",
            branch=branch.code if branch else "",
            closed=True,
            review_note=review_note,
            due_date=row.due_date,
            adjustment_reason=row.adjustment_reason or "",
        )


def not_found_scans(
    rt: Runtime, actor: Actor, *, include_reviewed: bool = False, limit: int | None = None
) -> list[NotFoundRow]:
    actor.require(Role.ILL_OFFICE, "The not-found scan log")
    with rt.db.reading() as session:
        query = (
            select(
                NotFoundScan.id,
                NotFoundScan.at,
                NotFoundScan.barcode,
                Branch.code,
                Staff.username,
                NotFoundScan.reviewed_at,
                NotFoundScan.review_note,
            )
            .join(Branch, Branch.id == NotFoundScan.branch_id)
            .outerjoin(Staff, Staff.id == NotFoundScan.staff_id)
            .order_by(NotFoundScan.at.desc(), NotFoundScan.id.desc())
            .limit(limit)
        )
        if not include_reviewed:
            query = query.where(NotFoundScan.reviewed_at.is_(None))
        return [
            NotFoundRow(
                id=row.id,
                at=row.at,
                barcode=row.barcode,
                branch=row.code,
                staff=row.username or "",
                reviewed=row.reviewed_at is not None,
                review_note=row.review_note,
            )
            for row in session.execute(query).all()
        ]


def review_not_found(rt: Runtime, actor: Actor, entry_id: int, note: str = "") -> NotFoundRow:
    """Mark a not-found scan as reviewed (what it turned out to be goes in the note)."""
    actor.require(Role.ILL_OFFICE, "Reviewing not-found scans")
    review_note = _note(note)
    now = rt.clock.now()
    with rt.db.transaction() as session:
        row = session.get(NotFoundScan, entry_id)
        if row is None:
            raise NotFound(f"There is no not-found scan number {entry_id}.")
        if row.reviewed_at is not None:
            raise Conflict(f"Not-found scan {entry_id} was already reviewed.")
        row.reviewed_at = now
        row.review_note = review_note
        audit.record(
            session,
            actor,
            "not_found.review",
            at=now,
            entity="not_found_scan",
            entity_id=row.id,
            after={"barcode": row.barcode, "review_note": review_note},
        )
        staff = session.get(Staff, row.staff_id) if row.staff_id else None
        branch = session.get(Branch, row.branch_id)
        return NotFoundRow(
            id=row.id,
            at=row.at,
            barcode=row.barcode,
            branch=branch.code if branch else "",
            staff=staff.username if staff else "",
            reviewed=True,
            review_note=review_note,
        )
