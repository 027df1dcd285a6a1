"""Notices delivered to a real SMTP server (aiosmtpd on 127.0.0.1), retried, never doubled."""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.runtime import Runtime
from app.notices import daily_run, outbox_review
from app.notices.mailer import (
    DeliveryFailed,
    MailerNotConfigured,
    SmtpConfig,
    SmtpMailer,
    mail_server_problem,
    smtp_config,
)
from app.notices.outbox import queue_notice
from app.workstation.config import WorkstationSettings
from db.models import IllRequest, Notice, NoticeStatus, Patron, RequestStatus
from tests.signed_in import as_desk, as_office

ActorAt = Callable[[str, str], Actor]
SENDER = "ill@example.edu"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: Message

    @property
    def body(self) -> str:
        payload = self.message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode(self.message.get_content_charset() or "utf-8")


@dataclass
class Inbox:
    """The aiosmtpd handler: keeps what arrives; can refuse recipients."""

    received: list[Received] = field(default_factory=list)
    refuse_rcpt: bool = False
    refusal: str = "550 5.1.1 mailbox unavailable"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse_rcpt:
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def config(self) -> SmtpConfig:
        return SmtpConfig(host="127.0.0.1", port=self.port, starttls=False, sender=SENDER)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def run(rt: Runtime, server: SmtpServer, *, daily: bool = False) -> daily_run.OutboxRun:
    """Send the outbox; with `daily`, queue the day's reminders first."""
    with SmtpMailer(server.config) as mailer:
        return daily_run.run_outbox(
            rt, as_office(rt), mailer, sender_domain="example.edu", reminders=daily
        )


def queue_for(rt: Runtime, kind: str, patron_id: str, **context: Any) -> int:
    with rt.db.transaction() as s:
        patron = s.scalar(select(Patron).where(Patron.patron_id == patron_id))
        assert patron is not None
        req_id = s.scalar(select(IllRequest.id).where(IllRequest.patron_id == patron.id))
        notice = queue_notice(
            s, kind, at=rt.clock.now(), patron=patron, request_id=req_id, context=context
        )
        assert notice is not None
        s.flush()
        return notice.id


def notice_row(rt: Runtime, notice_id: int) -> Notice:
    with rt.db.reading() as s:
        notice = s.get(Notice, notice_id)
        assert notice is not None
        return notice


def test_request_received_reaches_the_patron(demo_rt: Runtime, smtp: SmtpServer) -> None:
    notice_id = queue_for(demo_rt, "request_received", "T00123456")
    result = run(demo_rt, smtp)
    assert result.sent == 1
    [mail] = smtp.inbox.received
    assert mail.rcpt_tos == ["renee.muller@example.edu"]
    assert mail.mail_from == SENDER
    assert mail.message["To"] == "renee.muller@example.edu"
    with demo_rt.db.reading() as s:
        req = s.scalar(select(IllRequest).join(Patron).where(Patron.patron_id == "T00123456"))
        assert req is not None
    assert req.request_number in str(mail.message["Subject"])
    assert "Dear Renée," in mail.body
    assert req.title in mail.body
    assert "ready for pickup" in mail.body
    row = notice_row(demo_rt, notice_id)
    assert row.status is NoticeStatus.SENT and row.sent_at == demo_rt.clock.now()
    assert row.attempts == 1
    assert f"<notice-{notice_id}." in str(mail.message["Message-ID"])


