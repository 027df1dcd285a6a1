"""Check in: one scan, one transaction, one answer saying where the item goes.

Two round trips to PostgreSQL, however much the scan changes. `app.desk.routing.decide` stays a
pure decision; around it:

1. One statement reads everything the decision and the banner need
   (`app.desk.checkin_queries`), the item's row locked with `FOR UPDATE OF items NOWAIT`.
2. The decision is applied with SQLAlchemy Core statements only
   (`app.desk.checkin_writes`), the item's UPDATE naming the version read.

On PostgreSQL the transaction runs in psycopg's pipeline mode (`db.pipeline`): BEGIN is
queued with the read and both go in one round trip; the writes and COMMIT are queued and go
in the second. A failed write (a racing desk's unique row) makes the server skip the rest of
the batch, so nothing is half-written, and the retry or "scan again" follows. SQLite
(in-process, `BEGIN IMMEDIATE`) and work inside a caller's transaction run the same
statements one by one and check the version's row count.

When the database cannot be reached (`DatabaseUnavailable`), a desk that passed an
`OfflineFallback` gets its provisional answer instead: the scan is journaled and replayed
later with the same idempotency key.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.borrowing.pieces import pieces_line
from app.desk import checkin_queries as queries
from app.desk import checkin_writes as writes
from app.desk.checkin_wording import SCAN_NOT_ACCEPTED, Facts, Place, word
from app.desk.offline_fallback import OfflineFallback
from app.desk.routing import Desk, Outcome, SlipKind, Tone, decide, slip_for, tone_of
from app.desk.unknown_commit import was_saved
from app.library.actors import Actor
from app.library.errors import DatabaseUnavailable, NotFound, OutcomeUnknown
from app.library.library_settings import LibrarySettings
from app.library.runtime import Runtime
from app.library.scanning import InvalidScan, normalize_scan
from app.people.patron_names import patron_label
from db.engine import CommitOutcomeUnknown
from db.models import IllRequest
from db.pipeline import pipelined, rows

_DEFAULTS = LibrarySettings()
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: another desk holds the item's row lock


@dataclass(frozen=True)
class CheckInResult:
    """What one scan did. `routing` differs from `outcome` for a repeat or lender barcode."""

    barcode: str  # what was scanned, cleaned (or a printable rendering when refused)
    outcome: Outcome
    routing: Outcome
    tone: Tone
    headline: str  # the banner's big words
    instructions: tuple[str, ...]
    at: datetime
    destination: str | None = None  # branch code
    destination_name: str | None = None
    patron_id: str | None = None  # only when staff need the patron
    patron_name: str | None = None
    title: str | None = None
    item_barcode: str | None = None  # the strap (or item) barcode staff should scan
    request_number: str | None = None
    pickup_by: date | None = None
    due_date: date | None = None  # the lender's due date of an ILL item
    slip_kind: SlipKind | None = None
    print_slip: bool = False
    reason: str | None = None  # why a scan was refused
    changed: bool = False  # whether this scan wrote anything
    pieces: int = 1  # a multi-piece item: the desk checks that every piece is here


def check_in(
    rt: Runtime,
    actor: Actor,
    raw: str,
    *,
    auto_print: Collection[str] = (),
    idempotency_key: str | None = None,
    offline: OfflineFallback | None = None,
) -> CheckInResult:
    """Check in one scan at the actor's branch; `auto_print` lists outcomes that print a slip.

    The item's row is locked with NOWAIT: the usual case costs no wait at all. When another
    desk holds it, the scan queues on the lock (PostgreSQL's 2 s lock timeout) and then
    reads the item afresh, so it answers with the state the other desk left; still locked
    after 2 s, or lost to a race twice, it says "scan again". `idempotency_key` (the desk's
    key for this scan; one is made when none is given) is recorded in the same transaction,
    so if the connection breaks after the commit, replaying the scan from the offline journal
    applies nothing twice, and the key tells whether the commit happened: looked up at once,
    the answer is what really happened. With `offline`, a database that cannot be reached
    gives the provisional answer (the scan journaled under the same key), and a commit whose
    outcome cannot be asked yet is journaled as "not sure"; without, `DatabaseUnavailable`
    (or its `OutcomeUnknown`, carrying the key) is raised.
    """
    scan = normalize_scan(raw)
    now = rt.clock.now()
    if isinstance(scan, InvalidScan):
        return refused_scan(scan, now)
    key = idempotency_key or str(uuid.uuid4())
    try:
        return _online(rt, actor, scan.barcode, frozenset(auto_print), key, now)
    except OutcomeUnknown as exc:
        if offline is None:
            raise
        kept = offline.check_in(actor, scan.barcode, key)
        return replace(kept, headline=f"Not sure: {kept.headline}", instructions=(exc.message,))
    except DatabaseUnavailable:
        if offline is None:
            raise
    return offline.check_in(actor, scan.barcode, key)


def _online(
    rt: Runtime,
    actor: Actor,
    barcode: str,
    auto_print: frozenset[str],
    key: str,
    now: datetime,
) -> CheckInResult:
    """The check-in in its own transaction, retried once after a lost race or a lock."""
    result: CheckInResult | None = None
    wait = False
    for attempt in (1, 2):
        try:
            with rt.db.transaction() as session, pipelined(session) as conn:
                result = _check_in(session, rt, actor, barcode, auto_print, wait=wait)
                conn.execute(
                    writes.INSERT_APPLIED,
                    {"idempotency_key": key, "applied_at": now, "result": _applied(result)},
                )
                return result
        except CommitOutcomeUnknown:
            assert result is not None  # COMMIT is only sent after the decision
            return _after_unknown_commit(rt, result, key)
        except (StaleDataError, IntegrityError):
            if attempt == 2:
                break
            wait = True
        except OperationalError as exc:  # a lock held by another desk; anything else goes up
            if getattr(exc.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                raise
            if wait:
                break  # still locked after the lock timeout: "scan again"
            wait = True  # another desk holds the item: queue behind it, then read afresh
    wording = word(Outcome.CHANGED_ELSEWHERE, Outcome.CHANGED_ELSEWHERE, Facts())
    return CheckInResult(
        barcode=barcode,
        outcome=Outcome.CHANGED_ELSEWHERE,
        routing=Outcome.CHANGED_ELSEWHERE,
        tone=Tone.PROBLEM,
        headline=wording.headline,
        instructions=wording.instructions,
        at=now,
    )


def _applied(result: CheckInResult) -> str:
    """What the scan's key records: enough to answer for a commit whose reply was lost."""
    return json.dumps(
        {
            "outcome": result.outcome.value,
            "routing": result.routing.value,
            "destination": result.destination,
        }
    )


def _after_unknown_commit(rt: Runtime, result: CheckInResult, key: str) -> CheckInResult:
    """The reply to COMMIT was lost: the scan's key in the database says whether it happened."""
    if not was_saved(rt.db, key, "check-in"):
        raise DatabaseUnavailable(
            "The connection broke before the check-in was saved: nothing was changed. "
            "Scan it again."
        )
    note = "The connection broke just after this check-in was sent; the database had saved it."
    return replace(result, instructions=(*result.instructions, note))


def check_in_within(
    session: Session, rt: Runtime, actor: Actor, raw: str, *, auto_print: Collection[str] = ()
) -> CheckInResult:
    """Check in inside the caller's transaction, for work that records more in the same one
    (replaying scans made offline). A race lost to another desk raises to the caller.
    """
    scan = normalize_scan(raw)
    if isinstance(scan, InvalidScan):
        return refused_scan(scan, rt.clock.now())
    return _check_in(session, rt, actor, scan.barcode, frozenset(auto_print), wait=True)


def refused_scan(scan: InvalidScan, now: datetime) -> CheckInResult:
    """The answer to a scan that is no barcode: shown online and offline alike."""
    return CheckInResult(
        barcode=scan.shown,
        outcome=Outcome.INVALID_SCAN,
        routing=Outcome.INVALID_SCAN,
        tone=Tone.PROBLEM,
        headline=SCAN_NOT_ACCEPTED,
        instructions=(scan.reason,),
        at=now,
        reason=scan.reason,
    )


def _check_in(
    session: Session,
    rt: Runtime,
    actor: Actor,
    barcode: str,
    auto_print: frozenset[str],
    *,
    wait: bool,
) -> CheckInResult:
    now, today = rt.clock.now(), rt.clock.today()
    conn = session.connection()
    row = queries.load(conn, barcode, actor.branch_code, wait)
    by_lender_barcode = False
    if row is None:
        strap = rows(conn, queries.BY_LENDER_BARCODE, {"barcode": barcode})
        if strap:
            row = queries.load(conn, strap[0].barcode, actor.branch_code, wait)
            by_lender_barcode = row is not None
    if row is None:
        return _not_found(conn, actor, barcode, now)
    desk_branch, office, office_at = queries.desk_and_office(row)

    decision = decide(queries.item_state(row), Desk(desk_branch.id, office.id), today)
    shows_patron = decision.routing in (
        Outcome.HOLD_SHELF,
        Outcome.IN_HOUSE_USE_RETURNED,
    ) or decision.outcome in (Outcome.ON_HOLD_ELSEWHERE,)
    pickup_days = row.pickup_days if isinstance(row.pickup_days, int) else _DEFAULTS.pickup_days
    display = row.patron_display if isinstance(row.patron_display, str) else None
    pickup_by = writes.apply(conn, row, decision, actor, desk_branch, now, today, pickup_days)
    if pickup_by is None and row.hold_id is not None:
        pickup_by = row.hold_pickup_by
    destination = _destination(row, decision.destination_id, desk_branch, office)
    patron = row.patron_id is not None and shows_patron
    patron_name = (
        patron_label(
            row.first_name, row.last_name, row.patron_id, display or _DEFAULTS.patron_display
        )
        if patron
        else None
    )
    request = (
        IllRequest(
            request_number=row.request_number,
            cancel_reason=row.cancel_reason,
            lender_symbol=row.lender_symbol,
        )
        if row.request_id is not None
        else None
    )
    lending = (
        IllRequest(request_number=row.lending_number, borrower_symbol=row.borrower_symbol)
        if row.lending_id is not None
        else None
    )
    facts = Facts(
        office=office,
        office_at=office_at,
        desk=desk_branch,
        destination=destination,
        home=queries.place(row.home_branch_id, row.home_code, row.home_name),
        patron=patron_name,
        patron_id=row.patron_id if patron else None,
        pickup_by=pickup_by,
        request=request,
        lending=lending,
        in_library_use_only=row.in_library_use_only,
        decision=decision,
    )
    outcome = Outcome.LENDER_BARCODE if by_lender_barcode else decision.outcome
    wording = word(outcome, decision.routing, facts)
    pieces = row.pieces if isinstance(row.pieces, int) else 1
    instructions = wording.instructions
    if pieces > 1 and tone_of(decision.outcome, decision.routing) is not Tone.PROBLEM:
        instructions = (pieces_line(pieces), *instructions)  # first: before it leaves the desk
    slip = slip_for(decision.routing)
    result = CheckInResult(
        barcode=barcode,
        outcome=outcome,
        routing=decision.outcome if by_lender_barcode else decision.routing,
        tone=tone_of(decision.outcome, decision.routing),
        headline=wording.headline,
        instructions=instructions,
        at=now,
        destination=destination.code if destination else None,
        destination_name=destination.name if destination else None,
        patron_id=row.patron_id if patron else None,
        patron_name=patron_name,
        title=row.title,
        item_barcode=row.item_barcode,
        request_number=row.request_number,
        pickup_by=pickup_by if patron else None,
        due_date=row.lender_due_date,
        slip_kind=slip,
        changed=decision.changes_state,
        pieces=pieces,
    )
    auto = slip is not None and decision.changes_state and decision.routing.value in auto_print
    return replace(result, print_slip=auto)


def _destination(
    row: Row[Any], destination_id: int | None, desk: Place, office: Place
) -> Place | None:
    """The destination is one of the branches the read joined."""
    if destination_id is None:
        return None
    for branch in (desk, office):
        if branch.id == destination_id:
            return branch
    candidates = (
        (row.home_branch_id, row.home_code, row.home_name),
        (row.pickup_branch_id, row.pickup_code, row.pickup_name),
        (row.hold_branch_id, row.hold_code, row.hold_name),
    )
    for id_, code, name in candidates:
        if id_ == destination_id:
            return queries.place(id_, code, name)
    return None


def _not_found(conn: Connection, actor: Actor, barcode: str, now: datetime) -> CheckInResult:
    """Nothing has this barcode: log it for the ILL office, say what to do."""
    branches = rows(conn, queries.ALL_BRANCHES, {})
    by_id = {b.id: b for b in branches}
    desk = next((b for b in branches if b.code == actor.branch_code), None)
    if desk is None:
        raise NotFound(f"There is no branch '{actor.branch_code}'. Sign in at an existing branch.")
    office = next((b for b in branches if b.ill_office), None)
    if office is None:
        raise NotFound("No branch is marked as the ILL office. An administrator sets one.")
    located = by_id.get(office.location_id) if office.location_id else None
    conn.execute(
        writes.INSERT_NOT_FOUND,
        {"at": now, "barcode": barcode, "branch_id": desk.id, "staff_id": writes.staff_id(actor)},
    )
    wording = word(
        Outcome.NOT_FOUND,
        Outcome.NOT_FOUND,
        Facts(
            office=Place(office.id, office.code, office.name),
            office_at=located.code if located else None,
        ),
    )
    return CheckInResult(
        barcode=barcode,
        outcome=Outcome.NOT_FOUND,
        routing=Outcome.NOT_FOUND,
        tone=Tone.PROBLEM,
        headline=wording.headline,
        instructions=wording.instructions,
        at=now,
        destination=office.code,
        destination_name=office.name,
        changed=True,
    )
