"""Check in: one scan, one transaction, one answer saying where the item goes.

The item's whole state comes back from one indexed query; `app.routing.decide` chooses the
outcome; this module applies it (loans, transits, hold shelf, notice, audit) and returns a
frozen `CheckInResult` the screen and the CLI only render.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from app import audit, library_settings, outbox
from app.actors import Actor
from app.checkin_wording import Facts, patron_label, word
from app.errors import NotFound
from app.routing import (
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
from app.runtime import Runtime
from app.scanning import InvalidScan, normalize_scan
from db.models import (
    AppliedScan,
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
    NotFoundScan,
    Patron,
    RequestStatus,
    Transit,
)

READY_FOR_PICKUP = "ready_for_pickup"
_LoadSelect = Select[
    Item, IllRequest, Patron, Loan, Patron, Transit, HoldShelfEntry, InHouseUse, IllRequest
]
_DEFAULT_SETTINGS = library_settings.LibrarySettings()
_BRANCHES = select(Branch)
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


@dataclass
class _Loaded:
    item: Item
    request: IllRequest | None
    patron: Patron | None  # the borrowing request's patron
    loan: Loan | None
    loan_patron: Patron | None
    transit: Transit | None
    hold: HoldShelfEntry | None
    use: InHouseUse | None
    lending: IllRequest | None


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
    key for this scan) is recorded in the same transaction, so if the connection breaks
    after the commit, replaying the scan from the offline journal applies nothing twice.
    """
    scan = normalize_scan(raw)
    now = rt.clock.now()
    if isinstance(scan, InvalidScan):
        return _refused(scan, now)
    wait = False
    for attempt in (1, 2):
        try:
            with rt.db.transaction() as session:
                result = _check_in(
                    session, rt, actor, scan.barcode, frozenset(auto_print), wait=wait
                )
                if idempotency_key is not None:
                    session.add(
                        AppliedScan(
                            idempotency_key=idempotency_key,
                            applied_at=now,
                            result=result.outcome.value,
                        )
                    )
                return result
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


def check_in_within(
    session: Session, rt: Runtime, actor: Actor, raw: str, *, auto_print: Collection[str] = ()
) -> CheckInResult:
    """Check in inside the caller's transaction, for work that records more in the same one
    (replaying scans made offline). A race lost to another desk raises to the caller.
    """
    scan = normalize_scan(raw)
    if isinstance(scan, InvalidScan):
        return _refused(scan, rt.clock.now())
    return _check_in(session, rt, actor, scan.barcode, frozenset(auto_print), wait=True)


