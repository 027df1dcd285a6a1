"""The notice outbox: queue the daily reminders, render, check addresses, send over SMTP.

A notice moves QUEUED -> (rendered) -> SENT, or FAILED (retried with back-off), or HELD
(a person must act: no institutional address, a manual notice waiting for review, or a
delivery whose outcome is unknown). Patron notices go only to the patron's address at
`institutional_email_domain`; an empty setting accepts any address.

Nothing sent twice: before talking to the server, a notice is claimed in its own committed
transaction (status HELD, reason "delivery uncertain ..."), and only the server's answer
turns it into SENT or FAILED. If the program or database connection dies between the
server accepting the message and that answer being recorded, the notice stays HELD with
that reason, in plain view, instead of being sent again automatically: a duplicate e-mail
cannot be unsent, while a held one costs a click. The claim is a conditional UPDATE, so
two desks running the outbox at once never both send one notice.

The daily run queues a "due soon" notice once per loan and due date (the
`due_soon_days` before it) and an "overdue" notice at most once per loan and day, and then
no more often than `overdue_notice_every_days`; `Notice.dedupe_key` makes both a database
constraint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, cast

from sqlalchemy import CursorResult, Table, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.library import library_settings
from app.library.actors import Actor
from app.library.library_settings import LibrarySettings
from app.library.progress import KeepGoing, Progress, always, no_progress
from app.library.runtime import Runtime
from app.notices.holds_not_picked_up import queue_not_picked_up
from app.notices.mailer import (
    DeliveryFailed,
    Mailer,
    MailerNotConfigured,
    OutgoingMail,
    SmtpMailer,
    smtp_config,
)
from app.notices.notice_content import address_problem, notice_context
from app.notices.templates import KINDS, render
from app.workstation.config import WorkstationSettings
from db.bulk import Pacing, any_of, insert_rows
from db.models import (
    Item,
    ItemKind,
    ItemStatus,
    Loan,
    Notice,
    NoticeStatus,
    Patron,
)

RETRY_BASE = timedelta(minutes=5)
RETRY_CAP = timedelta(hours=6)
MAX_ATTEMPTS = 10
REVIEW_REASON = "Manual notice: preview it, edit the wording if needed, then send it."
UNCERTAIN_PREFIX = "Delivery uncertain"
_SENDABLE = (NoticeStatus.QUEUED, NoticeStatus.FAILED)
NOTICES: Table = Notice.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class OutboxRun:
    queued_due_soon: int
    queued_overdue: int
    held: int  # newly held this run
    sent: int
    failed: int
    uncertain: int
    waiting: int  # still queued or failed after the run
    mail_problem: str  # why sending stopped or did not start, "" when it did not
    queued_not_picked_up: int = 0  # holds whose pickup-by date passed: "going back"
    stopped: bool = False  # asked to stop between batches: the next run carries on

    @property
    def message(self) -> str:
        unclaimed = (
            f", {self.queued_not_picked_up} not-picked-up" if self.queued_not_picked_up else ""
        )
        text = (
            f"Queued {self.queued_due_soon} due-soon{unclaimed} and {self.queued_overdue} "
            f"overdue notice(s). Sent {self.sent}, failed {self.failed}, held {self.held}"
            + (f", {self.uncertain} with uncertain delivery" if self.uncertain else "")
            + f"; {self.waiting} waiting."
        )
        if self.stopped:
            text += " Stopped before the end: the next run carries on from there."
        return f"{text} {self.mail_problem}" if self.mail_problem else text


# ---------------------------------------------------------------- the daily run


def run_daily(
    rt: Runtime,
    actor: Actor,
    settings: WorkstationSettings,
    progress: Progress = no_progress,
    keep_going: KeepGoing = always,
) -> OutboxRun:
    """`illdesk notices run` and the app's daily trigger: queue reminders, then send (with
    `keep_going` asked between batches of reminders and between notices sent)."""
    run = partial(run_outbox, rt, actor, progress=progress, keep_going=keep_going)
    try:
        config = smtp_config(settings)
    except MailerNotConfigured as exc:
        return run(None, mail_problem=exc.message)
    with SmtpMailer(config) as mailer:
        return run(mailer, sender_domain=config.sender.rpartition("@")[2])


def run_outbox(
    rt: Runtime,
    actor: Actor,
    mailer: Mailer | None,
    *,
    mail_problem: str = "",
    sender_domain: str = "",
    only_id: int | None = None,
    reminders: bool = True,
    progress: Progress = no_progress,
    keep_going: KeepGoing = always,
) -> OutboxRun:
    """Queue due-soon/overdue notices, render what is queued, and send what is due.

    Stopped (`keep_going` says no) while queueing reminders, it sends nothing this time: the
    day stays due, so the next run queues the rest (no reminder twice) and sends.
    """
    wanted = reminders and only_id is None
    unclaimed = held = sent = failed = uncertain = 0
    due_soon, overdue, stopped = (
        queue_reminders(rt, actor, progress, keep_going) if wanted else (0, 0, False)
    )
    if not stopped:
        unclaimed = queue_not_picked_up(rt, actor) if wanted else 0
        held = prepare_outbox(rt, actor)
    if mailer is not None and not stopped:
        outcome = send_due(
            rt, actor, mailer, sender_domain=sender_domain, only_id=only_id, keep_going=keep_going
        )
        sent, failed, uncertain, mail_problem = outcome
        if mail_problem == STOPPED_SENDING:
            stopped, mail_problem = True, ""
    with rt.db.reading() as session:
        waiting = int(
            session.scalar(
                select(func.count()).select_from(Notice).where(Notice.status.in_(_SENDABLE))
            )
            or 0
        )
    return OutboxRun(
        due_soon, overdue, held, sent, failed, uncertain, waiting, mail_problem, unclaimed, stopped
    )


REMINDER_BATCH = 2_000  # open loans per transaction of the daily run
STOPPED_SENDING = "Sending was stopped; the rest go with the next run."


def queue_reminders(
    rt: Runtime, actor: Actor, progress: Progress = no_progress, keep_going: KeepGoing = always
) -> tuple[int, int, bool]:
    """Queue today's due-soon and overdue notices; a second run the same day adds none.

    Set-based, a batch of loans per transaction: the loans with their item and patron in one
    read, the notices already queued for them in two more, then one INSERT. The dedupe keys
    make a batch safe to run twice, so a run stopped half way (`keep_going`, asked between
    batches; the day is then not marked done) loses nothing. Returns (due soon, overdue, stopped).
    """
    today, now = rt.clock.today(), rt.clock.now()
    with rt.db.reading() as session:
        settings = library_settings.load(session)
        loans = _open_ill_loans(session, today + timedelta(days=max(settings.due_soon_days, 0)))
    due_soon = overdue = 0
    progress(0, len(loans))
    pacing = Pacing(rt.db.is_sqlite)
    for start in range(0, len(loans), REMINDER_BATCH):
        if start and not keep_going():
            return due_soon, overdue, True
        batch = loans[start : start + REMINDER_BATCH]
        for attempt in (1, 2):
            pacing.wait_turn()
            try:
                with rt.db.transaction() as session:
                    soon, late = _queue_batch(session, batch, settings, today, now)
                break
            except IntegrityError:
                # Another desk queued the same notice at the same moment; its row now counts.
                if attempt == 2:
                    raise
            finally:
                pacing.released()
        due_soon, overdue = due_soon + soon, overdue + late
        progress(start + len(batch), len(loans))
    with rt.db.transaction() as session:
        library_settings.save(session, notices_last_run=today.isoformat())
    return due_soon, overdue, False


@dataclass(frozen=True)
class _OpenLoan:
    loan_id: int
    due_date: date
    title: str
    barcode: str
    request_id: int | None
    patron_id: int
    email: str


def _open_ill_loans(session: Session, soon_until: date) -> list[_OpenLoan]:
    """Open loans of borrowed items due by `soon_until` (or overdue), as plain rows."""
    rows = session.execute(
        select(
            Loan.id,
            Loan.due_date,
            Item.title,
            Item.barcode,
            Item.request_id,
            Patron.id,
            Patron.email,
        )
        .join(Item, Item.id == Loan.item_id)
        .join(Patron, Patron.id == Loan.patron_id)
        .where(
            Loan.returned_at.is_(None),
            Loan.due_date <= soon_until,
            Item.kind == ItemKind.TEMPORARY,
            Item.status != ItemStatus.LOST,
            Patron.is_ill_dummy.is_(False),
        )
        .order_by(Loan.id)
    ).all()
    return [_OpenLoan(*row) for row in rows]


def _queue_batch(
    session: Session,
    batch: list[_OpenLoan],
    settings: LibrarySettings,
    today: date,
    now: datetime,
) -> tuple[int, int]:
    every = max(settings.overdue_notice_every_days, 1)
    late_ids = [loan.loan_id for loan in batch if loan.due_date < today]
    last_overdue: dict[int, datetime] = {}
    if late_ids:
        for loan_id, last in session.execute(
            select(Notice.loan_id, func.max(Notice.created_at))
            .where(Notice.kind == "overdue", any_of(Notice.loan_id, late_ids))
            .group_by(Notice.loan_id)
        ):
            if loan_id is not None and last is not None:
                last_overdue[loan_id] = last
    wanted: list[tuple[str, str, _OpenLoan, dict[str, Any]]] = []
    for loan in batch:
        base = {"title": loan.title, "item_barcode": loan.barcode, "due_date": loan.due_date}
        if today < loan.due_date:
            key = f"due_soon:{loan.loan_id}:{loan.due_date.isoformat()}"
            context = {**base, "days_left": (loan.due_date - today).days}
            wanted.append(("due_soon", key, loan, context))
        elif loan.due_date < today:
            previous = last_overdue.get(loan.loan_id)
            if previous is not None and (today - previous.date()).days < every:
                continue
            key = f"overdue:{loan.loan_id}:{today.isoformat()}"
            context = {**base, "days_overdue": (today - loan.due_date).days}
            wanted.append(("overdue", key, loan, context))
    if not wanted:
        return 0, 0
    taken = set(
        session.scalars(
            select(Notice.dedupe_key).where(any_of(Notice.dedupe_key, [w[1] for w in wanted]))
        )
    )
    rows = [
        {
            "kind": kind,
            "status": NoticeStatus.QUEUED,
            "recipient": loan.email,
            "patron_id": loan.patron_id,
            "partner_symbol": None,
            "request_id": loan.request_id,
            "loan_id": loan.loan_id,
            "subject": "",
            "body": "",
            "context": json.dumps(context, default=str, sort_keys=True),
            "dedupe_key": key,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for kind, key, loan, context in wanted
        if key not in taken
    ]
    if rows:
        insert_rows(session, NOTICES, rows)
    soon = sum(1 for row in rows if row["kind"] == "due_soon")
    return soon, len(rows) - soon


def daily_run_due(rt: Runtime, actor: Actor) -> bool:
    """True until today's due-soon and overdue notices have been queued (on any desk)."""
    with rt.db.reading() as session:
        last = library_settings.load(session).notices_last_run
    return last != rt.clock.today().isoformat()


