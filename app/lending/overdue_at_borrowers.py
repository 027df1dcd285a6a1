"""Our items a borrowing library keeps too long: "overdue from borrower", then "lost, billable".

Reviewing the list is what prepares the messages, each exactly once per request (the
outbox's dedupe key makes that a database rule), in the library's own wording for the
'lender_overdue' and 'lender_lost' notice kinds. The messages go to the borrowing library
through the ILL system, so they are held for staff to edit and copy there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.lending import partner_directory
from app.lending.pull_list import LendingRequestView, request_view
from app.library import library_settings
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.library_settings import LibrarySettings
from app.library.runtime import Runtime
from app.notices import outbox, outbox_review, templates
from app.notices.notice_content import notice_context
from app.records import audit
from app.workstation.config import WorkstationSettings
from db.models import (
    Direction,
    IfmTransaction,
    IllRequest,
    Item,
    ItemStatus,
    Notice,
    NoticeStatus,
    RequestStatus,
    Role,
)

OVERDUE_KIND = "lender_overdue"
LOST_KIND = "lender_lost"
IFM_KIND = "ifm"
KINDS = (OVERDUE_KIND, LOST_KIND, IFM_KIND)
HELD_REASON = "For the borrowing library: edit if needed, then copy it into the ILL system."
HELD_REASON_EMAIL = (
    "For the borrowing library ({address}): edit if needed, then send it by e-mail, or copy "
    "it into the ILL system and mark it sent."
)
MAX_SUBJECT = 300
MAX_BODY = 10_000


class OverdueStage(StrEnum):
    OVERDUE = "overdue"
    LOST_BILLABLE = "lost_billable"


@dataclass(frozen=True)
class PreparedMessage:
    notice_id: int
    kind: str
    request_number: str
    partner_symbol: str
    subject: str
    body: str
    status: NoticeStatus
    sent_at: datetime | None
    recipient: str = ""  # the partner's address (from the directory), "" when unknown
    problem: str = ""  # why it waits: the reason it is held, or the last delivery error


@dataclass(frozen=True)
class MessageEmailed:
    """What became of "send by e-mail": sent, or still waiting in the outbox and why."""

    message: PreparedMessage
    sent: bool
    mail_problem: str  # why it was not sent now ("" when it was)


@dataclass(frozen=True)
class BorrowerOverdue:
    request: LendingRequestView
    days_overdue: int
    stage: OverdueStage
    messages: tuple[PreparedMessage, ...]


@dataclass(frozen=True)
class OverdueReview:
    as_of: date
    overdue_days: int
    lost_days: int
    entries: tuple[BorrowerOverdue, ...]
    prepared_now: tuple[PreparedMessage, ...]
    became_lost: tuple[str, ...]


def _message(notice: Notice, request_number: str) -> PreparedMessage:
    return PreparedMessage(
        notice_id=notice.id,
        kind=notice.kind,
        request_number=request_number,
        partner_symbol=notice.partner_symbol or "",
        subject=notice.subject,
        body=notice.body,
        status=notice.status,
        sent_at=notice.sent_at,
        recipient=notice.recipient,
        problem=notice.held_reason or notice.last_error or "",
    )


def _prepare(
    session: Session,
    req: IllRequest,
    kind: str,
    days: int,
    settings: LibrarySettings,
    today: date,
    now: datetime,
    *,
    partner: str | None = None,
    context: dict[str, object] | None = None,
    dedupe_key: str | None = None,
) -> Notice | None:
    """Queue the message once, written from the library's template for its kind."""
    symbol = partner or req.borrower_symbol
    address = partner_directory.email_for(session, symbol)
    notice = outbox.queue_notice(
        session,
        kind,
        at=now,
        partner_symbol=symbol,
        recipient=address,
        request_id=req.id,
        context=context if context is not None else {"days_overdue": days},
        dedupe_key=dedupe_key or f"{kind}:{req.id}",
    )
    if notice is None:
        return None
    session.flush()
    context = notice_context(session, notice, settings, today)
    try:
        rendered = templates.render(session, kind, context)
        notice.subject, notice.body = rendered.subject, rendered.body
        notice.held_reason = HELD_REASON_EMAIL.format(address=address) if address else HELD_REASON
    except Exception as exc:  # a broken library template must not stop the review
        notice.subject = f"{req.title} (request #{req.partner_request_number})"
        notice.held_reason = (
            f"The library's template for this message could not be filled ({exc}); write "
            "the text here, or fix the template in Admin."
        )
    notice.status = NoticeStatus.HELD
    session.flush()
    return notice


