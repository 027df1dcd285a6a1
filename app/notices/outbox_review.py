"""The outbox as staff review it: list, read, edit, release and send one notice now.

The daily run (`daily_run`) queues and delivers; this is what a person does in between.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.library import library_settings
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.runtime import Runtime
from app.notices.daily_run import REVIEW_REASON, OutboxRun, run_outbox
from app.notices.mailer import (
    MailerNotConfigured,
    SmtpMailer,
    smtp_config,
)
from app.notices.notice_content import address_problem, notice_context
from app.notices.templates import KINDS, render
from app.people.patron_ids import parse_email
from app.records import audit
from app.records.patron_views import record_patron_view
from app.workstation.config import WorkstationSettings
from db.models import (
    Notice,
    NoticeStatus,
    Patron,
    Role,
)


@dataclass(frozen=True)
class NoticeView:
    id: int
    kind: str
    label: str
    status: NoticeStatus
    recipient: str
    subject: str
    body: str
    patron_id: str
    patron_name: str
    partner_symbol: str
    attempts: int
    last_error: str
    held_reason: str
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None

    @property
    def needs_review(self) -> bool:
        return self.status is NoticeStatus.HELD and self.held_reason == REVIEW_REASON

    @property
    def editable(self) -> bool:
        return self.status is not NoticeStatus.SENT

    @property
    def problem(self) -> str:
        """The one line the outbox list shows beside the status."""
        return self.held_reason or self.last_error


def _view(session: Session, notice: Notice) -> NoticeView:
    patron = session.get(Patron, notice.patron_id) if notice.patron_id else None
    spec = KINDS.get(notice.kind)
    return NoticeView(
        id=notice.id,
        kind=notice.kind,
        label=spec.label if spec else notice.kind,
        status=notice.status,
        recipient=notice.recipient,
        subject=notice.subject,
        body=notice.body,
        patron_id=patron.patron_id if patron else "",
        patron_name=patron.display_name if patron else "",
        partner_symbol=notice.partner_symbol or "",
        attempts=notice.attempts,
        last_error=notice.last_error or "",
        held_reason=notice.held_reason or "",
        created_at=notice.created_at,
        next_attempt_at=notice.next_attempt_at,
        sent_at=notice.sent_at,
    )


@dataclass(frozen=True)
class OutboxSummary:
    """Counts for a badge on the ILL office screen."""

    queued: int
    failed: int
    held: int
    needs_review: int  # held manual notices waiting for staff to preview and send

    @property
    def needing_attention(self) -> int:
        return self.failed + self.held


def outbox_summary(rt: Runtime, actor: Actor) -> OutboxSummary:
    with rt.db.reading() as session:
        counts: dict[NoticeStatus, int] = {
            status: int(count)
            for status, count in session.execute(
                select(Notice.status, func.count()).group_by(Notice.status)
            )
        }
        review = session.scalar(
            select(func.count())
            .select_from(Notice)
            .where(Notice.status == NoticeStatus.HELD, Notice.held_reason == REVIEW_REASON)
        )
    return OutboxSummary(
        queued=counts.get(NoticeStatus.QUEUED, 0),
        failed=counts.get(NoticeStatus.FAILED, 0),
        held=counts.get(NoticeStatus.HELD, 0),
        needs_review=int(review or 0),
    )


def parse_status(text: str) -> NoticeStatus:
    try:
        return NoticeStatus(text.strip().lower())
    except ValueError:
        known = ", ".join(s.value for s in NoticeStatus)
        raise InvalidInput(f"'{text}' is not a notice status. Use one of: {known}.") from None


def list_notices(
    rt: Runtime, actor: Actor, status: NoticeStatus | None = None, limit: int = 500
) -> tuple[NoticeView, ...]:
    """Newest first."""
    actor.require(Role.ILL_OFFICE, "Reading the notice outbox")
    with rt.db.reading() as session:
        query = select(Notice).order_by(Notice.id.desc()).limit(limit)
        if status is not None:
            query = query.where(Notice.status == status)
        return tuple(_view(session, n) for n in session.scalars(query))


def _notice(session: Session, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(f"There is no notice number {notice_id}.")
    return notice


def get_notice(rt: Runtime, actor: Actor, notice_id: int) -> NoticeView:
    """The notice as it will be sent; an unrendered one is rendered for the preview.

    A notice to a patron shows their address and loans: reading it is a look at their record.
    """
    actor.require(Role.ILL_OFFICE, "Reading the notice outbox")
    with rt.db.transaction() as session:
        notice = _notice(session, notice_id)
        if notice.patron_id is not None:
            record_patron_view(session, actor, notice.patron_id, rt.clock.now(), detail="notice")
        view = _view(session, notice)
        if not notice.body and notice.kind in KINDS:
            settings = library_settings.load(session)
            ctx = notice_context(session, notice, settings, rt.clock.today())
            rendered = render(session, notice.kind, ctx)
            view = _replace_text(view, rendered.subject, rendered.body)
        return view


def _replace_text(view: NoticeView, subject: str, body: str) -> NoticeView:
    return dataclasses.replace(view, subject=subject, body=body)


def edit_notice(
    rt: Runtime, actor: Actor, notice_id: int, *, recipient: str, subject: str, body: str
) -> NoticeView:
    """Store staff's own wording (or address) for a notice not yet sent."""
    actor.require(Role.ILL_OFFICE, "Editing a notice")
    subject = " ".join(subject.split())
    if not subject:
        raise InvalidInput("The notice needs a subject line.")
    if not body.strip():
        raise InvalidInput("The notice needs a message; it is empty.")
    recipient = parse_email(recipient) if recipient.strip() else ""
    now = rt.clock.now()
    with rt.db.transaction() as session:
        notice = _notice(session, notice_id)
        _refuse_if_sent(notice)
        before = {"recipient": notice.recipient, "subject": notice.subject, "body": notice.body}
        notice.recipient, notice.subject, notice.body = recipient, subject[:300], body
        audit.record(
            session,
            actor,
            "notice.edit",
            at=now,
            entity="notice",
            entity_id=notice.id,
            patron_id=notice.patron_id,
            before=before,
            after={"recipient": recipient, "subject": subject, "body": body},
        )
        session.flush()
        return _view(session, notice)


