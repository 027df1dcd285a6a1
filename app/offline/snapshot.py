"""A local, read-only copy of what check-in routing needs, for when the database is away.

While online the desk refreshes ``<data dir>/journal/snapshot.db`` (a small SQLite file,
owner-only like the journal): the branches, and for every ILL item still in play and
every owned item away from its shelf or wanted for lending, the `app.desk.routing.ItemState`
that `app.desk.routing.decide` reads. No patron names or IDs are stored.

Offline, `guess` runs the same decision on that copy. The answer is only *provisional*
(another desk may have moved the item since the snapshot): the banner says so, and a
barcode the snapshot does not know gets "unknown: keep aside".
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.desk.checkin_wording import is_worded_offline, provisional_headline
from app.desk.routing import OPEN_LENDING, Desk, ItemState, decide
from app.offline.journal import journal_dir
from db.engine import Database
from db.models import (
    Branch,
    Direction,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    InHouseUse,
    Item,
    ItemKind,
    ItemStatus,
    Loan,
    Patron,
    RequestStatus,
    Transit,
    TransitReason,
)

SNAPSHOT_NAME = "snapshot.db"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class OfflineGuess:
    """What the banner shows for an offline check-in: always provisional."""

    barcode: str
    outcome: str  # an `Outcome` value, or "unknown"
    headline: str
    destination: str | None = None  # branch code
    title: str | None = None
    taken_at: datetime | None = None  # when the snapshot was refreshed
    pieces: int = 1  # a multi-piece item: the desk checks that every piece is here

    @property
    def known(self) -> bool:
        return self.outcome != UNKNOWN


def snapshot_path(base: Path | None = None) -> Path:
    return journal_dir(base) / SNAPSHOT_NAME


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _states(session: Session) -> list[tuple[str, str | None, str, ItemState, int]]:
    """(barcode, lender barcode, title, state, pieces) of every item routing may need
    offline."""
    loans = {
        loan_item: ill
        for loan_item, ill in session.execute(
            select(Loan.item_id, Patron.is_ill_dummy)
            .outerjoin(Patron, Patron.id == Loan.patron_id)
            .where(Loan.returned_at.is_(None))
        )
    }
    transits = {
        t.item_id: (t.from_branch_id, t.to_branch_id, t.reason)
        for t in session.scalars(select(Transit).where(Transit.received_at.is_(None)))
    }
    holds = {
        h.item_id: (h.branch_id, h.pickup_by)
        for h in session.scalars(
            select(HoldShelfEntry).where(HoldShelfEntry.status == HoldStatus.ACTIVE)
        )
    }
    uses = set(session.scalars(select(InHouseUse.item_id).where(InHouseUse.ended_at.is_(None))))
    lending: dict[int, RequestStatus] = {}
    for item_id, status in session.execute(
        select(IllRequest.item_id, IllRequest.status)
        .where(
            IllRequest.direction == Direction.LENDING,
            IllRequest.item_id.is_not(None),
            IllRequest.status.in_([*OPEN_LENDING, RequestStatus.TO_PULL, RequestStatus.PULLED]),
        )
        .order_by(IllRequest.id)
    ):
        if item_id is not None:
            lending[item_id] = status
    # ILL items still in play, and our own items away from their shelf or wanted for
    # lending; an owned item simply on its shelf never needs routing, so it is left out
    # (a library's whole catalogue would make the snapshot slow and large).
    in_play = or_(
        Item.kind == ItemKind.TEMPORARY,
        Item.status != ItemStatus.AVAILABLE,
        Item.id.in_(select(Transit.item_id).where(Transit.received_at.is_(None))),
        Item.id.in_(
            select(IllRequest.item_id).where(
                IllRequest.direction == Direction.LENDING,
                IllRequest.status.in_([*OPEN_LENDING, RequestStatus.TO_PULL, RequestStatus.PULLED]),
            )
        ),
    )
    rows = session.execute(
        select(Item, IllRequest)
        .outerjoin(IllRequest, IllRequest.id == Item.request_id)
        .where(Item.status != ItemStatus.CLOSED, in_play)
    )
    out: list[tuple[str, str | None, str, ItemState, int]] = []
    for item, request in rows:
        transit = transits.get(item.id)
        hold = holds.get(item.id)
        state = ItemState(
            kind=item.kind,
            status=item.status,
            home_branch_id=item.home_branch_id,
            has_request=request is not None,
            request_status=request.status if request else None,
            pickup_branch_id=request.pickup_branch_id if request else None,
            open_loan=item.id in loans,
            loan_to_ill_account=bool(loans.get(item.id)),
            transit_from_id=transit[0] if transit else None,
            transit_to_id=transit[1] if transit else None,
            transit_reason=transit[2] if transit else None,
            hold_branch_id=hold[0] if hold else None,
            hold_pickup_by=hold[1] if hold else None,
            in_house_use=item.id in uses,
            lending_status=lending.get(item.id),
        )
        out.append((item.barcode, item.lender_barcode, item.title, state, item.pieces))
    return out


def refresh(db: Database, path: Path | None = None, *, now: datetime | None = None) -> int:
    """Write a fresh snapshot next to the journal (atomically); returns how many items."""
    target = path or snapshot_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(target.parent, 0o700)
    with db.reading() as session:
        branches = [
            (b.id, b.code, b.name, b.ill_office, b.location_id)
            for b in session.scalars(select(Branch))
        ]
        states = _states(session)
    temporary = target.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    conn = sqlite3.connect(temporary)
    try:
        conn.executescript(
            "CREATE TABLE meta (taken_at TEXT NOT NULL);"
            "CREATE TABLE branches (id INTEGER PRIMARY KEY, code TEXT, name TEXT,"
            " ill_office INTEGER, location_id INTEGER);"
            "CREATE TABLE items (barcode TEXT PRIMARY KEY, lender_barcode TEXT,"
            " title TEXT, state TEXT NOT NULL);"
            "CREATE INDEX items_lender ON items (lender_barcode);"
        )
        taken = (now or datetime.now(UTC)).isoformat()
        conn.execute("INSERT INTO meta VALUES (?)", (taken,))
        conn.executemany("INSERT INTO branches VALUES (?, ?, ?, ?, ?)", branches)
        conn.executemany(
            "INSERT INTO items VALUES (?, ?, ?, ?)",
            [
                (barcode, lender, title, _encode(state, pieces))
                for barcode, lender, title, state, pieces in states
            ],
        )
        conn.commit()
    finally:
        conn.close()
    os.replace(temporary, target)
    return len(states)


def _encode(state: ItemState, pieces: int) -> str:
    data = {k: _plain(v) for k, v in asdict(state).items()}
    if state.hold_pickup_by is not None:
        data["hold_pickup_by"] = state.hold_pickup_by.isoformat()
    data["pieces"] = pieces  # beside the routing state: a snapshot without it means one
    return json.dumps(data)


def _pieces(text: str) -> int:
    pieces = json.loads(text).get("pieces", 1)
    return pieces if isinstance(pieces, int) and pieces > 0 else 1


def _decode(text: str) -> ItemState:
    data = json.loads(text)
    pickup = data.get("hold_pickup_by")
    return ItemState(
        kind=ItemKind(data["kind"]),
        status=ItemStatus(data["status"]),
        home_branch_id=int(data["home_branch_id"]),
        has_request=bool(data["has_request"]),
        request_status=RequestStatus(data["request_status"]) if data["request_status"] else None,
        pickup_branch_id=data["pickup_branch_id"],
        open_loan=bool(data["open_loan"]),
        loan_to_ill_account=bool(data["loan_to_ill_account"]),
        transit_from_id=data["transit_from_id"],
        transit_to_id=data["transit_to_id"],
        transit_reason=TransitReason(data["transit_reason"]) if data["transit_reason"] else None,
        hold_branch_id=data["hold_branch_id"],
        hold_pickup_by=date.fromisoformat(pickup) if pickup else None,
        in_house_use=bool(data["in_house_use"]),
        lending_status=RequestStatus(data["lending_status"]) if data["lending_status"] else None,
    )


def guess(branch_code: str, barcode: str, today: date, path: Path | None = None) -> OfflineGuess:
    """The likely routing of `barcode` at `branch_code`, from the snapshot alone."""
    source = path or snapshot_path()
    unknown = OfflineGuess(barcode, UNKNOWN, provisional_headline(None, None))
    if not source.exists():
        return unknown
    try:
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.Error:
        return unknown
    try:
        taken_row = conn.execute("SELECT taken_at FROM meta").fetchone()
        branches = {
            row[0]: row
            for row in conn.execute("SELECT id, code, ill_office, location_id FROM branches")
        }
        row = (
            conn.execute(
                "SELECT barcode, title, state FROM items WHERE barcode = ?", (barcode,)
            ).fetchone()
            or conn.execute(
                "SELECT barcode, title, state FROM items WHERE lender_barcode = ? LIMIT 1",
                (barcode,),
            ).fetchone()
        )
    except sqlite3.Error:
        return unknown
    finally:
        conn.close()
    taken = datetime.fromisoformat(taken_row[0]) if taken_row else None
    desk = next((b for b in branches.values() if b[1] == branch_code), None)
    office = next((b for b in sorted(branches.values()) if b[2]), None)
    if row is None or desk is None or office is None:
        return OfflineGuess(barcode, UNKNOWN, unknown.headline, taken_at=taken)
    state = _decode(row[2])
    decision = decide(state, Desk(desk[0], office[0]), today)
    dest = branches.get(decision.destination_id) if decision.destination_id else None
    code = dest[1] if dest else None
    worded = is_worded_offline(decision.routing)
    return OfflineGuess(
        barcode,
        decision.routing.value if worded else decision.outcome.value,
        provisional_headline(decision.routing, code),
        code,
        row[1],
        taken,
        _pieces(row[2]),
    )