def run_daily_if_due(
    rt: Runtime,
    actor: Actor,
    settings: WorkstationSettings,
    progress: Progress = no_progress,
    keep_going: KeepGoing = always,
) -> OutboxRun | None:
    """The desk's once-a-day trigger: the daily run, unless a desk already ran it today."""
    due = daily_run_due(rt, actor)
    return run_daily(rt, actor, settings, progress, keep_going) if due else None


# ---------------------------------------------------------------- rendering and addresses


def prepare_outbox(rt: Runtime, actor: Actor) -> int:
    """Render every queued notice not yet rendered; hold those that cannot go as they are."""
    held = 0
    with rt.db.transaction() as session:
        settings = library_settings.load(session)
        pending = session.scalars(
            select(Notice)
            .where(Notice.status == NoticeStatus.QUEUED, Notice.body == "")
            .order_by(Notice.id)
        ).all()
        for notice in pending:
            reason = _prepare(session, notice, settings, rt.clock.today())
            if reason:
                notice.status, notice.held_reason = NoticeStatus.HELD, reason
                held += 1
    return held


def _prepare(session: Session, notice: Notice, settings: LibrarySettings, today: date) -> str:
    """Render the notice in place; return why it must be held, or ""."""
    spec = KINDS.get(notice.kind)
    if spec is None:
        return f"There is no notice kind '{notice.kind}'; this notice cannot be written."
    try:
        rendered = render(session, notice.kind, notice_context(session, notice, settings, today))
    except Exception as exc:  # a library template that fails must hold, not stop the run
        return (
            f"The '{spec.label}' template could not be filled ({exc}). Fix it in Admin > "
            "Notice templates, then release this notice."
        )
    notice.subject, notice.body = rendered.subject, rendered.body
    problem = address_problem(session, notice, settings)
    if problem:
        return problem
    return REVIEW_REASON if spec.review_before_sending else ""