def test_daily_run_sends_due_soon_and_overdue_once(demo_rt: Runtime, smtp: SmtpServer) -> None:
    first = run(demo_rt, smtp, daily=True)
    assert (first.queued_due_soon, first.queued_overdue, first.sent) == (1, 1, 2)
    again = run(demo_rt, smtp, daily=True)
    assert (again.queued_due_soon, again.queued_overdue, again.sent) == (0, 0, 0)
    by_to = {m.rcpt_tos[0]: m for m in smtp.inbox.received}
    due_soon = by_to["mai.nguyen@example.edu"]
    assert str(due_soon.message["Subject"]).startswith("Due ")
    assert "(in 2 days)" in due_soon.body
    assert "renewal in your ILL account" in due_soon.body
    assert '"request again") is not a renewal' in due_soon.body
    overdue = by_to["carlos.pena@example.edu"]
    assert "9 days overdue" in overdue.body
    demo_rt.clock.advance(days=1)  # type: ignore[attr-defined]
    next_day = run(demo_rt, smtp, daily=True)
    assert (next_day.queued_due_soon, next_day.queued_overdue) == (0, 0)
    demo_rt.clock.advance(days=6)  # type: ignore[attr-defined]
    week_later = run(demo_rt, smtp, daily=True)
    # Carlos gets his weekly reminder; Mai's item is now overdue too.
    assert week_later.queued_overdue == 2
    assert len(smtp.inbox.received) == 4


def test_smtp_down_then_up_delivers_exactly_once(demo_rt: Runtime) -> None:
    server = SmtpServer(free_port())
    notice_id = queue_for(demo_rt, "request_received", "T00234567")
    down = run(demo_rt, server)
    assert down.sent == 0 and down.failed == 1
    assert "cannot be reached" in down.mail_problem
    row = notice_row(demo_rt, notice_id)
    assert row.status is NoticeStatus.FAILED and row.attempts == 1
    assert row.last_error and "cannot be reached" in row.last_error
    assert row.next_attempt_at == demo_rt.clock.now() + timedelta(minutes=5)
    server.start()
    try:
        assert run(demo_rt, server).sent == 0  # back-off: not due yet
        demo_rt.clock.advance(minutes=5)  # type: ignore[attr-defined]
        assert run(demo_rt, server).sent == 1
        assert run(demo_rt, server).sent == 0
        demo_rt.clock.advance(hours=1)  # type: ignore[attr-defined]
        assert run(demo_rt, server).sent == 0
        assert [m.rcpt_tos for m in server.inbox.received] == [["jamal.okafor@example.edu"]]
    finally:
        server.stop()
    row = notice_row(demo_rt, notice_id)
    assert row.status is NoticeStatus.SENT and row.attempts == 2 and row.last_error is None


def test_a_permanent_refusal_stops_and_says_why(demo_rt: Runtime, smtp: SmtpServer) -> None:
    """A 5xx answer is final: held for staff with the server's words, never retried."""
    smtp.inbox.refuse_rcpt = True
    notice_id = queue_for(demo_rt, "request_received", "T00345678")
    assert run(demo_rt, smtp).failed == 1
    row = notice_row(demo_rt, notice_id)
    assert row.status is NoticeStatus.HELD and row.attempts == 1
    assert row.held_reason and "refused it for good" in row.held_reason
    assert "550 5.1.1 mailbox unavailable" in row.held_reason
    demo_rt.clock.advance(hours=24)  # type: ignore[attr-defined]
    assert run(demo_rt, smtp).failed == 0  # not tried again
    assert notice_row(demo_rt, notice_id).attempts == 1


def test_a_temporary_refusal_is_retried_with_growing_back_off(
    demo_rt: Runtime, smtp: SmtpServer
) -> None:
    smtp.inbox.refuse_rcpt = True
    smtp.inbox.refusal = "450 4.2.1 mailbox busy, try later"
    notice_id = queue_for(demo_rt, "request_received", "T00345678")
    assert run(demo_rt, smtp).failed == 1
    row = notice_row(demo_rt, notice_id)
    assert row.status is NoticeStatus.FAILED
    assert row.last_error and "450" in row.last_error
    demo_rt.clock.advance(minutes=5)  # type: ignore[attr-defined]
    run(demo_rt, smtp)
    row = notice_row(demo_rt, notice_id)
    assert row.attempts == 2
    assert row.next_attempt_at == demo_rt.clock.now() + timedelta(minutes=10)
    smtp.inbox.refuse_rcpt = False
    demo_rt.clock.advance(minutes=10)  # type: ignore[attr-defined]
    assert run(demo_rt, smtp).sent == 1
    assert len(smtp.inbox.received) == 1


