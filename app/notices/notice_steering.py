"""Notices staff steer by hand: resend one, compose a one-off, see all a patron got.

A resend is a new outbox row, a copy of the sent notice, so the outbox keeps both what
went first and what went again (a sent notice never changes). A composed notice is
written from one of the library's templates for one patron (and, if given, one of their
requests) and held for preview like every manual notice: staff edit it if needed and
send it from the outbox. Every step is audited; reading a patron's notices is a look at
their record (`patron.view`).
"""

from __future__ import annotations

from sqlalchemy import select

from app.library import library_settings
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.runtime import Runtime
from app.notices.daily_run import REVIEW_REASON
from app.notices.notice_content import address_problem, notice_context
from app.notices.outbox import queue_notice
from app.notices.outbox_review import NoticeView, _view
from app.notices.templates import KINDS, render
from app.people.patrons import require_patron
from app.records import audit
from app.records.patron_views import record_patron_view
from db.models import IllRequest, Notice, NoticeStatus, Patron, Role

PATRON_NOTICES_LIMIT = 1000


def resend_notice(rt: Runtime, actor: Actor, notice_id: int) -> NoticeView:
    """Queue a copy of a sent notice (the patron lost it, or it went to an old address).

    The copy goes to the patron's current address when it is a patron notice; the outbox
    run (or "Send now") sends it.
    """
    actor.require(Role.ILL_OFFICE, "Resending a notice")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        original = session.get(Notice, notice_id)
        if original is None:
            raise NotFound(f"There is no notice number {notice_id}.")
        if original.status is not NoticeStatus.SENT:
            raise Conflict(
                f"Notice {notice_id} has not been sent yet ({original.status.value}): send it "
                "from the outbox instead of resending it."
            )
        copy = Notice(
            kind=original.kind,
            status=NoticeStatus.QUEUED,
            recipient=original.recipient,
            patron_id=original.patron_id,
            partner_symbol=original.partner_symbol,
            request_id=original.request_id,
            loan_id=original.loan_id,
            subject=original.subject,
            body=original.body,
            context=original.context,
            created_at=now,
            next_attempt_at=now,
        )
        session.add(copy)
        if original.patron_id is not None:
            patron = session.get(Patron, original.patron_id)
            if patron is not None and patron.email:
                copy.recipient = patron.email
        settings = library_settings.load(session)
        problem = address_problem(session, copy, settings)
        if problem:
            copy.status, copy.held_reason = NoticeStatus.HELD, problem
        session.flush()
        audit.record(
            session,
            actor,
            "notice.resend",
            at=now,
            entity="notice",
            entity_id=copy.id,
            patron_id=copy.patron_id,
            after={"copy_of": original.id, "recipient": copy.recipient},
        )
        return _view(session, copy)


def compose_notice(
    rt: Runtime,
    actor: Actor,
    patron_reference: str,
    template: str,
    *,
    request_number: str = "",
) -> NoticeView:
    """A one-off notice to a patron from one of the library's templates, held for preview."""
    actor.require(Role.ILL_OFFICE, "Composing a notice")
    kind = template.strip().lower()
    spec = KINDS.get(kind)
    if spec is None or not spec.to_patron:
        known = ", ".join(code for code, k in KINDS.items() if k.to_patron)
        raise InvalidInput(
            f"'{template[:40]}' is not a patron notice template. Use one of: {known}."
        )
    now = rt.clock.now()
    with rt.db.transaction() as session:
        patron = require_patron(session, patron_reference)
        request_id = None
        if request_number.strip():
            req = session.scalar(
                select(IllRequest).where(IllRequest.request_number == request_number.strip())
            )
            if req is None or req.patron_id != patron.id:
                raise NotFound(
                    f"{patron.display_name} ({patron.patron_id}) has no request "
                    f"'{request_number.strip()[:20]}'."
                )
            request_id = req.id
        notice = queue_notice(session, kind, at=now, patron=patron, request_id=request_id)
        assert notice is not None  # no dedupe key: always queued
        session.flush()
        settings = library_settings.load(session)
        try:
            rendered = render(
                session, kind, notice_context(session, notice, settings, rt.clock.today())
            )
        except Exception as exc:  # the library's own template may be broken
            raise InvalidInput(
                f"The '{spec.label}' template could not be filled ({exc}). Fix it in Admin > "
                "Notice templates."
            ) from None
        notice.subject, notice.body = rendered.subject, rendered.body
        problem = address_problem(session, notice, settings)
        notice.status = NoticeStatus.HELD
        notice.held_reason = problem or REVIEW_REASON
        audit.record(
            session,
            actor,
            "notice.compose",
            at=now,
            entity="notice",
            entity_id=notice.id,
            patron_id=patron.id,
            after={"kind": kind, "recipient": notice.recipient, "subject": notice.subject},
        )
        return _view(session, notice)


def patron_notices(rt: Runtime, actor: Actor, patron_reference: str) -> tuple[NoticeView, ...]:
    """Every notice the patron got or will get, newest first; a look at their record."""
    actor.require(Role.DESK, "Reading a patron's notices")
    with rt.db.transaction() as session:
        patron = require_patron(session, patron_reference)
        record_patron_view(session, actor, patron.id, rt.clock.now(), detail="notices")
        rows = session.scalars(
            select(Notice)
            .where(Notice.patron_id == patron.id)
            .order_by(Notice.id.desc())
            .limit(PATRON_NOTICES_LIMIT)
        )
        return tuple(_view(session, n) for n in rows)
