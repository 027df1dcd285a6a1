"""The outbox panel (preview, edit, send) and the Admin notice-template editor."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.library.actors import Actor
from app.library.runtime import Runtime
from app.notices import daily_run
from app.notices.outbox import queue_notice
from app.workstation.config import WorkstationSettings
from db.models import IllRequest, NoticeTemplate, Patron, RequestStatus
from tests.gui.waiting import settle
from tests.notices.test_notices_smtp import SmtpServer, free_port
from tests.signed_in import as_office
from ui.admin.templates_tab import TemplatesTab
from ui.desk_session import DeskSession
from ui.screens.notices_panel import NoticesPanel

ActorAt = Callable[[str, str], Actor]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def queue_cancellation(rt: Runtime) -> int:
    with rt.db.transaction() as s:
        req = s.scalar(select(IllRequest).where(IllRequest.status == RequestStatus.CANCELLED))
        assert req is not None
        patron = s.get(Patron, req.patron_id)
        notice = queue_notice(
            s, "request_cancelled", at=rt.clock.now(), patron=patron, request_id=req.id
        )
        assert notice is not None
        s.flush()
        return notice.id


def test_manual_notice_is_previewed_edited_and_sent_from_the_panel(
    qtbot: QtBot, demo_rt: Runtime, actor_at: ActorAt, smtp: SmtpServer
) -> None:
    notice_id = queue_cancellation(demo_rt)
    daily_run.prepare_outbox(demo_rt, as_office(demo_rt))
    settings = WorkstationSettings(
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
        smtp_sender="ill@example.edu",
    )
    panel = NoticesPanel(DeskSession(demo_rt, actor_at("office", "WS-ILL"), settings))
    qtbot.addWidget(panel)
    panel.show()
    settle(qtbot)
    assert "not run yet today" in panel.run_button.text()
    assert panel.select_notice(notice_id)
    settle(qtbot)
    row = panel.table.currentRow()
    assert panel.table.item(row, 2).text() == "needs review"
    assert "Manual notice" in panel.state_label.text()
    assert "Reason: No library was able to lend this item." in panel.body_edit.toPlainText()
    panel.body_edit.setPlainText(
        panel.body_edit.toPlainText().replace("Reason:", "We are sorry. Reason:")
    )
    with qtbot.waitSignal(panel.run_finished, timeout=20000):
        panel.send_button.click()
    qtbot.waitUntil(lambda: panel.worker is None, timeout=5000)
    settle(qtbot)
    [mail] = smtp.inbox.received
    assert "We are sorry. Reason:" in mail.body
    assert "Sent 1" in panel.feedback.text()
    panel.select_notice(notice_id)
    assert panel.table.item(panel.table.currentRow(), 2).text() == "sent"
    assert not panel.send_button.isEnabled()


def test_panel_shows_why_a_notice_is_held_and_refuses_a_private_address(
    qtbot: QtBot, demo_rt: Runtime, actor_at: ActorAt
) -> None:
    notice_id = queue_cancellation(demo_rt)
    daily_run.prepare_outbox(demo_rt, as_office(demo_rt))
    panel = NoticesPanel(DeskSession(demo_rt, actor_at("office", "WS-ILL"), WorkstationSettings()))
    qtbot.addWidget(panel)
    settle(qtbot)
    panel.select_notice(notice_id)
    settle(qtbot)
    panel.recipient_edit.setText("mai.nguyen@gmail.com")
    panel.release_button.click()
    settle(qtbot)
    assert "institutional address" in panel.feedback.text()
    assert panel.feedback.property("tone") == "problem"


def test_template_with_unknown_field_is_refused_in_the_editor(
    qtbot: QtBot, demo_rt: Runtime, actor_at: ActorAt
) -> None:
    tab = TemplatesTab(DeskSession(demo_rt, actor_at("admin", "METRO"), WorkstationSettings()))
    qtbot.addWidget(tab)
    settle(qtbot)
    tab.choose("due_soon")
    settle(qtbot)
    assert "{{ due_date }}" in tab.fields_label.text()
    assert not tab.reset_button.isEnabled()
    tab.body_edit.setPlainText("Hello {{ patron_nmae }}, due {{ due_date }}.")
    tab.save_button.click()
    settle(qtbot)
    assert "unknown field(s): patron_nmae" in tab.feedback.text()
    with demo_rt.db.reading() as s:
        assert s.scalar(select(NoticeTemplate)) is None
    tab.body_edit.setPlainText("Hello {{ patron_first_name }}, due {{ due_date }}.")
    tab.preview_button.click()
    settle(qtbot)
    assert "Hello Zoë, due Thursday, 5 November 2026." in tab.preview_view.toPlainText()
    tab.save_button.click()
    settle(qtbot)
    assert tab.feedback.property("tone") == "good"
    assert tab.kind_list.currentItem().text().endswith("(edited)")
    assert tab.reset_button.isEnabled()
    tab.reset_button.click()
    settle(qtbot)
    assert "default wording" in tab.feedback.text()
    assert "renewal" in tab.body_edit.toPlainText()