# ---------------------------------------------------------------- sending


def send_due(
    rt: Runtime,
    actor: Actor,
    mailer: Mailer,
    *,
    sender_domain: str = "",
    only_id: int | None = None,
    keep_going: KeepGoing = always,
) -> tuple[int, int, int, str]:
    """Send every due notice; stop at the first sign the server is down, or between two
    notices when `keep_going` says so.

    Returns (sent, failed, uncertain, why sending stopped).
    """
    sent = failed = uncertain = 0
    tried: set[int] = set()
    while True:
        if tried and not keep_going():
            return sent, failed, uncertain, STOPPED_SENDING
        notice_id = _next_due(rt, tried, only_id)
        if notice_id is None:
            return sent, failed, uncertain, ""
        tried.add(notice_id)
        mail = _claim(rt, notice_id, sender_domain)
        if mail is None:
            continue  # another desk took it
        try:
            mailer.send(mail)
        except DeliveryFailed as exc:
            _record_failure(rt, notice_id, exc)
            if exc.uncertain:
                uncertain += 1
            else:
                failed += 1
            if exc.connection:
                return sent, failed, uncertain, exc.reason
            continue
        _record_sent(rt, notice_id)
        sent += 1


def _next_due(rt: Runtime, tried: set[int], only_id: int | None) -> int | None:
    with rt.db.reading() as session:
        query = (
            select(Notice.id)
            .where(
                Notice.status.in_(_SENDABLE),
                Notice.body != "",
                or_(Notice.next_attempt_at.is_(None), Notice.next_attempt_at <= rt.clock.now()),
            )
            .order_by(Notice.id)
        )
        if tried:
            query = query.where(Notice.id.not_in(tried))
        if only_id is not None:
            query = query.where(Notice.id == only_id)
        return session.scalar(query.limit(1))