def _refused(scan: InvalidScan, now: datetime) -> CheckInResult:
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
    branches = {b.id: b for b in session.scalars(_BRANCHES)}
    desk_branch = next((b for b in branches.values() if b.code == actor.branch_code), None)
    if desk_branch is None:
        raise NotFound(f"There is no branch '{actor.branch_code}'. Sign in at an existing branch.")
    office = next((b for b in sorted(branches.values(), key=lambda b: b.id) if b.ill_office), None)
    if office is None:
        raise NotFound("No branch is marked as the ILL office. An administrator sets one.")
    located = branches.get(office.location_id) if office.location_id else None
    office_at = located.code if located else None

    loaded = _load(session, barcode, wait)
    by_lender_barcode = False
    if loaded is None:
        strap = session.scalar(_BY_LENDER_BARCODE, {"barcode": barcode})
        if strap is not None:
            loaded = _load(session, strap, wait)
            by_lender_barcode = loaded is not None
    if loaded is None:
        session.add(
            NotFoundScan(at=now, barcode=barcode, branch_id=desk_branch.id, staff_id=_staff(actor))
        )
        wording = word(
            Outcome.NOT_FOUND, Outcome.NOT_FOUND, Facts(office=office, office_at=office_at)
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

    decision = decide(_state(loaded), Desk(desk_branch.id, office.id), today)
    shows_patron = decision.routing in (
        Outcome.HOLD_SHELF,
        Outcome.IN_HOUSE_USE_RETURNED,
    ) or decision.outcome in (Outcome.ON_HOLD_ELSEWHERE,)
    needs_settings = shows_patron or decision.place_hold
    settings = library_settings.load(session) if needs_settings else _DEFAULT_SETTINGS
    pickup_by = _apply(session, loaded, decision, actor, desk_branch, now, today, settings)
    item, request = loaded.item, loaded.request
    if pickup_by is None and loaded.hold is not None:
        pickup_by = loaded.hold.pickup_by
    destination = branches.get(decision.destination_id) if decision.destination_id else None
    patron = loaded.patron if shows_patron else None
    facts = Facts(
        office=office,
        office_at=office_at,
        desk=desk_branch,
        destination=destination,
        home=branches.get(item.home_branch_id),
        patron=patron_label(patron, settings.patron_display) if patron else None,
        patron_id=patron.patron_id if patron else None,
        pickup_by=pickup_by,
        request=request,
        lending=loaded.lending,
        in_library_use_only=item.in_library_use_only,
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
        patron_id=patron.patron_id if patron else None,
        patron_name=facts.patron,
        title=item.title,
        item_barcode=item.barcode,
        request_number=request.request_number if request else None,
        pickup_by=pickup_by if patron is not None else None,
        due_date=item.lender_due_date,
        slip_kind=slip,
        changed=decision.changes_state,
    )
    auto = slip is not None and decision.changes_state and decision.routing.value in auto_print
    return replace(result, print_slip=auto)


def _staff(actor: Actor) -> int | None:
    return actor.staff_id or None


def _load_statement() -> _LoadSelect:
    """The item and everything open about it, in one query over indexed columns.

    Built once: making aliases and joins costs more than running the query.
    """
    request = aliased(IllRequest)
    lending = aliased(IllRequest)
    patron = aliased(Patron)
    loan_patron = aliased(Patron)
    return (
        select(
            Item, request, patron, Loan, loan_patron, Transit, HoldShelfEntry, InHouseUse, lending
        )
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
        .where(Item.barcode == bindparam("barcode"))
        .order_by(lending.id.desc())
        .limit(1)
    )


_LOAD_STATE = _load_statement()
# NOWAIT: the usual, uncontended scan locks and reads in one statement. After waiting for
# another desk, the joined rows of a FOR UPDATE query would be the ones from before that
# desk's commit, so a scan that had to wait locks the item alone first, then reads afresh.
_LOAD = _LOAD_STATE.with_for_update(of=Item, nowait=True)
_LOAD_LOCKED = _LOAD_STATE.with_for_update(of=Item)
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


def _load(session: Session, barcode: str, wait: bool) -> _Loaded | None:
    if wait:
        session.execute(_LOCK, {"barcode": barcode}).all()
    row = session.execute(_LOAD_LOCKED if wait else _LOAD, {"barcode": barcode}).first()
    if row is None:
        return None
    return _Loaded(*row)


def _state(loaded: _Loaded) -> ItemState:
    item, request, transit, hold = loaded.item, loaded.request, loaded.transit, loaded.hold
    return ItemState(
        kind=item.kind,
        status=item.status,
        home_branch_id=item.home_branch_id,
        has_request=request is not None,
        request_status=request.status if request else None,
        pickup_branch_id=request.pickup_branch_id if request else None,
        open_loan=loaded.loan is not None,
        loan_to_ill_account=bool(loaded.loan_patron and loaded.loan_patron.is_ill_dummy),
        transit_from_id=transit.from_branch_id if transit else None,
        transit_to_id=transit.to_branch_id if transit else None,
        transit_reason=transit.reason if transit else None,
        hold_branch_id=hold.branch_id if hold else None,
        hold_pickup_by=hold.pickup_by if hold else None,
        in_house_use=loaded.use is not None,
        lending_status=loaded.lending.status if loaded.lending else None,
    )


def pickup_by_date(today: date, pickup_days: int, lender_due_date: date | None) -> date:
    """Today plus the library's pickup days, never past the lender's due date (nor today)."""
    last = today + timedelta(days=max(pickup_days, 0))
    if lender_due_date is not None and lender_due_date < last:
        last = max(lender_due_date, today)
    return last


def _apply(
    session: Session,
    loaded: _Loaded,
    decision: Decision,
    actor: Actor,
    desk: Branch,
    now: datetime,
    today: date,
    settings: library_settings.LibrarySettings,
) -> date | None:
    """Carry out the decision; returns the pickup-by date of a new hold-shelf entry."""
    if not decision.changes_state:
        return None
    item = loaded.item
    before = {"status": item.status.value, "branch_id": item.current_branch_id}
    staff = _staff(actor)
    if decision.receive_transit and loaded.transit is not None:
        loaded.transit.received_at = now
        loaded.transit.received_by_id = staff
    if decision.end_loan and loaded.loan is not None:
        loaded.loan.returned_at = now
        loaded.loan.returned_branch_id = desk.id
    if decision.end_in_house_use and loaded.use is not None:
        loaded.use.ended_at = now
    if decision.expire_hold and loaded.hold is not None:
        loaded.hold.status = HoldStatus.EXPIRED
        loaded.hold.ended_at = now
    if decision.receive_transit and decision.start_transit is not None:
        session.flush()  # close the open transit before the new one meets the one-open index
    if decision.start_transit is not None and decision.destination_id is not None:
        session.add(
            Transit(
                item_id=item.id,
                from_branch_id=desk.id,
                to_branch_id=decision.destination_id,
                reason=decision.start_transit,
                started_at=now,
                started_by_id=staff,
            )
        )
    pickup_by: date | None = None
    if decision.place_hold:
        pickup_by = pickup_by_date(today, settings.pickup_days, item.lender_due_date)
        hold = HoldShelfEntry(
            item_id=item.id,
            patron_id=loaded.patron.id if loaded.patron else None,
            branch_id=desk.id,
            status=HoldStatus.ACTIVE,
            placed_at=now,
            pickup_by=pickup_by,
        )
        session.add(hold)
        session.flush()
        if decision.outcome is Outcome.HOLD_SHELF and loaded.patron is not None:
            _queue_ready_notice(session, loaded, hold, desk, now)
    if decision.item_status is not None:
        item.status = decision.item_status
    item.current_branch_id = desk.id
    flag_modified(item, "current_branch_id")  # always bump the version: other desks must see it
    if decision.mark_request_returned and loaded.request is not None:
        loaded.request.status = RequestStatus.RETURNED
    if decision.close_lending and loaded.lending is not None:
        loaded.lending.status = RequestStatus.CLOSED
        loaded.lending.closed_at = now
    audit.record(
        session,
        actor,
        "check_in",
        at=now,
        entity="item",
        entity_id=item.id,
        item_id=item.id,
        patron_id=loaded.patron.id if loaded.patron else None,
        before=before,
        after={
            "status": item.status.value,
            "branch_id": desk.id,
            "outcome": decision.outcome.value,
            "destination_id": decision.destination_id,
        },
        detail=decision.outcome.value,
    )
    return pickup_by


def _queue_ready_notice(
    session: Session, loaded: _Loaded, hold: HoldShelfEntry, desk: Branch, now: datetime
) -> None:
    item, request = loaded.item, loaded.request
    outbox.queue_notice(
        session,
        READY_FOR_PICKUP,
        at=now,
        patron=loaded.patron,
        request_id=request.id if request else None,
        context={
            "title": item.title,
            "barcode": item.barcode,
            "pickup_branch": desk.name,
            "pickup_by": hold.pickup_by.isoformat(),
            "request_number": request.request_number if request else "",
            "in_library_use_only": item.in_library_use_only,
        },
        dedupe_key=f"{READY_FOR_PICKUP}:item{item.id}:hold{hold.id}",
    )
