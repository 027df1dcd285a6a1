"""The partner directory, and lender-side messages e-mailed from ILL Desk over real SMTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from app.lending import ifm, overdue_at_borrowers, partner_directory
from app.lending.overdue_at_borrowers import PreparedMessage
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.errors import InvalidInput, PermissionDenied
from app.library.runtime import Runtime
from app.notices import daily_run
from app.notices.mailer import SmtpMailer
from app.workstation.config import WorkstationSettings
from db.models import AuditEvent, Notice, NoticeStatus
from tests.notices.test_notices_smtp import SmtpServer, free_port

ActorAt = Callable[[str, str], Actor]
UIU_MAIL = "ill-lending@uiu.example.org"


@pytest.fixture
def smtp_port(monkeypatch: pytest.MonkeyPatch) -> int:
    """The desk's mail settings point at a local port; the test decides if a server listens."""
    port = free_port()
    monkeypatch.setenv("ILLDESK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ILLDESK_SMTP_PORT", str(port))
    monkeypatch.setenv("ILLDESK_SMTP_STARTTLS", "0")
    monkeypatch.setenv("ILLDESK_SMTP_SENDER", "ill@example.edu")
    return port


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[SmtpServer]:
    server = SmtpServer(smtp_port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _lost_message(rt: Runtime, office: Actor) -> PreparedMessage:
    review = overdue_at_borrowers.review_overdue(rt, office)
    entry = next(e for e in review.entries if e.request.borrower_symbol == "UIU")
    (message,) = entry.messages
    assert message.kind == overdue_at_borrowers.LOST_KIND
    return message


def _notice(rt: Runtime, notice_id: int) -> Notice:
    with rt.db.reading() as session:
        return session.get_one(Notice, notice_id)


def test_directory_set_and_list_audited(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    assert partner_directory.list_partners(demo_rt, office) == []
    row = partner_directory.set_partner(
        demo_rt, office, " uiu", email=" ILL-Lending@UIU.example.org ", name="University of Iowa"
    )
    assert (row.symbol, row.email, row.name, row.updated_by) == (
        "UIU",
        UIU_MAIL,
        "University of Iowa",
        "office",
    )
    renamed = partner_directory.set_partner(demo_rt, actor_at("admin", "WS-ILL"), "UIU", name="UI")
    assert (renamed.email, renamed.name) == (UIU_MAIL, "UI")  # the address stays
    assert [p.symbol for p in partner_directory.list_partners(demo_rt, office)] == ["UIU"]
    with demo_rt.db.reading() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "partner.set").order_by(AuditEvent.id)
        ).all()
    assert [e.username for e in events] == ["office", "admin"]
    assert events[1].before == {"name": "University of Iowa", "email": UIU_MAIL}


@pytest.mark.parametrize(
    ("symbol", "email", "name", "says"),
    [
        ("UIU", "not an address", None, "not an e-mail address"),
        ("UIU", "a@b.org\nBcc: x@y.org", None, "not an e-mail address"),
        ("UIU", None, "N" * 10_000, "10,000 characters long"),
        ("UIU", None, None, "e-mail address or name, or both"),
        ("U I U", "a@b.org", None, "not an OCLC symbol"),
        ("X" * 10_000, "a@b.org", None, "not an OCLC symbol"),
    ],
)
def test_bad_directory_entries_are_refused(
    demo_rt: Runtime,
    actor_at: ActorAt,
    symbol: str,
    email: str | None,
    name: str | None,
    says: str,
) -> None:
    with pytest.raises(InvalidInput, match=says):
        partner_directory.set_partner(
            demo_rt, actor_at("office", "WS-ILL"), symbol, email=email, name=name
        )
    assert partner_directory.list_partners(demo_rt, actor_at("office", "WS-ILL")) == []


def test_desk_and_team_leads_do_not_keep_the_directory(demo_rt: Runtime, actor_at: ActorAt) -> None:
    for who, where in (("desk", "METRO"), ("ctl", "METRO")):
        with pytest.raises(PermissionDenied):
            partner_directory.set_partner(demo_rt, actor_at(who, where), "UIU", email="a@b.org")