def release_notice(rt: Runtime, actor: Actor, notice_id: int) -> NoticeView:
    """Send a held or failed notice at the next run (or now, from the outbox screen)."""
    actor.require(Role.ILL_OFFICE, "Releasing a notice")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        notice = _notice(session, notice_id)
        _refuse_if_sent(notice)
        settings = library_settings.load(session)
        if notice.kind not in KINDS:
            raise InvalidInput(f"There is no notice kind '{notice.kind}'; it cannot be sent.")
        if not notice.body:
            rendered = render(
                session, notice.kind, notice_context(session, notice, settings, rt.clock.today())
            )
            notice.subject, notice.body = rendered.subject, rendered.body
        problem = address_problem(session, notice, settings)
        if problem:
            raise InvalidInput(problem)
        before = notice.status.value
        notice.status, notice.held_reason = NoticeStatus.QUEUED, None
        notice.next_attempt_at = now
        audit.record(
            session,
            actor,
            "notice.release",
            at=now,
            entity="notice",
            entity_id=notice.id,
            patron_id=notice.patron_id,
            before={"status": before},
            after={"status": NoticeStatus.QUEUED.value},
        )
        session.flush()
        return _view(session, notice)


def _refuse_if_sent(notice: Notice) -> None:
    if notice.status is NoticeStatus.SENT:
        raise Conflict(
            f"Notice {notice.id} was already sent on {notice.sent_at:%Y-%m-%d %H:%M}; "
            "it cannot be changed."
        )


def send_one(rt: Runtime, actor: Actor, notice_id: int, settings: WorkstationSettings) -> OutboxRun:
    """The outbox screen's "Send now": release the notice and deliver just that one."""
    release_notice(rt, actor, notice_id)
    try:
        config = smtp_config(settings)
    except MailerNotConfigured as exc:
        return run_outbox(rt, actor, None, mail_problem=exc.message, only_id=notice_id)
    with SmtpMailer(config) as mailer:
        return run_outbox(
            rt, actor, mailer, sender_domain=config.sender.rpartition("@")[2], only_id=notice_id
        )