def _claim(rt: Runtime, notice_id: int, sender_domain: str) -> OutgoingMail | None:
    """Mark the notice as being sent and commit, before any byte goes to the server."""
    now = rt.clock.now()
    with rt.db.transaction() as session:
        result = cast(
            CursorResult[Any],
            session.execute(
                update(Notice)
                .where(Notice.id == notice_id, Notice.status.in_(_SENDABLE))
                .values(
                    status=NoticeStatus.HELD,
                    held_reason=(
                        f"{UNCERTAIN_PREFIX}: sending began {now:%Y-%m-%d %H:%M} UTC and its "
                        "outcome was never recorded. Check with the recipient (or the mail "
                        "server's log) before sending it again."
                    ),
                    attempts=Notice.attempts + 1,
                    next_attempt_at=None,
                )
                .execution_options(synchronize_session=False)
            ),
        )
        if result.rowcount != 1:
            return None
        notice = session.get(Notice, notice_id)
        assert notice is not None
        domain = sender_domain or "illdesk.invalid"
        return OutgoingMail(
            recipient=notice.recipient.strip(),
            subject=notice.subject,
            body=notice.body,
            message_id=f"<notice-{notice.id}.{notice.created_at:%Y%m%d%H%M%S}@{domain}>",
        )


def _record_sent(rt: Runtime, notice_id: int) -> None:
    with rt.db.transaction() as session:
        notice = session.get(Notice, notice_id)
        assert notice is not None
        notice.status, notice.sent_at = NoticeStatus.SENT, rt.clock.now()
        notice.held_reason = notice.last_error = None


def _record_failure(rt: Runtime, notice_id: int, exc: DeliveryFailed) -> None:
    now = rt.clock.now()
    with rt.db.transaction() as session:
        notice = session.get(Notice, notice_id)
        assert notice is not None
        notice.last_error = exc.reason
        if exc.uncertain:
            notice.held_reason = (
                f"{UNCERTAIN_PREFIX}: {exc.reason} Check with the recipient before sending "
                "it again."
            )
        elif exc.permanent:
            notice.held_reason = (
                f"Not sent: the mail server refused it for good ({exc.reason}). Sending it "
                "again would be refused the same way: fix the address (or ask the mail "
                "administrator why), then release it."
            )
        elif notice.attempts >= MAX_ATTEMPTS:
            notice.held_reason = (
                f"Not sent after {notice.attempts} attempts (last: {exc.reason}). Fix the "
                "address or the mail settings, then release it."
            )
        else:
            notice.status, notice.held_reason = NoticeStatus.FAILED, None
            notice.next_attempt_at = now + retry_delay(notice.attempts)


def retry_delay(attempts: int) -> timedelta:
    """5 minutes after the first failure, doubling each time, at most 6 hours."""
    delay: timedelta = RETRY_BASE * 2 ** min(max(attempts - 1, 0), 16)
    return min(delay, RETRY_CAP)