def test_lost_message_is_emailed_to_the_partner_and_kept(
    demo_rt: Runtime, actor_at: ActorAt, smtp: SmtpServer
) -> None:
    office = actor_at("office", "WS-ILL")
    partner_directory.set_partner(demo_rt, office, "UIU", email=UIU_MAIL)
    message = _lost_message(demo_rt, office)
    assert message.recipient == UIU_MAIL and message.status is NoticeStatus.HELD
    assert "send it by e-mail" in message.problem
    # The daily outbox run never sends it by itself: staff review it first.
    with SmtpMailer(smtp.config) as mailer:
        daily_run.run_outbox(demo_rt, office, mailer, sender_domain="example.edu")
    assert UIU_MAIL not in [m.rcpt_tos[0] for m in smtp.inbox.received]
    smtp.inbox.received.clear()  # the patrons' notices the demo had queued

    emailed = overdue_at_borrowers.send_message(
        demo_rt, office, message.notice_id, WorkstationSettings()
    )
    assert emailed.sent and emailed.mail_problem == ""
    [mail] = smtp.inbox.received
    assert mail.rcpt_tos == [UIU_MAIL] and mail.mail_from == "ill@example.edu"
    assert str(mail.message["Subject"]) == message.subject
    assert mail.body.strip().splitlines() == message.body.strip().splitlines()
    kept = _notice(demo_rt, message.notice_id)  # the copy stays in the outbox
    assert kept.status is NoticeStatus.SENT and kept.recipient == UIU_MAIL
    with demo_rt.db.reading() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "lending.message_email")
        ).one()
    assert event.after == {"partner": "UIU", "recipient": UIU_MAIL}


def test_without_an_address_it_is_refused_and_can_still_be_copied(
    demo_rt: Runtime, actor_at: ActorAt, smtp: SmtpServer
) -> None:
    office = actor_at("office", "WS-ILL")
    message = _lost_message(demo_rt, office)  # prepared before the directory knew UIU
    assert message.recipient == "" and "copy it into the ILL system" in message.problem
    with pytest.raises(InvalidInput, match="no e-mail address for UIU in the partner directory"):
        overdue_at_borrowers.send_message(demo_rt, office, message.notice_id, WorkstationSettings())
    assert smtp.inbox.received == []
    partner_directory.set_partner(demo_rt, office, "UIU", email=UIU_MAIL)
    emailed = overdue_at_borrowers.send_message(
        demo_rt, office, message.notice_id, WorkstationSettings()
    )
    assert emailed.sent and [m.rcpt_tos for m in smtp.inbox.received] == [[UIU_MAIL]]


def test_mail_server_down_keeps_the_message_queued_then_sends_it_once(
    demo_rt: Runtime, actor_at: ActorAt, smtp_port: int, clock: FixedClock
) -> None:
    office = actor_at("office", "WS-ILL")
    partner_directory.set_partner(demo_rt, office, "UIU", email=UIU_MAIL)
    message = _lost_message(demo_rt, office)
    emailed = overdue_at_borrowers.send_message(
        demo_rt, office, message.notice_id, WorkstationSettings()
    )  # nothing listens on the port
    assert not emailed.sent
    assert "cannot be reached" in emailed.mail_problem
    assert emailed.message.status is NoticeStatus.FAILED
    row = _notice(demo_rt, message.notice_id)
    assert row.status is NoticeStatus.FAILED and "cannot be reached" in (row.last_error or "")
    assert row.body == message.body and row.recipient == UIU_MAIL  # nothing lost

    server = SmtpServer(smtp_port)
    server.start()
    try:
        clock.advance(minutes=6)  # the outbox retries it after 5 minutes
        with SmtpMailer(server.config) as mailer:
            run = daily_run.run_outbox(demo_rt, office, mailer, sender_domain="example.edu")
            again = daily_run.run_outbox(demo_rt, office, mailer, sender_domain="example.edu")
    finally:
        server.stop()
    assert run.sent >= 1 and again.sent == 0
    assert [m.rcpt_tos for m in server.inbox.received].count([UIU_MAIL]) == 1
    assert _notice(demo_rt, message.notice_id).status is NoticeStatus.SENT


def test_ifm_note_prepared_once_and_emailed(
    demo_rt: Runtime, actor_at: ActorAt, smtp: SmtpServer
) -> None:
    office = actor_at("office", "WS-ILL")
    lost = _lost_message(demo_rt, office)
    tx = ifm.record_transaction(demo_rt, office, lost.request_number, "85.00")
    partner_directory.set_partner(demo_rt, office, "UIU", email=UIU_MAIL)
    note = overdue_at_borrowers.prepare_ifm_note(demo_rt, office, tx.id)
    assert note.kind == "ifm" and note.partner_symbol == "UIU" and note.recipient == UIU_MAIL
    assert note.status is NoticeStatus.HELD and "85.00" in note.body
    assert overdue_at_borrowers.prepare_ifm_note(demo_rt, office, tx.id) == note  # once
    emailed = overdue_at_borrowers.send_message(
        demo_rt, office, note.notice_id, WorkstationSettings()
    )
    assert emailed.sent
    [mail] = [m for m in smtp.inbox.received if m.rcpt_tos == [UIU_MAIL]]
    assert "85.00" in mail.body
    with pytest.raises(PermissionDenied):
        overdue_at_borrowers.prepare_ifm_note(demo_rt, actor_at("ctl", "METRO"), tx.id)
