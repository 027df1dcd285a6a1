"""Patron privacy by default: anonymising finished loans, and naming patrons sparingly.

Library records are confidential, and a college's circulation records are education
records. Once a loan has been over for the retention period (the item returned and every
charge for it removed), the link to the patron is cut from the loan and the records around
it; the title, dates, lender and request number stay for statistics and the ILL copyright
record. Charges keep their patron: they are the bursar's financial record.

The audit trail keeps every event, but an anonymised loan's events lose the patron too:
otherwise a search of the trail by patron would still list the loan. The event stays (who
did what, when, to which item); the patron reference is cleared, and the patron's campus
ID, barcode, e-mail and name are replaced by "[patron]" in its detail (a note typed at
check-out, say). Notice events lose their before/after, which hold the message and the
address. Charge events keep their patron, as charges do. This is the one change the
application ever makes to an audit event. Searching the trail by patron is limited to the
ILL office and administrators, and every such search is itself audited (audit_search).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, case, func, null, or_, select, update
from sqlalchemy.orm import Session

from app.library import library_settings
from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.progress import Progress, no_progress
from app.library.runtime import Runtime
from app.records import audit
from db.bulk import Pacing, any_of, plan_for_these_values
from db.models import (
    AuditEvent,
    Charge,
    DueDateDiscrepancy,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    InHouseUse,
    Item,
    Loan,
    MissingPiece,
    Notice,
    NoticeStatus,
    Patron,
    RequestStatus,
    Role,
)

# Who a scheduled or command-line run is recorded as when no staff member started it.
log = logging.getLogger(__name__)
SYSTEM_ACTOR = Actor(0, "system", "Scheduled privacy run", Role.DESK, "", "")


@dataclass(frozen=True)
class AnonymisationReport:
    ran_at: datetime
    retention_days: int
    cutoff: datetime  # loans finished on or before this moment were due for anonymising
    loans: int
    hold_entries: int
    in_house_uses: int
    discrepancies: int
    requests: int
    notices: int
    audit_events: int  # events of the anonymised loans that no longer name the patron
    kept_for_open_charges: int  # returned long ago, but a charge is still on the account
    waiting_after_charges: int  # charges removed too recently
    stopped: bool = False  # asked to stop between batches: the next run does the rest
    missing_piece_notes: int = 0  # cleared missing-piece flags whose notes named the patron


@dataclass
class _Counts:
    loans: int = 0
    holds: int = 0
    uses: int = 0
    discrepancies: int = 0
    requests: int = 0
    notices: int = 0
    events: int = 0
    kept: int = 0
    waiting: int = 0
    piece_notes: int = 0

    def add(self, other: _Counts) -> None:
        for name in vars(other):
            setattr(self, name, getattr(self, name) + getattr(other, name))


# Loans per transaction: a few statements, well under half a second of lock. SQLite locks the
# whole file for a write: its batches start smaller and grow while they hold the lock for less
# than `db.bulk.SQLITE_HOLD_TARGET` (a disk that flushes slowly keeps them small).
BATCH_LOANS = 5_000
SQLITE_BATCH_LOANS = 500


def anonymise_closed_loans(
    rt: Runtime,
    actor: Actor | None = None,
    *,
    batch: int | None = None,
    keep_going: Callable[[], bool] = lambda: True,
    progress: Progress = no_progress,
) -> AnonymisationReport:
    """Cut the patron link from loans finished more than `retention_days` ago.

    Any signed-in staff member may start it (the desk runs it daily): it only applies the
    library's own policy. Running it again changes nothing more. The work is done in
    transactions of `batch` loans, so a large backlog (a first run on years of history)
    neither holds locks for long nor loads every loan at once; `keep_going` is asked between
    batches, so a desk that closes stops after the batch in hand.
    """
    return _run_batches(rt, actor or SYSTEM_ACTOR, batch, keep_going, progress)


def run_if_due(
    rt: Runtime,
    actor: Actor | None = None,
    *,
    batch: int | None = None,
    keep_going: Callable[[], bool] = lambda: True,
    progress: Progress = no_progress,
) -> AnonymisationReport | None:
    """The daily run: at most once per library day, whichever desk gets there first.

    The day is claimed in its own transaction first, so two desks never both start it; a run
    cut short (the desk closed) is finished by the next day's run.
    """
    today = rt.clock.today().isoformat()
    with rt.db.transaction() as session:
        if library_settings.load(session).privacy_last_run == today:
            return None
        library_settings.save(session, privacy_last_run=today)
    return _run_batches(rt, actor or SYSTEM_ACTOR, batch, keep_going, progress)


def _run_batches(
    rt: Runtime, who: Actor, size: int | None, keep_going: Callable[[], bool], progress: Progress
) -> AnonymisationReport:
    batch = size or (SQLITE_BATCH_LOANS if rt.db.is_sqlite else BATCH_LOANS)
    now = rt.clock.now()
    after_id = 0
    stopped = False
    total = _Counts()
    with rt.db.reading() as session:
        _, cutoff = _retention(session, now)
        expected = int(
            session.scalar(
                select(func.count())
                .select_from(Loan)
                .where(
                    Loan.anonymised_at.is_(None),
                    Loan.patron_id.is_not(None),
                    Loan.returned_at.is_not(None),
                    Loan.returned_at <= cutoff,
                )
            )
            or 0
        )
    progress(0, expected)
    pacing = Pacing(rt.db.is_sqlite)
    while True:
        pacing.wait_turn()
        try:
            with rt.db.transaction() as session:
                plan_for_these_values(session)
                retention, cutoff = _retention(session, now)
                last_id, counts = _anonymise(session, now, cutoff, after_id, batch)
                if counts.loans:
                    _audit(session, who, now, retention, cutoff, counts.loans)
        finally:
            pacing.released()
        total.add(counts)
        progress(total.loans + total.kept + total.waiting, expected)
        if last_id is None:
            break
        if not keep_going():  # a closing desk (or Stop) ends it between batches
            stopped = True
            break
        after_id = last_id
        if size is None:
            batch = pacing.next_size(batch, SQLITE_BATCH_LOANS, BATCH_LOANS)
    return AnonymisationReport(
        ran_at=now,
        retention_days=retention,
        cutoff=cutoff,
        loans=total.loans,
        hold_entries=total.holds,
        in_house_uses=total.uses,
        discrepancies=total.discrepancies,
        requests=total.requests,
        notices=total.notices,
        audit_events=total.events,
        kept_for_open_charges=total.kept,
        waiting_after_charges=total.waiting,
        stopped=stopped,
        missing_piece_notes=total.piece_notes,
    )


def _audit(
    session: Session, actor: Actor, at: datetime, retention: int, cutoff: datetime, loans: int
) -> None:
    audit.record(
        session,
        actor,
        "privacy.anonymise",
        at=at,
        entity="loan",
        after={"loans": loans, "retention_days": retention, "cutoff": cutoff.isoformat()},
    )


def _retention(session: Session, now: datetime) -> tuple[int, datetime]:
    retention = library_settings.load(session).retention_days
    if retention < 0:
        raise InvalidInput(
            f"The library setting retention_days is {retention}; it must be 0 or more days."
        )
    return retention, now - timedelta(days=retention)


def _anonymise(
    session: Session, now: datetime, cutoff: datetime, after_id: int, batch: int
) -> tuple[int | None, _Counts]:
    """One batch of loans after `after_id`; returns the last id seen (None when done).

    Set-based: a handful of statements per batch whatever its size (the loans with their
    item and request, the charges of their patrons, then one UPDATE per table), so a first
    run over years of history goes at the database's speed.
    """
    counts = _Counts()
    rows = session.execute(
        select(
            Loan.id,
            Loan.item_id,
            Loan.patron_id,
            Item.request_id,
            IllRequest.request_number,
            IllRequest.patron_id,
            IllRequest.status,
        )
        .outerjoin(Item, Item.id == Loan.item_id)
        .outerjoin(IllRequest, IllRequest.id == Item.request_id)
        .where(
            Loan.id > after_id,
            Loan.anonymised_at.is_(None),
            Loan.patron_id.is_not(None),
            Loan.returned_at.is_not(None),
            Loan.returned_at <= cutoff,
        )
        .order_by(Loan.id)
        .limit(batch)
    ).all()
    if not rows:
        return None, counts
    last_id = rows[-1][0] if len(rows) == batch else None
    patrons = sorted({int(row[2] or 0) for row in rows})
    items = sorted({row[1] for row in rows})
    requests = sorted({row[3] for row in rows if row[3] is not None})
    # (patron, "item" or "request", id) -> removed_at of each charge for it (None: open)
    charges: dict[tuple[int, str, int], list[datetime | None]] = {}
    for c_patron, c_item, c_request, removed_at in session.execute(
        select(Charge.patron_id, Charge.item_id, Charge.request_id, Charge.removed_at).where(
            any_of(Charge.patron_id, patrons),
            or_(any_of(Charge.item_id, items), any_of(Charge.request_id, requests)),
        )
    ):
        if c_item is not None:
            charges.setdefault((c_patron, "item", c_item), []).append(removed_at)
        if c_request is not None:
            charges.setdefault((c_patron, "request", c_request), []).append(removed_at)
    done: list[tuple[int, int, int, int | None, str | None, bool]] = []
    for loan_id, item_id, loan_patron, request_id, number, request_patron, status in rows:
        patron_id = int(loan_patron or 0)
        linked = charges.get((patron_id, "item", item_id), [])
        if request_id is not None:
            linked = linked + charges.get((patron_id, "request", request_id), [])
        if any(removed is None for removed in linked):
            counts.kept += 1
            continue
        if linked and max(r for r in linked if r is not None) > cutoff:
            counts.waiting += 1
            continue
        closed = request_patron == patron_id and status is RequestStatus.CLOSED
        done.append((loan_id, item_id, patron_id, request_id, number, closed))
    if not done:
        return last_id, counts
    loan_ids = [d[0] for d in done]
    pairs = list({(d[1], d[2]) for d in done})
    # Before the loans lose their patron: the events are told apart by the loans they follow.
    events = _loan_events(session, done, cutoff)
    counts.loans = _rowcount(
        session,
        update(Loan).where(any_of(Loan.id, loan_ids)).values(patron_id=None, anonymised_at=now),
    )
    counts.holds = _unlink_pairs(
        session, HoldShelfEntry, pairs, HoldShelfEntry.status != HoldStatus.ACTIVE
    )
    counts.uses = _unlink_pairs(session, InHouseUse, pairs, InHouseUse.ended_at.is_not(None))
    discrepancies = _discrepancies(session, done)
    counts.discrepancies = len(discrepancies)
    closed_requests = [d[3] for d in done if d[5] and d[3] is not None]
    if closed_requests:
        counts.requests = _rowcount(
            session,
            update(IllRequest)
            .where(any_of(IllRequest.id, closed_requests), IllRequest.patron_id.is_not(None))
            .values(patron_id=None),
        )
    notices = _notices(session, done)
    counts.notices = len(notices)
    counts.piece_notes = _missing_piece_notes(session, done, cutoff)
    owned = {
        "ill_request": closed_requests,
        "due_date_discrepancy": discrepancies,
        "notice": notices,
    }
    counts.events = _forget_patron_in_events(session, events, owned, done, cutoff)
    return last_id, counts


def _unlink_pairs(
    session: Session,
    model: type[HoldShelfEntry] | type[InHouseUse],
    pairs: list[tuple[int, int]],
    finished: ColumnElement[bool],
) -> int:
    """Clear the patron on finished rows of the same item and patron as an anonymised loan."""
    wanted = set(pairs)
    found = session.execute(
        select(model.id, model.item_id, model.patron_id).where(
            any_of(model.item_id, sorted({p[0] for p in pairs})),
            any_of(model.patron_id, sorted({p[1] for p in pairs})),
            finished,
        )
    ).all()
    ids = [row_id for row_id, item_id, patron_id in found if (item_id, patron_id) in wanted]
    if not ids:
        return 0
    return _rowcount(session, update(model).where(any_of(model.id, ids)).values(patron_id=None))


def _rowcount(session: Session, statement: Any) -> int:
    result = cast(
        CursorResult[Any],
        session.execute(statement.execution_options(synchronize_session=False)),
    )
    return int(result.rowcount or 0)


def _discrepancies(
    session: Session, done: list[tuple[int, int, int, int | None, str | None, bool]]
) -> list[int]:
    """Discrepancy rows of these loans (or their requests) that still named the patron."""
    by_loan = {d[0]: d[2] for d in done}
    by_number: dict[str, set[int]] = {}
    for d in done:
        if d[4] is not None:
            by_number.setdefault(d[4], set()).add(d[2])
    found = session.execute(
        select(
            DueDateDiscrepancy.id,
            DueDateDiscrepancy.loan_id,
            DueDateDiscrepancy.request_number,
            DueDateDiscrepancy.patron_id,
        ).where(
            or_(
                any_of(DueDateDiscrepancy.loan_id, list(by_loan)),
                any_of(DueDateDiscrepancy.request_number, list(by_number)),
            ),
            DueDateDiscrepancy.patron_campus_id != "",
        )
    ).all()
    ids = []
    for row_id, loan_id, number, patron_id in found:
        patrons = set(by_number.get(number, set()))
        if loan_id in by_loan:
            patrons.add(by_loan[loan_id])
        if patrons and (patron_id is None or patron_id in patrons):
            ids.append(row_id)
    if ids:
        _rowcount(
            session,
            update(DueDateDiscrepancy)
            .where(any_of(DueDateDiscrepancy.id, ids))
            .values(patron_id=None, patron_campus_id=""),
        )
    return ids


def _missing_piece_notes(
    session: Session,
    done: list[tuple[int, int, int, int | None, str | None, bool]],
    cutoff: datetime,
) -> int:
    """Cleared missing-piece flags of these loans' items: the notes typed on them (at the
    desk, by the office) lose the patron's name and identifiers, as the loan's events do.
    A flag still open is the office's work in hand and stays as typed. Flags are rare: a
    batch usually finds none and writes nothing."""
    patron_of = {d[1]: d[2] for d in done}
    flags = session.execute(
        select(MissingPiece.id, MissingPiece.item_id).where(
            any_of(MissingPiece.item_id, sorted(patron_of)),
            MissingPiece.at <= cutoff,
            MissingPiece.cleared_at.is_not(None),
        )
    ).all()
    changed = 0
    for flag_id, item_id in flags:
        patron = patron_of[item_id]
        changed += _rowcount(
            session,
            update(MissingPiece)
            .where(MissingPiece.id == flag_id)
            .values(
                note=_without_patron(MissingPiece.note, patron),
                clear_note=_without_patron(MissingPiece.clear_note, patron),
            ),
        )
    return changed


def _notices(
    session: Session, done: list[tuple[int, int, int, int | None, str | None, bool]]
) -> list[int]:
    """Sent or held notices about these loans (or their closed requests) to the patron."""
    by_loan = {d[0]: d[2] for d in done}
    by_request: dict[int, set[int]] = {}
    for d in done:
        if d[5] and d[3] is not None:
            by_request.setdefault(d[3], set()).add(d[2])
    link: ColumnElement[bool] = any_of(Notice.loan_id, list(by_loan))
    if by_request:
        link = or_(link, any_of(Notice.request_id, list(by_request)))
    found = session.execute(
        select(Notice.id, Notice.loan_id, Notice.request_id, Notice.patron_id).where(
            link,
            Notice.patron_id.is_not(None),
            Notice.status.in_((NoticeStatus.SENT, NoticeStatus.HELD)),
        )
    ).all()
    ids = [
        row_id
        for row_id, loan_id, request_id, patron_id in found
        if (loan_id is not None and by_loan.get(loan_id) == patron_id)
        or (request_id is not None and patron_id in by_request.get(request_id, set()))
    ]
    if ids:
        _rowcount(
            session,
            update(Notice)
            .where(any_of(Notice.id, ids))
            .values(patron_id=None, recipient="", body="", context="{}"),
        )
    return ids


# (event id, item id, patron id, when, entity, entity id) of an audit event naming a patron
_Event = tuple[int, int | None, int, datetime, str, int | None]


def _loan_events(
    session: Session,
    done: list[tuple[int, int, int, int | None, str | None, bool]],
    cutoff: datetime,
) -> tuple[list[_Event], set[int]]:
    """The audit events of the batch's patrons at or before `cutoff`, and of them the ids
    that belong to a loan being anonymised.

    At most two statements whatever the batch size. An event about an item and its patron belongs
    to the loan of that item and patron checked out last before it (events before the first
    check-out, such as the hold shelf, to the first): so a later loan of the same item to
    the same patron, or an earlier one kept for an open charge, keeps its events.
    """
    patrons = sorted({d[2] for d in done})
    items = sorted({d[1] for d in done})
    found: list[_Event] = [
        (row[0], row[1], int(row[2] or 0), row[3], row[4], row[5])
        for row in session.execute(
            select(
                AuditEvent.id,
                AuditEvent.item_id,
                AuditEvent.patron_id,
                AuditEvent.at,
                AuditEvent.entity,
                AuditEvent.entity_id,
            ).where(
                any_of(AuditEvent.patron_id, patrons),
                AuditEvent.at <= cutoff,
                AuditEvent.entity != "charge",  # charges keep their patron
            )
        )
    ]
    # Every loan of those items (with events) to these patrons still naming them, and when
    # it began; no events about the items, no second statement.
    begun: dict[tuple[int, int], list[tuple[datetime, bool]]] = {}
    being_done = {d[0] for d in done}
    in_batch = set(items)
    about = sorted({e[1] for e in found if e[1] is not None and e[1] in in_batch})
    loans_of_items = (
        session.execute(
            select(Loan.id, Loan.item_id, Loan.patron_id, Loan.checked_out_at).where(
                any_of(Loan.item_id, about), any_of(Loan.patron_id, patrons)
            )
        ).all()
        if about
        else []
    )
    for loan_id, loan_item, loan_patron, began in loans_of_items:
        pair = (loan_item, int(loan_patron or 0))
        begun.setdefault(pair, []).append((began, loan_id in being_done))
    for loans in begun.values():
        loans.sort()
    owned_by_loans = set()
    for event_id, item_id, patron_id, at, _, _ in found:
        loans = begun.get((item_id, patron_id), []) if item_id is not None else []
        if not loans:
            continue
        owner = loans[0]
        for loan in loans:
            if loan[0] <= at:
                owner = loan
        if owner[1]:
            owned_by_loans.add(event_id)
    return found, owned_by_loans


def _forget_patron_in_events(
    session: Session,
    events: tuple[list[_Event], set[int]],
    owned: dict[str, list[int]],
    done: list[tuple[int, int, int, int | None, str | None, bool]],
    cutoff: datetime,
) -> int:
    """Clear the patron from the anonymised loans' events: one UPDATE for the batch.

    The loan's own events (found by `_loan_events`), and those of the closed request,
    discrepancy rows and notices anonymised with it. The patron's identifiers are replaced
    in the detail inside the same statement (a correlated subquery), so no row is written
    on its own.
    """
    found, ids = events
    patrons = {d[2] for d in done}
    for event_id, _, patron_id, _, entity, entity_id in found:
        if entity_id is not None and entity_id in owned.get(entity, ()) and patron_id in patrons:
            ids.add(event_id)
    if not ids:
        return 0
    return _rowcount(
        session,
        update(AuditEvent)
        .where(any_of(AuditEvent.id, sorted(ids)), AuditEvent.at <= cutoff)
        .values(
            patron_id=None,
            detail=_without_patron(AuditEvent.detail, AuditEvent.patron_id),
            before=case((AuditEvent.entity == "notice", null()), else_=AuditEvent.before),
            after=case((AuditEvent.entity == "notice", null()), else_=AuditEvent.after),
        ),
    )


PATRON_SHOWN_AS = "[patron]"


def _without_patron(text: Any, patron: Any) -> Any:
    """`text` (a column) with the patron's identifiers and name replaced, per row in SQL;
    `patron` is the patron's id (a column or a value). Unchanged when no patron is found.

    Exact, case-sensitive matches: the full name both ways round, then the campus ID,
    barcode and e-mail, then the last name on its own.
    """
    replaced: Any = text
    full = Patron.first_name + " " + Patron.last_name
    reverse = Patron.last_name + ", " + Patron.first_name
    for value in (full, reverse, Patron.patron_id, Patron.barcode, Patron.email, Patron.last_name):
        replaced = func.replace(replaced, func.coalesce(value, ""), PATRON_SHOWN_AS)
    return func.coalesce(select(replaced).where(Patron.id == patron).scalar_subquery(), text)
