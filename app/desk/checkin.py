"""Check in: one scan, one transaction, one answer saying where the item goes.

Two round trips to PostgreSQL, however much the scan changes. `app.desk.routing.decide` stays a
pure decision; around it:

1. One statement reads everything the decision and the banner need: the item (locked with
   `FOR UPDATE OF items NOWAIT`), its request and patron, the open loan, transit, hold-shelf
   entry and in-house use, the newest open lending request, the desk's branch, the ILL
   office, the branches a destination can be, and the `pickup_days` and `patron_display`
   settings (joins and scalar subqueries, all by primary key or unique index).
2. The decision is applied with SQLAlchemy Core statements only (no ORM unit of work, no
   reloads): UPDATEs of the rows read in step 1, INSERTs of the new transit or hold-shelf
   entry, the ready-for-pickup notice (its de-duplication key made from the new hold's id
   by `INSERT ... SELECT`), the audit event and the scan's idempotency key. The item's
   UPDATE bumps `version` and names the version read (`WHERE id = :id AND version = :v`).

On PostgreSQL the transaction runs in psycopg's pipeline mode: BEGIN is queued with the
read and both go in one round trip; the writes and COMMIT are queued and go in the second.
A failed write (a racing desk's unique row, a dropped connection) makes the server skip
the rest of the batch, COMMIT included, so nothing is half-written; the error comes back
as the usual SQLAlchemy exception and the retry or "scan again" follows as before. The
row lock taken in step 1 means the version check cannot fail there; SQLite (in-process,
`BEGIN IMMEDIATE`) and work inside a caller's transaction run the same statements one by
one and check the version's row count.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Row,
    String,
    Table,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from app.desk.checkin_wording import Facts, word
from app.desk.routing import (
    OPEN_LENDING,
    Decision,
    Desk,
    ItemState,
    Outcome,
    SlipKind,
    Tone,
    decide,
    slip_for,
    tone_of,
)
from app.desk.unknown_commit import was_saved
from app.library.actors import Actor
from app.library.errors import DatabaseUnavailable, NotFound
from app.library.library_settings import LibrarySettings
from app.library.runtime import Runtime
from app.library.scanning import InvalidScan, normalize_scan
from app.printing.patron_label import patron_label as printed_label
from db.engine import DISCARDED, CommitOutcomeUnknown
from db.models import (
    AppliedScan,
    AuditEvent,
    Branch,
    Direction,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    InHouseUse,
    Item,
    ItemKind,
    ItemStatus,
    LibrarySetting,
    Loan,
    NotFoundScan,
    Notice,
    NoticeStatus,
    Patron,
    RequestStatus,
    Transit,
)

if TYPE_CHECKING:
    import psycopg

READY_FOR_PICKUP = "ready_for_pickup"
_DEFAULTS = LibrarySettings()
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: another desk holds the item's row lock


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


_ITEMS = _table(Item)
_LOANS = _table(Loan)
_TRANSITS = _table(Transit)
_HOLDS = _table(HoldShelfEntry)
_USES = _table(InHouseUse)
_REQUESTS = _table(IllRequest)
_NOTICES = _table(Notice)
_AUDIT = _table(AuditEvent)
_APPLIED = _table(AppliedScan)
_NOT_FOUND = _table(NotFoundScan)
_BRANCHES = _table(Branch)


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


def check_in(
    rt: Runtime,
    actor: Actor,
    raw: str,
    *,
    auto_print: Collection[str] = (),
    idempotency_key: str | None = None,
) -> CheckInResult:
    """Check in one scan at the actor's branch; `auto_print` lists outcomes that print a slip.

    The item's row is locked with NOWAIT: the usual case costs no wait at all. When another
    desk holds it, the scan queues on the lock (PostgreSQL's 2 s lock timeout) and then
    reads the item afresh, so it answers with the state the other desk left; still locked
    after 2 s, or lost to a race twice, it says "scan again". `idempotency_key` (the desk's
    key for this scan; one is made when none is given) is recorded in the same transaction,
    so if the connection breaks after the commit, replaying the scan from the offline journal
    applies nothing twice, and the key tells whether the commit happened: looked up at once,
    the answer is what really happened; when the database cannot be asked, `OutcomeUnknown`
    carries the key to journal the scan with.
    """
    scan = normalize_scan(raw)
    now = rt.clock.now()
    if isinstance(scan, InvalidScan):
        return refused_scan(scan, now)
    key = idempotency_key or str(uuid.uuid4())
    wait = False
    result: CheckInResult | None = None
    for attempt in (1, 2):
        try:
            with rt.db.transaction() as session, _pipelined(session) as conn:
                result = _check_in(
                    session, rt, actor, scan.barcode, frozenset(auto_print), wait=wait
                )
                conn.execute(
                    _INSERT_APPLIED,
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
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                raise
            if wait:
                break  # still locked after the lock timeout: "scan again"
            wait = True  # another desk holds the item: queue behind it, then read afresh
    wording = word(Outcome.CHANGED_ELSEWHERE, Outcome.CHANGED_ELSEWHERE, Facts())
    return CheckInResult(
        barcode=scan.barcode,
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
    if not was_saved(rt, key, "check-in"):
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
        headline="Scan not accepted",
        instructions=(scan.reason,),
        at=now,
        reason=scan.reason,
    )


# --- PostgreSQL: two round trips ------------------------------------------------------


def _reading_cursor(pipeline: psycopg.Pipeline) -> Any:
    """A cursor factory whose statements are answered at once: BEGIN rides along."""
    import psycopg

    class ReadingCursor(psycopg.Cursor[Any]):
        def execute(self, *args: Any, **kwargs: Any) -> ReadingCursor:
            super().execute(*args, **kwargs)
            pipeline.sync()  # the SELECT's rows (and the lock) before SQLAlchemy reads them
            return self

    return ReadingCursor


_PIPELINE: dict[int, Any] = {}  # id(driver connection) -> the reading cursor factory


@contextmanager
def _pipelined(session: Session) -> Iterator[Connection]:
    """The session's connection; on PostgreSQL in pipeline mode, committed on leaving.

    psycopg's own BEGIN would cost a round trip of its own, so the transaction is opened
    by a queued BEGIN statement instead (autocommit on for the while, so psycopg sends
    none) and closed by a queued COMMIT that goes with the writes.
    """
    conn = session.connection()
    driver = conn.connection.driver_connection
    if conn.dialect.name != "postgresql" or driver is None:
        yield conn
        return
    import psycopg

    if not isinstance(driver, psycopg.Connection) or not psycopg.Pipeline.is_supported():
        yield conn  # a libpq before 14 has no pipeline mode: one statement at a time
        return
    driver.autocommit = True
    failed = True
    commit_sent = False
    try:
        try:
            with driver.pipeline() as pipeline:
                conn.exec_driver_sql("BEGIN")
                _PIPELINE[id(driver)] = _reading_cursor(pipeline)
                try:
                    yield conn
                finally:
                    del _PIPELINE[id(driver)]
                conn.exec_driver_sql("COMMIT")  # sent with the writes when the pipeline ends
                commit_sent = True
        except psycopg.Error as exc:  # raised by the batch: SQLAlchemy has not seen it
            # No SQLSTATE: the client lost the connection ("cannot exit pipeline mode while
            # busy" after the server went away), as opposed to the server refusing a write.
            if driver.broken or getattr(exc, "sqlstate", None) is None:
                conn.invalidate(exc)
                if commit_sent:  # the server may have committed before the line went
                    raise CommitOutcomeUnknown("COMMIT", None, exc) from exc
            raise DBAPIError.instance("COMMIT", None, exc, psycopg.Error) from exc
        failed = False
    finally:
        if not driver.closed:
            try:
                if failed and driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    driver.rollback()
                driver.autocommit = False
            except psycopg.Error as exc:  # died mid-pipeline: discard it, quietly, counted
                DISCARDED.add()
                conn.invalidate(exc)


@contextmanager
def _reading(conn: Connection) -> Iterator[None]:
    """Inside a pipeline, statements whose rows are needed now (one round trip each)."""
    driver = conn.connection.driver_connection
    factory = _PIPELINE.get(id(driver))
    if factory is None:
        yield
        return
    previous = driver.cursor_factory  # type: ignore[union-attr]
    driver.cursor_factory = factory  # type: ignore[union-attr]
    try:
        yield
    finally:
        driver.cursor_factory = previous  # type: ignore[union-attr]


def _rows(conn: Connection, statement: Any, params: dict[str, Any]) -> list[Row[Any]]:
    with _reading(conn):
        return list(conn.execute(statement, params).all())


# --- the read -------------------------------------------------------------------------


def _state_statement(lock: bool, nowait: bool) -> Any:
    """The item, everything open about it, its branches and two settings: one query.

    Built once: making aliases and joins costs more than running the query.
    """
    request = aliased(IllRequest)
    lending = aliased(IllRequest)
    patron = aliased(Patron)
    loan_patron = aliased(Patron)
    desk, office, office_at = aliased(Branch), aliased(Branch), aliased(Branch)
    home, pickup, hold_at = aliased(Branch), aliased(Branch), aliased(Branch)
    office_id = select(func.min(Branch.id)).where(Branch.ill_office.is_(True)).scalar_subquery()

    def setting(key: str) -> Any:
        return select(LibrarySetting.value).where(LibrarySetting.key == key).scalar_subquery()

    statement = (
        select(
            Item.id.label("item_id"),
            Item.barcode.label("item_barcode"),
            Item.kind.label("item_kind"),
            Item.status.label("item_status"),
            Item.title.label("title"),
            Item.home_branch_id.label("home_branch_id"),
            Item.current_branch_id.label("current_branch_id"),
            Item.lender_due_date.label("lender_due_date"),
            Item.in_library_use_only.label("in_library_use_only"),
            Item.version.label("version"),
            request.id.label("request_id"),
            request.status.label("request_status"),
            request.pickup_branch_id.label("pickup_branch_id"),
            request.request_number.label("request_number"),
            request.cancel_reason.label("cancel_reason"),
            request.lender_symbol.label("lender_symbol"),
            patron.id.label("patron_row_id"),
            patron.patron_id.label("patron_id"),
            patron.first_name.label("first_name"),
            patron.last_name.label("last_name"),
            patron.email.label("email"),
            Loan.id.label("loan_id"),
            loan_patron.is_ill_dummy.label("loan_to_ill_account"),
            Transit.id.label("transit_id"),
            Transit.from_branch_id.label("transit_from_id"),
            Transit.to_branch_id.label("transit_to_id"),
            Transit.reason.label("transit_reason"),
            HoldShelfEntry.id.label("hold_id"),
            HoldShelfEntry.branch_id.label("hold_branch_id"),
            HoldShelfEntry.pickup_by.label("hold_pickup_by"),
            InHouseUse.id.label("use_id"),
            lending.id.label("lending_id"),
            lending.status.label("lending_status"),
            lending.request_number.label("lending_number"),
            lending.borrower_symbol.label("borrower_symbol"),
            desk.id.label("desk_id"),
            desk.code.label("desk_code"),
            desk.name.label("desk_name"),
            office.id.label("office_id"),
            office.code.label("office_code"),
            office.name.label("office_name"),
            office_at.code.label("office_at"),
            home.code.label("home_code"),
            home.name.label("home_name"),
            pickup.code.label("pickup_code"),
            pickup.name.label("pickup_name"),
            hold_at.code.label("hold_code"),
            hold_at.name.label("hold_name"),
            setting("pickup_days").label("pickup_days"),
            setting("patron_display").label("patron_display"),
        )
        .select_from(Item)
        .outerjoin(request, request.id == Item.request_id)
        .outerjoin(patron, patron.id == request.patron_id)
        .outerjoin(Loan, and_(Loan.item_id == Item.id, Loan.returned_at.is_(None)))
        .outerjoin(loan_patron, loan_patron.id == Loan.patron_id)
        .outerjoin(Transit, and_(Transit.item_id == Item.id, Transit.received_at.is_(None)))
        .outerjoin(
            HoldShelfEntry,
            and_(HoldShelfEntry.item_id == Item.id, HoldShelfEntry.status == HoldStatus.ACTIVE),
        )
        .outerjoin(InHouseUse, and_(InHouseUse.item_id == Item.id, InHouseUse.ended_at.is_(None)))
        .outerjoin(
            lending,
            and_(
                lending.item_id == Item.id,
                lending.direction == Direction.LENDING,
                lending.status.in_([*OPEN_LENDING, RequestStatus.TO_PULL, RequestStatus.PULLED]),
            ),
        )
        .outerjoin(desk, desk.code == bindparam("desk_code"))
        .outerjoin(office, office.id == office_id)
        .outerjoin(office_at, office_at.id == office.location_id)
        .outerjoin(home, home.id == Item.home_branch_id)
        .outerjoin(pickup, pickup.id == request.pickup_branch_id)
        .outerjoin(hold_at, hold_at.id == HoldShelfEntry.branch_id)
        .where(Item.barcode == bindparam("barcode"))
        .order_by(lending.id.desc())
        .limit(1)
    )
    return statement.with_for_update(of=Item, nowait=nowait) if lock else statement


# NOWAIT: the usual, uncontended scan locks and reads in one statement. After waiting for
# another desk, the joined rows of a FOR UPDATE query would be the ones from before that
# desk's commit, so a scan that had to wait locks the item alone first, then reads afresh.
_LOAD = _state_statement(lock=True, nowait=True)
_LOAD_LOCKED = _state_statement(lock=True, nowait=False)
_LOCK = select(Item.id).where(Item.barcode == bindparam("barcode")).with_for_update()
_BY_LENDER_BARCODE = (
    select(Item.barcode)
    .where(
        Item.lender_barcode == bindparam("barcode"),
        Item.kind == ItemKind.TEMPORARY,
        Item.status != ItemStatus.CLOSED,
    )
    .order_by(Item.id.desc())
    .limit(1)
)
_ALL_BRANCHES = select(
    Branch.id, Branch.code, Branch.name, Branch.ill_office, Branch.location_id
).order_by(Branch.id)


def _load(conn: Connection, barcode: str, desk_code: str, wait: bool) -> Row[Any] | None:
    params = {"barcode": barcode, "desk_code": desk_code}
    if wait:
        _rows(conn, _LOCK, params)
    rows = _rows(conn, _LOCK_LOCKED_OR_NOWAIT[wait], params)
    return rows[0] if rows else None


_LOCK_LOCKED_OR_NOWAIT = {False: _LOAD, True: _LOAD_LOCKED}


_PLACES: dict[tuple[int, str, str], Branch] = {}


def _branch(id_: int | None, code: str | None, name: str | None) -> Branch | None:
    """A detached Branch for the wording, made once per (id, code, name): the ORM's own
    object set-up costs more than the rest of a scan's Python work on SQLite.
    """
    if id_ is None or code is None:
        return None
    key = (id_, code, name or code)
    branch = _PLACES.get(key)
    if branch is None:
        if len(_PLACES) > 1000:  # renamed many times over: start again
            _PLACES.clear()
        branch = _PLACES[key] = Branch(id=id_, code=code, name=name or code)
    return branch


def _desk_and_office(row: Row[Any]) -> tuple[Branch, Branch, str | None]:
    desk = _branch(row.desk_id, row.desk_code, row.desk_name)
    if desk is None:
        raise NotFound(f"There is no branch '{row.desk_code}'. Sign in at an existing branch.")
    office = _branch(row.office_id, row.office_code, row.office_name)
    if office is None:
        raise NotFound("No branch is marked as the ILL office. An administrator sets one.")
    return desk, office, row.office_at


def _state(row: Row[Any]) -> ItemState:
    return ItemState(
        kind=row.item_kind,
        status=row.item_status,
        home_branch_id=row.home_branch_id,
        has_request=row.request_id is not None,
        request_status=row.request_status,
        pickup_branch_id=row.pickup_branch_id,
        open_loan=row.loan_id is not None,
        loan_to_ill_account=bool(row.loan_to_ill_account),
        transit_from_id=row.transit_from_id,
        transit_to_id=row.transit_to_id,
        transit_reason=row.transit_reason,
        hold_branch_id=row.hold_branch_id,
        hold_pickup_by=row.hold_pickup_by,
        in_house_use=row.use_id is not None,
        lending_status=row.lending_status,
    )


# --- the decision, applied ------------------------------------------------------------


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
    row = _load(conn, barcode, actor.branch_code, wait)
    by_lender_barcode = False
    if row is None:
        strap = _rows(conn, _BY_LENDER_BARCODE, {"barcode": barcode})
        if strap:
            row = _load(conn, strap[0].barcode, actor.branch_code, wait)
            by_lender_barcode = row is not None
    if row is None:
        return _not_found(conn, actor, barcode, now)
    desk_branch, office, office_at = _desk_and_office(row)

    decision = decide(_state(row), Desk(desk_branch.id, office.id), today)
    shows_patron = decision.routing in (
        Outcome.HOLD_SHELF,
        Outcome.IN_HOUSE_USE_RETURNED,
    ) or decision.outcome in (Outcome.ON_HOLD_ELSEWHERE,)
    pickup_days = row.pickup_days if isinstance(row.pickup_days, int) else _DEFAULTS.pickup_days
    display = row.patron_display if isinstance(row.patron_display, str) else None
    pickup_by = _apply(conn, row, decision, actor, desk_branch, now, today, pickup_days)
    if pickup_by is None and row.hold_id is not None:
        pickup_by = row.hold_pickup_by
    destination = _destination(row, decision.destination_id, desk_branch, office)
    patron = row.patron_id is not None and shows_patron
    patron_name = (
        printed_label(
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
        home=_branch(row.home_branch_id, row.home_code, row.home_name),
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
    slip = slip_for(decision.routing)
    result = CheckInResult(
        barcode=barcode,
        outcome=outcome,
        routing=decision.outcome if by_lender_barcode else decision.routing,
        tone=tone_of(decision.outcome, decision.routing),
        headline=wording.headline,
        instructions=wording.instructions,
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
    )
    auto = slip is not None and decision.changes_state and decision.routing.value in auto_print
    return replace(result, print_slip=auto)


def _destination(
    row: Row[Any], destination_id: int | None, desk: Branch, office: Branch
) -> Branch | None:
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
            return _branch(id_, code, name)
    return None


def _not_found(conn: Connection, actor: Actor, barcode: str, now: datetime) -> CheckInResult:
    """Nothing has this barcode: log it for the ILL office, say what to do."""
    branches = _rows(conn, _ALL_BRANCHES, {})
    by_id = {b.id: b for b in branches}
    desk = next((b for b in branches if b.code == actor.branch_code), None)
    if desk is None:
        raise NotFound(f"There is no branch '{actor.branch_code}'. Sign in at an existing branch.")
    office = next((b for b in branches if b.ill_office), None)
    if office is None:
        raise NotFound("No branch is marked as the ILL office. An administrator sets one.")
    located = by_id.get(office.location_id) if office.location_id else None
    conn.execute(
        _INSERT_NOT_FOUND,
        {"at": now, "barcode": barcode, "branch_id": desk.id, "staff_id": _staff(actor)},
    )
    wording = word(
        Outcome.NOT_FOUND,
        Outcome.NOT_FOUND,
        Facts(
            office=_branch(office.id, office.code, office.name),
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


def _staff(actor: Actor) -> int | None:
    return actor.staff_id or None


def pickup_by_date(today: date, pickup_days: int, lender_due_date: date | None) -> date:
    """Today plus the library's pickup days, never past the lender's due date (nor today)."""
    last = today + timedelta(days=max(pickup_days, 0))
    if lender_due_date is not None and lender_due_date < last:
        last = max(lender_due_date, today)
    return last


# Inline inserts: no RETURNING of the new id, which would need its own round trip.
_INSERT_APPLIED = insert(_APPLIED).inline()
_INSERT_NOT_FOUND = insert(_NOT_FOUND).inline()
_INSERT_TRANSIT = insert(_TRANSITS).inline()
_INSERT_HOLD = insert(_HOLDS).inline()
_INSERT_AUDIT = insert(_AUDIT).inline()
_RECEIVE_TRANSIT = (
    update(_TRANSITS)
    .where(_TRANSITS.c.id == bindparam("row_id"))
    .values(received_at=bindparam("at"), received_by_id=bindparam("staff"))
)
_END_LOAN = (
    update(_LOANS)
    .where(_LOANS.c.id == bindparam("row_id"))
    .values(returned_at=bindparam("at"), returned_branch_id=bindparam("branch"))
)
_END_USE = update(_USES).where(_USES.c.id == bindparam("row_id")).values(ended_at=bindparam("at"))
_EXPIRE_HOLD = (
    update(_HOLDS)
    .where(_HOLDS.c.id == bindparam("row_id"))
    .values(status=HoldStatus.EXPIRED, ended_at=bindparam("at"))
)
# Always bumps the version, even when only the branch is set again: other desks must see it.
_MOVE_ITEM = (
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("row_id"), _ITEMS.c.version == bindparam("seen_version"))
    .values(
        status=bindparam("new_status"),
        current_branch_id=bindparam("branch"),
        version=_ITEMS.c.version + 1,
    )
)
_REQUEST_RETURNED = (
    update(_REQUESTS)
    .where(_REQUESTS.c.id == bindparam("row_id"))
    .values(status=RequestStatus.RETURNED)
)
_CLOSE_LENDING = (
    update(_REQUESTS)
    .where(_REQUESTS.c.id == bindparam("row_id"))
    .values(status=RequestStatus.CLOSED, closed_at=bindparam("at"))
)


def _queue_ready_statement() -> Any:
    """The ready-for-pickup notice, keyed by the hold-shelf entry made just before it.

    The entry's id is not known to the client until the batch has run, so the notice is
    made from it on the server (`INSERT ... SELECT`). A brand-new entry's key cannot have
    been used, so no de-duplication check is needed.
    """
    n = _NOTICES.c
    columns = {
        "kind": literal(READY_FOR_PICKUP, String),
        "status": bindparam("notice_status", type_=n.status.type),
        "recipient": bindparam("recipient", type_=n.recipient.type),
        "patron_id": bindparam("patron", type_=n.patron_id.type),
        "request_id": bindparam("request", type_=n.request_id.type),
        "context": bindparam("context", type_=n.context.type),
        "dedupe_key": bindparam("key_prefix", type_=String) + cast(_HOLDS.c.id, String),
        "created_at": bindparam("at", type_=n.created_at.type),
        "next_attempt_at": bindparam("at2", type_=n.next_attempt_at.type),
    }
    source = select(*(value.label(name) for name, value in columns.items())).where(
        _HOLDS.c.item_id == bindparam("item"), _HOLDS.c.status == HoldStatus.ACTIVE
    )
    return insert(_NOTICES).from_select(list(columns), source)


_QUEUE_READY = _queue_ready_statement()


def _apply(
    conn: Connection,
    row: Row[Any],
    decision: Decision,
    actor: Actor,
    desk: Branch,
    now: datetime,
    today: date,
    pickup_days: int,
) -> date | None:
    """Carry out the decision; returns the pickup-by date of a new hold-shelf entry.

    Statements go in the order the database's one-open-row indexes need: the open transit
    is closed before the new one is opened.
    """
    if not decision.changes_state:
        return None
    staff = _staff(actor)
    if decision.receive_transit and row.transit_id is not None:
        conn.execute(_RECEIVE_TRANSIT, {"row_id": row.transit_id, "at": now, "staff": staff})
    if decision.end_loan and row.loan_id is not None:
        conn.execute(_END_LOAN, {"row_id": row.loan_id, "at": now, "branch": desk.id})
    if decision.end_in_house_use and row.use_id is not None:
        conn.execute(_END_USE, {"row_id": row.use_id, "at": now})
    if decision.expire_hold and row.hold_id is not None:
        conn.execute(_EXPIRE_HOLD, {"row_id": row.hold_id, "at": now})
    if decision.start_transit is not None and decision.destination_id is not None:
        conn.execute(
            _INSERT_TRANSIT,
            {
                "item_id": row.item_id,
                "from_branch_id": desk.id,
                "to_branch_id": decision.destination_id,
                "reason": decision.start_transit,
                "started_at": now,
                "started_by_id": staff,
            },
        )
    pickup_by: date | None = None
    if decision.place_hold:
        pickup_by = pickup_by_date(today, pickup_days, row.lender_due_date)
        conn.execute(
            _INSERT_HOLD,
            {
                "item_id": row.item_id,
                "patron_id": row.patron_row_id,
                "branch_id": desk.id,
                "status": HoldStatus.ACTIVE,
                "placed_at": now,
                "pickup_by": pickup_by,
            },
        )
        if decision.outcome is Outcome.HOLD_SHELF and row.patron_row_id is not None:
            _queue_ready_notice(conn, row, desk, now, pickup_by)
    status = decision.item_status or row.item_status
    moved = conn.execute(
        _MOVE_ITEM,
        {
            "row_id": row.item_id,
            "seen_version": row.version,
            "new_status": status,
            "branch": desk.id,
        },
    )
    if _PIPELINE.get(id(conn.connection.driver_connection)) is None and moved.rowcount != 1:
        raise StaleDataError("items row changed by another desk")
    if decision.mark_request_returned and row.request_id is not None:
        conn.execute(_REQUEST_RETURNED, {"row_id": row.request_id})
    if decision.close_lending and row.lending_id is not None:
        conn.execute(_CLOSE_LENDING, {"row_id": row.lending_id, "at": now})
    conn.execute(
        _INSERT_AUDIT,
        {
            "at": now,
            "staff_id": staff,
            "username": actor.username,
            "branch_code": actor.branch_code,
            "workstation": actor.workstation,
            "action": "check_in",
            "entity": "item",
            "entity_id": row.item_id,
            "item_id": row.item_id,
            "patron_id": row.patron_row_id,
            "before": {"status": row.item_status.value, "branch_id": row.current_branch_id},
            "after": {
                "status": status.value,
                "branch_id": desk.id,
                "outcome": decision.outcome.value,
                "destination_id": decision.destination_id,
            },
            "detail": decision.outcome.value,
        },
    )
    return pickup_by


def _queue_ready_notice(
    conn: Connection, row: Row[Any], desk: Branch, now: datetime, pickup_by: date
) -> None:
    context = {
        "title": row.title,
        "barcode": row.item_barcode,
        "pickup_branch": desk.name,
        "pickup_by": pickup_by.isoformat(),
        "request_number": row.request_number if row.request_id is not None else "",
        "in_library_use_only": row.in_library_use_only,
    }
    conn.execute(
        _QUEUE_READY,
        {
            "notice_status": NoticeStatus.QUEUED,
            "recipient": row.email or "",
            "patron": row.patron_row_id,
            "request": row.request_id,
            "context": json.dumps(context, default=str, sort_keys=True),
            "key_prefix": f"{READY_FOR_PICKUP}:item{row.item_id}:hold",
            "at": now,
            "at2": now,
            "item": row.item_id,
        },
    )