def test_patron_without_institutional_address_is_held(
    demo_rt: Runtime, smtp: SmtpServer, actor_at: ActorAt
) -> None:
    with demo_rt.db.transaction() as s:
        patron = s.scalar(select(Patron).where(Patron.patron_id == "T00567890"))
        assert patron is not None
        patron.email = "aisha.rahman@gmail.com"
    notice_id = queue_for(demo_rt, "request_received", "T00567890")
    result = run(demo_rt, smtp)
    assert result.held == 1 and result.sent == 0
    assert smtp.inbox.received == []
    row = notice_row(demo_rt, notice_id)
    assert row.status is NoticeStatus.HELD
    assert row.held_reason and "@example.edu" in row.held_reason
    assert "T00567890" in row.held_reason
    office = actor_at("office", "WS-ILL")
    with pytest.raises(InvalidInput, match="institutional address"):
        outbox_review.release_notice(demo_rt, office, notice_id)
    view = outbox_review.get_notice(demo_rt, as_office(demo_rt), notice_id)
    outbox_review.edit_notice(
        demo_rt,
        office,
        notice_id,
        recipient="aisha.rahman@example.edu",
        subject=view.subject,
        body=view.body,
    )
    outbox_review.release_notice(demo_rt, office, notice_id)
    assert run(demo_rt, smtp).sent == 1
    assert smtp.inbox.received[0].rcpt_tos == ["aisha.rahman@example.edu"]


def test_manual_notice_waits_for_review_and_goes_as_edited(
    demo_rt: Runtime, smtp: SmtpServer, actor_at: ActorAt
) -> None:
    with demo_rt.db.transaction() as s:
        req = s.scalar(select(IllRequest).where(IllRequest.status == RequestStatus.CANCELLED))
        assert req is not None
        patron = s.get(Patron, req.patron_id)
        notice = queue_notice(
            s, "request_cancelled", at=demo_rt.clock.now(), patron=patron, request_id=req.id
        )
        assert notice is not None
        s.flush()
        notice_id, reason = notice.id, req.cancel_reason
    assert run(demo_rt, smtp).held == 1
    summary = outbox_review.outbox_summary(demo_rt, as_office(demo_rt))
    assert (summary.held, summary.needs_review, summary.queued) == (1, 1, 0)
    view = outbox_review.get_notice(demo_rt, as_office(demo_rt), notice_id)
    assert view.needs_review
    assert reason and f"Reason: {reason}" in view.body
    office = actor_at("office", "WS-ILL")
    edited = view.body.replace("Reason:", "We are sorry. Reason:")
    outbox_review.edit_notice(
        demo_rt, office, notice_id, recipient=view.recipient, subject=view.subject, body=edited
    )
    assert run(demo_rt, smtp).sent == 0  # still held: editing is not sending
    result = outbox_review.send_one(
        demo_rt,
        office,
        notice_id,
        WorkstationSettings(
            smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False, smtp_sender=SENDER
        ),
    )
    assert result.sent == 1
    [mail] = smtp.inbox.received
    assert "We are sorry. Reason:" in mail.body
    assert mail.rcpt_tos == ["mai.nguyen@example.edu"]


