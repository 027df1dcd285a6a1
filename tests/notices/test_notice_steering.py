"""Notices staff steer: resend a sent one, compose a one-off, see all a patron got."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.library.runtime import Runtime
from app.notices import daily_run, notice_steering
from app.notices.mailer import SmtpMailer
from db.models import AuditEvent, IllRequest, Notice, NoticeStatus, Patron
from tests.notices.test_notices_smtp import SmtpServer, notice_row, queue_for, smtp  # noqa: F401
from tests.signed_in import as_office

ActorAt = Callable[[str, str], Actor]
PATRON = "T00123456"


def _sent_notice(rt: Runtime, server: SmtpServer) -> int:
    notice_id = queue_for(rt, "request_received", PATRON)
    with SmtpMailer(server.config) as mailer:
        daily_run.run_outbox(
            rt, as_office(rt), mailer, sender_domain="example.edu", only_id=notice_id
        )
    assert notice_row(rt, notice_id).status is NoticeStatus.SENT
    return notice_id


def _events(rt: Runtime, action: str) -> list[AuditEvent]:
    with rt.db.reading() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_resend_queues_a_copy_that_goes_out_again(
    demo_rt: Runtime,
    actor_at: ActorAt,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    office = actor_at("office", "WS-ILL")
    first = _sent_notice(demo_rt, smtp)
    copy = notice_steering.resend_notice(demo_rt, office, first)
    assert copy.id != first and copy.status is NoticeStatus.QUEUED
    original = notice_row(demo_rt, first)
    assert (copy.subject, copy.body) == (original.subject, original.body)
    assert copy.recipient == "renee.muller@example.edu"
    assert original.status is NoticeStatus.SENT  # what went first stays as it was
    (event,) = _events(demo_rt, "notice.resend")
    assert event.after == {"copy_of": first, "recipient": "renee.muller@example.edu"}
    with SmtpMailer(smtp.config) as mailer:
        daily_run.run_outbox(demo_rt, office, mailer, sender_domain="example.edu", only_id=copy.id)
    assert [m.rcpt_tos for m in smtp.inbox.received] == [["renee.muller@example.edu"]] * 2
    assert notice_row(demo_rt, copy.id).status is NoticeStatus.SENT

    with pytest.raises(Conflict, match="has not been sent yet"):
        notice_steering.resend_notice(demo_rt, office, queue_for(demo_rt, "overdue", PATRON))
    with pytest.raises(NotFound):
        notice_steering.resend_notice(demo_rt, office, 999_999)
    with pytest.raises(PermissionDenied):
        notice_steering.resend_notice(demo_rt, actor_at("desk", "METRO"), first)


def test_compose_from_a_template_is_held_for_preview(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    with demo_rt.db.reading() as session:
        req = session.scalars(
            select(IllRequest).join(Patron).where(Patron.patron_id == PATRON)
        ).first()
        assert req is not None
    notice = notice_steering.compose_notice(
        demo_rt, office, PATRON.lower(), " Request_Received", request_number=req.request_number
    )
    assert notice.kind == "request_received" and notice.status is NoticeStatus.HELD
    assert notice.needs_review and req.request_number in notice.subject
    assert notice.recipient == "renee.muller@example.edu" and req.title in notice.body
    (event,) = _events(demo_rt, "notice.compose")
    assert event.after is not None and event.after["kind"] == "request_received"

    for template, says in (
        ("no_such_kind", "not a patron notice template. Use one of: "),
        ("lender_lost", "not a patron notice template"),
        ("x" * 10_000, "not a patron notice template"),
    ):
        with pytest.raises(InvalidInput, match=says) as refused:
            notice_steering.compose_notice(demo_rt, office, PATRON, template)
        assert len(refused.value.message) < 600
    with pytest.raises(NotFound, match="No patron"):
        notice_steering.compose_notice(demo_rt, office, "T99999999", "overdue")
    with pytest.raises(NotFound, match="has no request"):
        notice_steering.compose_notice(
            demo_rt, office, PATRON, "overdue", request_number="00000000"
        )
    with pytest.raises(PermissionDenied):
        notice_steering.compose_notice(demo_rt, actor_at("desk", "METRO"), PATRON, "overdue")


def test_every_notice_a_patron_got_is_a_recorded_look(demo_rt: Runtime, actor_at: ActorAt) -> None:
    older = queue_for(demo_rt, "request_received", PATRON)
    newer = queue_for(demo_rt, "overdue", PATRON)
    desk = actor_at("desk", "METRO")
    rows = notice_steering.patron_notices(demo_rt, desk, PATRON)
    ids = [n.id for n in rows]
    assert ids.index(newer) < ids.index(older)  # newest first
    assert {n.patron_id for n in rows} == {PATRON}
    with demo_rt.db.reading() as session:
        others = session.scalars(
            select(Notice.id).join(Patron).where(Patron.patron_id != PATRON)
        ).all()
    assert not set(others) & set(ids)
    views = [e for e in _events(demo_rt, "patron.view") if e.detail == "notices"]
    assert len(views) == 1 and views[0].username == "desk"