def _notices(session: Session, req: IllRequest) -> tuple[PreparedMessage, ...]:
    rows = session.scalars(
        select(Notice)
        .where(Notice.request_id == req.id, Notice.kind.in_(KINDS))
        .order_by(Notice.created_at, Notice.id)
    ).all()
    return tuple(_message(n, req.request_number) for n in rows)


def review_overdue(rt: Runtime, actor: Actor) -> OverdueReview:
    """List what borrowers keep too long; prepare each due message and mark lost ones, once."""
    actor.require(Role.ILL_OFFICE, "Reviewing items overdue from borrowing libraries")
    now = rt.clock.now()
    today = rt.clock.today()
    with rt.db.transaction() as session:
        settings = library_settings.load(session)
        rows = session.scalars(
            select(IllRequest)
            .where(
                IllRequest.direction == Direction.LENDING,
                IllRequest.status.in_((RequestStatus.SHIPPED, RequestStatus.LOST)),
                IllRequest.lend_due_date.is_not(None),
            )
            .order_by(IllRequest.lend_due_date, IllRequest.id)
            .with_for_update()  # two office desks reviewing at once take turns
        ).all()
        entries: list[BorrowerOverdue] = []
        prepared: list[PreparedMessage] = []
        became_lost: list[str] = []
        for req in rows:
            assert req.lend_due_date is not None
            days = (today - req.lend_due_date).days
            if days < settings.lender_overdue_days and req.status is RequestStatus.SHIPPED:
                continue
            for notice in _advance(session, actor, req, days, settings, today, now, became_lost):
                prepared.append(_message(notice, req.request_number))
            stage = (
                OverdueStage.LOST_BILLABLE
                if req.status is RequestStatus.LOST
                else OverdueStage.OVERDUE
            )
            entries.append(
                BorrowerOverdue(request_view(session, req), days, stage, _notices(session, req))
            )
        return OverdueReview(
            as_of=today,
            overdue_days=settings.lender_overdue_days,
            lost_days=settings.lender_lost_days,
            entries=tuple(entries),
            prepared_now=tuple(prepared),
            became_lost=tuple(became_lost),
        )


def _advance(
    session: Session,
    actor: Actor,
    req: IllRequest,
    days: int,
    settings: LibrarySettings,
    today: date,
    now: datetime,
    became_lost: list[str],
) -> list[Notice]:
    made: list[Notice] = []
    if req.status is RequestStatus.SHIPPED and days >= settings.lender_lost_days:
        req.status = RequestStatus.LOST
        req.updated_at = now
        item = session.get(Item, req.item_id) if req.item_id else None
        if item is not None:
            item.status = ItemStatus.LOST
        became_lost.append(req.request_number)
        audit.record(
            session,
            actor,
            "lending.lost_billable",
            at=now,
            entity="ill_request",
            entity_id=req.id,
            item_id=req.item_id,
            before={"status": RequestStatus.SHIPPED.value},
            after={"status": RequestStatus.LOST.value, "days_overdue": days},
        )
    if req.status is RequestStatus.LOST:
        notice = _prepare(session, req, LOST_KIND, days, settings, today, now)
    else:
        # An overdue reminder is superseded once the item is lost, so it is not prepared then.
        notice = _prepare(session, req, OVERDUE_KIND, days, settings, today, now)
    if notice is not None:
        made.append(notice)
    return made


def prepare_ifm_note(rt: Runtime, actor: Actor, transaction_id: int) -> PreparedMessage:
    """The note to the partner library about an IFM replacement payment, once per transaction.

    Written from the library's 'ifm' template and held for staff to review, then e-mail
    (`send_message`) or copy into the ILL system; asking again returns the same note.
    """
    actor.require(Role.ILL_OFFICE, "Preparing an IFM note to a partner library")
    now, today = rt.clock.now(), rt.clock.today()
    with rt.db.transaction() as session:
        tx = session.get(IfmTransaction, transaction_id, with_for_update=True)
        if tx is None:
            raise NotFound(f"There is no IFM transaction {transaction_id}. `illdesk ifm list`.")
        req = session.get_one(IllRequest, tx.request_id)
        key = f"{IFM_KIND}:{tx.id}"
        notice = _prepare(
            session,
            req,
            IFM_KIND,
            0,
            library_settings.load(session),
            today,
            now,
            partner=tx.partner_symbol,
            context={
                "amount": tx.amount,
                "dummy_title": tx.dummy_title,
                "original_request_number": (
                    req.partner_request_number or req.request_number
                    if req.direction is Direction.LENDING
                    else req.request_number
                ),
                "direction": tx.direction.value,
            },
            dedupe_key=key,
        )
        if notice is None:
            notice = session.scalars(select(Notice).where(Notice.dedupe_key == key)).one()
        else:
            audit.record(
                session,
                actor,
                "ifm.note_prepared",
                at=now,
                entity="notice",
                entity_id=notice.id,
                after={"transaction": tx.id, "partner": tx.partner_symbol},
            )
        return _message(notice, req.request_number)


