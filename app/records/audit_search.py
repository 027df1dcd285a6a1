"""Searching the audit trail by item, patron, staff member and date (ILL office and admins).

The trail is append-only from the application's side: this module only reads it. A search
by patron shows that patron's loan history, so it is for the ILL office and administrators
only (a desk or a campus team lead is refused, whatever else the search asks), and it is
itself recorded as a look at that patron's record: a `patron.view` event naming who
searched, for whom, and when. Loans anonymised by the privacy run no longer name the
patron in their events, so they do not show up here (app.records.privacy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.library.actors import Actor
from app.library.errors import InvalidInput, NotFound
from app.library.runtime import Runtime
from app.records.audit_words import about, describe_change, load_names, staff_name
from app.records.patron_views import record_patron_view
from db.models import AuditEvent, Item, Patron, Role, Staff

MAX_LIMIT = 5000


@dataclass(frozen=True)
class AuditQuery:
    """Empty fields match everything; dates are the library's local days, both inclusive."""

    item_barcode: str = ""
    patron: str = ""  # campus ID (T00123456) or patron barcode
    staff_username: str = ""
    since: date | None = None
    until: date | None = None
    limit: int = 500


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    username: str
    branch_code: str
    workstation: str
    action: str
    entity: str
    entity_id: int | None
    item_barcode: str | None
    patron_campus_id: str | None
    before: dict[str, Any] | None  # as stored: row ids where it names a branch or staff
    after: dict[str, Any] | None
    detail: str
    staff_name: str = ""  # "Ari Admin (admin)"
    about: str = ""  # "request 20261012", "staff account Chris Teamlead (ctl)"
    details: str = ""  # before/after in words: "branch: NEC → METRO; ..."


def describe(row: AuditRow) -> str:
    """The change in words: "role: desk → ctl; branch: NEC → METRO; detail"."""
    return row.details or describe_change(row.before, row.after, row.detail)


@dataclass(frozen=True)
class AuditSearchResult:
    rows: tuple[AuditRow, ...]
    truncated: bool  # more events matched than `limit`; narrow the search


def _day_start(day: date, tz: tzinfo | None) -> datetime:
    start = datetime.combine(day, time.min)
    return start.replace(tzinfo=tz) if tz is not None else start.astimezone()


def _check(query: AuditQuery) -> None:
    if query.since and query.until and query.since > query.until:
        raise InvalidInput(
            f"The search starts on {query.since.isoformat()}, after it ends on "
            f"{query.until.isoformat()}. Swap the dates."
        )
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InvalidInput(f"Show between 1 and {MAX_LIMIT} events.")


def _item(session: Session, barcode: str) -> Item:
    item = session.scalar(select(Item).where(Item.barcode == barcode.strip().upper()))
    if item is None:
        item = session.scalar(select(Item).where(Item.barcode == barcode.strip()))
    if item is None:
        raise NotFound(f"No item has the barcode '{barcode.strip()[:40]}'. Check the number.")
    return item


def _patron(session: Session, text: str) -> Patron:
    value = text.strip()
    patron = session.scalar(
        select(Patron).where(or_(Patron.patron_id == value.upper(), Patron.barcode == value))
    )
    if patron is None:
        raise NotFound(f"No patron has the campus ID or barcode '{value[:40]}'. Check the number.")
    return patron


def search_audit(
    rt: Runtime, actor: Actor, query: AuditQuery, *, tz: tzinfo | None = None
) -> AuditSearchResult:
    """Newest first. `tz` is the library's time zone (default: this computer's)."""
    actor.require(Role.ILL_OFFICE, "Searching the audit trail")  # a patron's history too
    _check(query)
    with rt.db.transaction() as session:
        conditions: list[Any] = []
        if query.item_barcode.strip():
            item = _item(session, query.item_barcode)
            conditions.append(
                or_(
                    AuditEvent.item_id == item.id,
                    and_(AuditEvent.entity == "item", AuditEvent.entity_id == item.id),
                )
            )
        if query.patron.strip():
            patron = _patron(session, query.patron)
            conditions.append(
                or_(
                    AuditEvent.patron_id == patron.id,
                    and_(AuditEvent.entity == "patron", AuditEvent.entity_id == patron.id),
                )
            )
            record_patron_view(
                session, actor, patron.id, rt.clock.now(), detail="audit trail search"
            )
        if query.staff_username.strip():
            name = query.staff_username.strip().lower()
            if session.scalar(select(Staff.id).where(Staff.username == name)) is None:
                raise NotFound(f"There is no staff account '{name[:64]}'.")
            conditions.append(AuditEvent.username == name)
        if query.since:
            conditions.append(AuditEvent.at >= _day_start(query.since, tz))
        if query.until:
            conditions.append(AuditEvent.at < _day_start(query.until + timedelta(days=1), tz))
        events = session.scalars(
            select(AuditEvent)
            .where(*conditions)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(query.limit + 1)
        ).all()
        truncated = len(events) > query.limit
        events = events[: query.limit]
        return AuditSearchResult(_rows(session, events), truncated)


def _rows(session: Session, events: Any) -> tuple[AuditRow, ...]:
    item_ids = {e.item_id for e in events if e.item_id is not None}
    item_ids |= {e.entity_id for e in events if e.entity == "item" and e.entity_id is not None}
    patron_ids = {e.patron_id for e in events if e.patron_id is not None}
    barcodes: dict[int, str] = {}
    campus_ids: dict[int, str] = {}
    if item_ids:
        query = select(Item.id, Item.barcode).where(Item.id.in_(item_ids))
        barcodes = {item_id: barcode for item_id, barcode in session.execute(query)}
    if patron_ids:
        query = select(Patron.id, Patron.patron_id).where(Patron.id.in_(patron_ids))
        campus_ids = {patron_id: campus for patron_id, campus in session.execute(query)}
    names = load_names(session, events)
    rows = []
    for e in events:
        item_id = (
            e.item_id if e.item_id is not None else (e.entity_id if e.entity == "item" else None)
        )
        rows.append(
            AuditRow(
                at=e.at,
                username=e.username,
                branch_code=e.branch_code,
                workstation=e.workstation,
                action=e.action,
                entity=e.entity,
                entity_id=e.entity_id,
                item_barcode=barcodes.get(item_id) if item_id is not None else None,
                patron_campus_id=campus_ids.get(e.patron_id) if e.patron_id is not None else None,
                before=dict(e.before) if e.before is not None else None,
                after=dict(e.after) if e.after is not None else None,
                detail=e.detail,
                staff_name=staff_name(names, e.staff_id, e.username),
                about=about(names, e.entity, e.entity_id),
                details=describe_change(e.before, e.after, e.detail, names),
            )
        )
    return tuple(rows)