def test_crash_after_the_server_accepted_never_sends_twice(
    demo_rt: Runtime, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    notice_id = queue_for(demo_rt, "request_received", "T00678901")

    def database_lost(rt: Runtime, nid: int) -> None:
        raise ConnectionError("database went away")

    monkeypatch.setattr(daily_run, "_record_sent", database_lost)
    with pytest.raises(ConnectionError):
        run(demo_rt, smtp)
    monkeypatch.undo()
    assert len(smtp.inbox.received) == 1
    row = notice_row(demo_rt, notice_id)
    assert row.status is NoticeStatus.HELD
    assert row.held_reason and row.held_reason.startswith("Delivery uncertain")
    demo_rt.clock.advance(days=1)  # type: ignore[attr-defined]
    run(demo_rt, smtp)
    assert len(smtp.inbox.received) == 1


def test_lender_notice_goes_to_the_borrowing_library_address(
    demo_rt: Runtime, smtp: SmtpServer, actor_at: ActorAt
) -> None:
    with demo_rt.db.transaction() as s:
        req = s.scalar(select(IllRequest).where(IllRequest.borrower_symbol == "UIU"))
        assert req is not None
        without = queue_notice(
            s,
            "lender_overdue",
            at=demo_rt.clock.now(),
            partner_symbol="UIU",
            request_id=req.id,
            context={"days_overdue": 45},
        )
        with_address = queue_notice(
            s,
            "lender_overdue",
            at=demo_rt.clock.now(),
            partner_symbol="UIU",
            request_id=req.id,
            recipient="ill@uiowa.example.org",
            context={"days_overdue": 45},
        )
        assert without is not None and with_address is not None
        s.flush()
        without_id, title = without.id, req.title
    result = run(demo_rt, smtp)
    assert result.sent == 1 and result.held == 1
    [mail] = smtp.inbox.received
    assert mail.rcpt_tos == ["ill@uiowa.example.org"]
    assert "Dear colleagues at UIU" in mail.body and title in mail.body
    assert "Days overdue:       45" in mail.body
    assert "9100003" in str(mail.message["Subject"])
    row = notice_row(demo_rt, without_id)
    assert row.held_reason and "No e-mail address for UIU" in row.held_reason


def test_configuration_comes_from_settings_and_environment_and_hides_the_password() -> None:
    settings = WorkstationSettings(smtp_host="mail.example.edu", smtp_sender=SENDER)
    config = smtp_config(
        settings,
        {
            "ILLDESK_SMTP_PASSWORD": "s3cret-pw",
            "ILLDESK_SMTP_PORT": "2525",
            "ILLDESK_SMTP_STARTTLS": "0",
            "ILLDESK_SMTP_USERNAME": "illdesk",
        },
    )
    assert (config.host, config.port, config.starttls, config.username) == (
        "mail.example.edu",
        2525,
        False,
        "illdesk",
    )
    assert config.password == "s3cret-pw"
    assert "s3cret-pw" not in repr(config)
    with pytest.raises(MailerNotConfigured, match="ILLDESK_SMTP_HOST"):
        smtp_config(WorkstationSettings(), {})
    with pytest.raises(MailerNotConfigured, match="not a port"):
        smtp_config(settings, {"ILLDESK_SMTP_PORT": "smtp"})


def test_the_missing_mail_server_is_said_in_words_without_the_keyring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_keyring(*_args: object) -> str:
        raise AssertionError("the check must not wait on the keyring")

    monkeypatch.setattr("app.notices.mailer.smtp_password", no_keyring)
    problem = mail_server_problem(WorkstationSettings(), {})
    assert problem is not None and problem.startswith("No mail server is set")
    assert "smtp_host" in problem
    no_sender = WorkstationSettings(smtp_host="mail.example.edu")
    assert "No sender address" in (mail_server_problem(no_sender, {}) or "")
    ready = WorkstationSettings(
        smtp_host="mail.example.edu", smtp_sender=SENDER, smtp_username="illdesk"
    )
    assert mail_server_problem(ready, {}) is None
    assert (
        mail_server_problem(
            WorkstationSettings(), {"ILLDESK_SMTP_HOST": "m", "ILLDESK_SMTP_SENDER": SENDER}
        )
        is None
    )


def test_sign_in_refusal_does_not_reveal_the_password() -> None:
    # Nothing listens here: the error names the server, never the password.
    config = SmtpConfig(
        host="127.0.0.1",
        port=free_port(),
        starttls=False,
        sender=SENDER,
        username="illdesk",
        password="s3cret-pw",
    )
    with SmtpMailer(config) as mailer, pytest.raises(DeliveryFailed) as caught:
        from app.notices.mailer import OutgoingMail

        mailer.send(OutgoingMail("a@example.edu", "s", "b"))
    assert caught.value.connection and not caught.value.uncertain
    assert "s3cret-pw" not in caught.value.reason


def test_run_without_a_mail_server_queues_and_says_why(
    demo_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ILLDESK_SMTP_HOST", raising=False)
    assert daily_run.daily_run_due(demo_rt, as_desk(demo_rt))
    result = daily_run.run_daily_if_due(demo_rt, as_desk(demo_rt), WorkstationSettings())
    assert result is not None
    assert result.queued_due_soon == 1 and result.sent == 0
    assert "No mail server is set" in result.message
    assert result.waiting == 2
    assert not daily_run.daily_run_due(demo_rt, as_desk(demo_rt))
    assert daily_run.run_daily_if_due(demo_rt, as_desk(demo_rt), WorkstationSettings()) is None
    demo_rt.clock.advance(days=1)  # type: ignore[attr-defined]
    assert daily_run.daily_run_due(demo_rt, as_desk(demo_rt))


class DropsAfterData:
    """A mail server that takes the whole message, then vanishes before answering."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = int(self.listener.getsockname()[1])
        self.messages = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn, conn.makefile("rb") as lines:
            conn.sendall(b"220 test ready\r\n")
            for raw in lines:
                command = raw.strip().upper()
                if command.startswith((b"EHLO", b"HELO")):
                    conn.sendall(b"250 test\r\n")
                elif command.startswith((b"MAIL", b"RCPT")):
                    conn.sendall(b"250 OK\r\n")
                elif command == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    for data_line in lines:
                        if data_line == b".\r\n":
                            break
                    self.messages += 1
                    return  # the connection closes without the final answer

    def close(self) -> None:
        self.thread.join(timeout=10)
        self.listener.close()


def test_connection_lost_after_the_message_holds_it_as_uncertain(demo_rt: Runtime) -> None:
    server = DropsAfterData()
    notice_id = queue_for(demo_rt, "request_received", "T00789012")
    config = SmtpConfig(host="127.0.0.1", port=server.port, starttls=False, sender=SENDER)
    try:
        with SmtpMailer(config) as mailer:
            result = daily_run.run_outbox(demo_rt, as_office(demo_rt), mailer, reminders=False)
    finally:
        server.close()
    assert server.messages == 1
    assert result.uncertain == 1 and result.sent == 0 and result.failed == 0
    row = notice_row(demo_rt, notice_id)
    assert row.status is NoticeStatus.HELD
    assert row.held_reason and row.held_reason.startswith("Delivery uncertain")
    assert "may or may not have been delivered" in row.held_reason
    view = outbox_review.list_notices(demo_rt, as_office(demo_rt), NoticeStatus.HELD)[0]
    assert view.id == notice_id and not view.needs_review


def test_edited_body_with_lone_dots_arrives_intact(
    demo_rt: Runtime, smtp: SmtpServer, actor_at: ActorAt
) -> None:
    notice_id = queue_for(demo_rt, "request_received", "T00123456")
    daily_run.prepare_outbox(demo_rt, as_office(demo_rt))
    office = actor_at("office", "WS-ILL")
    body = "First line\n.\n..two dots\n.leading dot\nZoë & <Renée>\n"
    view = outbox_review.get_notice(demo_rt, as_office(demo_rt), notice_id)
    outbox_review.edit_notice(
        demo_rt, office, notice_id, recipient=view.recipient, subject="Ünïcode ✓", body=body
    )
    assert run(demo_rt, smtp).sent == 1
    [mail] = smtp.inbox.received
    assert mail.body.replace("\r\n", "\n") == body
    from email.header import decode_header, make_header

    assert str(make_header(decode_header(str(mail.message["Subject"])))) == "Ünïcode ✓"
