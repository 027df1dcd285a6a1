"""Patron privacy by default: anonymising finished loans, and naming patrons sparingly.

Library records are confidential, and a college's circulation records are education
records. Once a loan has been over for the retention period (the item returned and every
charge for it removed), the link to the patron is cut from the loan and the records around
it; the title, dates, lender and request number stay for statistics and the ILL copyright
record. Charges keep their patron: they are the bursar's financial record.

The audit trail is append-only and is not rewritten here; searching it is limited to the
ILL office and administrators, and every such search by patron is itself audited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.library import library_settings
from app.library.actors import Actor
from app.library.errors import InvalidInput, ServiceError
from app.library.runtime import Runtime
from app.records import audit
from db.models import (
    Charge,
    DueDateDiscrepancy,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    InHouseUse,
    Item,
    Loan,
    Notice,
    NoticeStatus,
    RequestStatus,
    Role,
)

# Who a scheduled or command-line run is recorded as when no staff member started it.
log = logging.getLogger(__name__)
SYSTEM_ACTOR = Actor(0, "system", "Scheduled privacy run", Role.DESK, "", "")
DISPLAY_MODES = ("surname_initial", "surname_last4", "last4", "full_name")


class NamedPatron(Protocol):
    @property
    def first_name(self) -> str: ...

    @property
    def last_name(self) -> str: ...

    @property
    def patron_id(self) -> str: ...


def patron_display(patron: NamedPatron, mode: str = "surname_initial") -> str:
    """How a strap, slip or list names a patron: as little as the task needs.

    Modes: "surname_initial" (default: "Müller, R."), "surname_last4" ("Müller (3456)"),
    "last4" ("ID …3456"), "full_name". An unknown mode falls back to the default.
    Never a phone number, e-mail address or full campus ID.
    """
    surname = patron.last_name.strip()
    first = patron.first_name.strip()
    digits = "".join(c for c in patron.patron_id if c.isdigit())
    last4 = digits[-4:] if len(digits) >= 4 else ""
    if mode == "full_name":
        return f"{first} {surname}".strip()
    if mode == "last4" and last4:
        return f"ID …{last4}"
    if mode == "surname_last4" and last4:
        return f"{surname} ({last4})" if surname else f"ID …{last4}"
    if not first:
        return surname
    return f"{surname}, {first[0]}." if surname else f"{first[0]}."


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
    kept_for_open_charges: int  # returned long ago, but a charge is still on the account
    waiting_after_charges: int  # charges removed too recently


@dataclass
class _Counts:
    loans: int = 0
    holds: int = 0
    uses: int = 0
    discrepancies: int = 0
    requests: int = 0
    notices: int = 0
    kept: int = 0
    waiting: int = 0

    def add(self, other: _Counts) -> None:
        for name in vars(other):
            setattr(self, name, getattr(self, name) + getattr(other, name))


BATCH_LOANS = 500  # loans per transaction: bounded memory and short locks on a big backlog


def anonymise_closed_loans(
    rt: Runtime,
    actor: Actor | None = None,
    *,
    batch: int = BATCH_LOANS,
    keep_going: Callable[[], bool] = lambda: True,
) -> AnonymisationReport:
    """Cut the patron link from loans finished more than `retention_days` ago.

    Any signed-in staff member may start it (the desk runs it daily): it only applies the
    library's own policy. Running it again changes nothing more. The work is done in
    transactions of `batch` loans, so a large backlog (a first run on years of history)
    neither holds locks for long nor loads every loan at once; `keep_going` is asked between
    batches, so a desk that closes stops after the batch in hand.
    """
    return _run_batches(rt, actor or SYSTEM_ACTOR, batch, keep_going)


def run_if_due(
    rt: Runtime,
    actor: Actor | None = None,
    *,
    batch: int = BATCH_LOANS,
    keep_going: Callable[[], bool] = lambda: True,
) -> AnonymisationReport | None:
    """The daily run: at most once per library day, whichever desk gets there first.

    The day is claimed in its own transaction first, so two desks never both start it; a run
    cut short (the desk closed) is finished by the next day's run. The same run keeps the
    closures calendar stocked with this year's and next year's public holidays.
    """
    today = rt.clock.today().isoformat()
    with rt.db.transaction() as session:
        if library_settings.load(session).privacy_last_run == today:
            return None
        library_settings.save(session, privacy_last_run=today)
    _renew_public_holidays(rt)
    return _run_batches(rt, actor or SYSTEM_ACTOR, batch, keep_going)


def _renew_public_holidays(rt: Runtime) -> None:
    """A holiday problem (an unknown holiday country) is logged; anonymising still runs."""
    from app.borrowing.due_dates import renew_public_holidays

    try:
        renewal = renew_public_holidays(rt)
    except ServiceError as exc:
        log.warning("public holidays not renewed: %s", exc.message)
        return
    if renewal is not None:
        log.info("public holidays: %s", renewal.message)


def _run_batches(
    rt: Runtime, who: Actor, batch: int, keep_going: Callable[[], bool]
) -> AnonymisationReport:
    now = rt.clock.now()
    after_id = 0
    total = _Counts()
    while True:
        with rt.db.transaction() as session:
            retention, cutoff = _retention(session, now)
            last_id, counts = _anonymise(session, now, cutoff, after_id, batch)
            if counts.loans:
                _audit(session, who, now, retention, cutoff, counts.loans)
        total.add(counts)
        if last_id is None or not keep_going():  # a closing desk stops between batches
            break
        after_id = last_id
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
        kept_for_open_charges=total.kept,
        waiting_after_charges=total.waiting,
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
    """One batch of loans after `after_id`; returns the last id seen (None when done)."""
    counts = _Counts()
    loans = session.scalars(
        select(Loan)
        .where(
            Loan.id > after_id,
            Loan.returned_at.is_not(None),
            Loan.returned_at <= cutoff,
            Loan.anonymised_at.is_(None),
            Loan.patron_id.is_not(None),
        )
        .order_by(Loan.id)
        .limit(batch)
    ).all()
    for loan in loans:
        _anonymise_loan(session, loan, now, cutoff, counts)
    session.flush()
    return (loans[-1].id if len(loans) == batch else None), counts


def _anonymise_loan(
    session: Session, loan: Loan, now: datetime, cutoff: datetime, counts: _Counts
) -> None:
    patron_id = loan.patron_id
    item = session.get(Item, loan.item_id)
    request_id = item.request_id if item is not None else None
    charge_link = Charge.item_id == loan.item_id
    if request_id is not None:
        charge_link = or_(charge_link, Charge.request_id == request_id)
    open_charge = session.scalar(
        select(Charge.id)
        .where(Charge.patron_id == patron_id, charge_link, Charge.removed_at.is_(None))
        .limit(1)
    )
    if open_charge is not None:
        counts.kept += 1
        return
    last_removed = session.scalar(
        select(func.max(Charge.removed_at)).where(Charge.patron_id == patron_id, charge_link)
    )
    if last_removed is not None and last_removed > cutoff:
        counts.waiting += 1
        return

    loan.patron_id = None
    loan.anonymised_at = now
    counts.loans += 1
    for entry in session.scalars(
        select(HoldShelfEntry).where(
            HoldShelfEntry.item_id == loan.item_id,
            HoldShelfEntry.patron_id == patron_id,
            HoldShelfEntry.status != HoldStatus.ACTIVE,
        )
    ):
        entry.patron_id = None
        counts.holds += 1
    for use in session.scalars(
        select(InHouseUse).where(
            InHouseUse.item_id == loan.item_id,
            InHouseUse.patron_id == patron_id,
            InHouseUse.ended_at.is_not(None),
        )
    ):
        use.patron_id = None
        counts.uses += 1
    request = session.get(IllRequest, request_id) if request_id is not None else None
    same_request = (
        DueDateDiscrepancy.request_number == request.request_number
        if request is not None
        else DueDateDiscrepancy.loan_id == loan.id
    )
    for row in session.scalars(
        select(DueDateDiscrepancy).where(
            or_(DueDateDiscrepancy.loan_id == loan.id, same_request),
            or_(DueDateDiscrepancy.patron_id == patron_id, DueDateDiscrepancy.patron_id.is_(None)),
            DueDateDiscrepancy.patron_campus_id != "",
        )
    ):
        row.patron_id = None
        row.patron_campus_id = ""
        counts.discrepancies += 1
    request_closed = (
        request is not None
        and request.patron_id == patron_id
        and request.status is RequestStatus.CLOSED
    )
    if request is not None and request_closed:
        request.patron_id = None
        counts.requests += 1
    notice_link = Notice.loan_id == loan.id
    if request_closed and request_id is not None:
        notice_link = or_(notice_link, Notice.request_id == request_id)
    for notice in session.scalars(
        select(Notice).where(
            notice_link,
            Notice.patron_id == patron_id,
            Notice.status.in_((NoticeStatus.SENT, NoticeStatus.HELD)),
        )
    ):
        notice.patron_id = None
        notice.recipient = ""
        notice.body = ""
        notice.context = "{}"
        counts.notices += 1