def _lender_notice(
    session: Session, notice_id: int, *, lock: bool = True
) -> tuple[Notice, IllRequest]:
    notice = session.get(Notice, notice_id, with_for_update=lock)
    if notice is None or notice.kind not in KINDS or notice.request_id is None:
        raise NotFound(
            f"There is no overdue, lost or IFM message {notice_id} for a partner library."
        )
    return notice, session.get_one(IllRequest, notice.request_id)


def edit_message(
    rt: Runtime, actor: Actor, notice_id: int, *, subject: str, body: str
) -> PreparedMessage:
    """Staff tailor the wording before copying it into the ILL system."""
    actor.require(Role.ILL_OFFICE, "Editing a message to a borrowing library")
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise InvalidInput("A message needs a subject and a text; neither may be empty.")
    if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY:
        raise InvalidInput(
            f"Keep the subject under {MAX_SUBJECT} and the text under {MAX_BODY} characters."
        )
    now = rt.clock.now()
    with rt.db.transaction() as session:
        notice, req = _lender_notice(session, notice_id)
        if notice.status is NoticeStatus.SENT:
            raise Conflict(f"Message {notice_id} was already sent on {notice.sent_at}; it stays.")
        before = {"subject": notice.subject}
        notice.subject, notice.body = subject, body
        audit.record(
            session,
            actor,
            "lending.message_edit",
            at=now,
            entity="notice",
            entity_id=notice.id,
            before=before,
            after={"subject": subject},
        )
        session.flush()
        return _message(notice, req.request_number)


def mark_message_sent(rt: Runtime, actor: Actor, notice_id: int) -> PreparedMessage:
    """Staff copied the message into the ILL system (or e-mailed it): it is done."""
    actor.require(Role.ILL_OFFICE, "Marking a message to a borrowing library as sent")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        notice, req = _lender_notice(session, notice_id)
        if notice.status is NoticeStatus.SENT:
            raise Conflict(f"Message {notice_id} was already marked sent on {notice.sent_at}.")
        notice.status = NoticeStatus.SENT
        notice.sent_at = now
        notice.held_reason = None
        audit.record(
            session, actor, "lending.message_sent", at=now, entity="notice", entity_id=notice.id
        )
        session.flush()
        return _message(notice, req.request_number)


def send_message(
    rt: Runtime, actor: Actor, notice_id: int, settings: WorkstationSettings
) -> MessageEmailed:
    """E-mail a prepared message to the partner library over SMTP; the outbox keeps the copy.

    The address is the notice's own, else the partner directory's. If the mail server is
    down, the message stays in the outbox as failed with the server's words and is tried
    again by the outbox run; nothing is lost and nothing is sent twice.
    """
    actor.require(Role.ILL_OFFICE, "E-mailing a message to a borrowing library")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        notice, _req = _lender_notice(session, notice_id)
        if notice.status is NoticeStatus.SENT:
            raise Conflict(f"Message {notice_id} was already sent on {notice.sent_at}.")
        symbol = notice.partner_symbol or "the borrowing library"
        if not notice.recipient.strip():
            address = partner_directory.email_for(session, notice.partner_symbol)
            if not address:
                raise InvalidInput(
                    f"There is no e-mail address for {symbol} in the partner directory. Add "
                    f"it (Lending > Partners, or `illdesk partners set {symbol} --email "
                    "ADDRESS`), or copy the message into the ILL system and mark it sent."
                )
            notice.recipient = address
        audit.record(
            session,
            actor,
            "lending.message_email",
            at=now,
            entity="notice",
            entity_id=notice.id,
            after={"partner": symbol, "recipient": notice.recipient},
        )
    run = outbox_review.send_one(rt, actor, notice_id, settings)
    with rt.db.reading() as session:
        notice, req = _lender_notice(session, notice_id, lock=False)
        message = _message(notice, req.request_number)
    sent = message.status is NoticeStatus.SENT
    problem = "" if sent else (run.mail_problem or message.problem)
    return MessageEmailed(message=message, sent=sent, mail_problem=problem)
