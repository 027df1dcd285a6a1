"""Patrons: every notice the patron got; the office resends one or composes a one-off."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from db.models import Notice, NoticeStatus
from tests.gui.waiting import settle
from tests.notices.test_notices_smtp import queue_for
from ui.desk_session import DeskSession
from ui.screens.patrons_screen import PatronsScreen

pytestmark = pytest.mark.gui

SessionAt = Callable[[str, str], DeskSession]


def _screen(qtbot: QtBot, session: DeskSession) -> PatronsScreen:
    screen = PatronsScreen(session)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    return screen


def test_office_sees_resends_and_composes(qtbot: QtBot, desk_session: SessionAt) -> None:
    session = desk_session("office", "WS-ILL")
    sent_id = queue_for(session.rt, "request_received", "T00123456")
    with session.rt.db.transaction() as s:
        row = s.get_one(Notice, sent_id)
        row.status, row.subject, row.body = NoticeStatus.SENT, "We have your request", "Text"
    screen = _screen(qtbot, session)
    screen.show_patron("T00123456")
    settle(qtbot)
    assert screen.notices.keys()[0] == str(sent_id)
    assert screen.notices.item(0, 3).text() == "sent"
    before = screen.notices.rowCount()

    assert screen.resend_button is not None and screen.compose_button is not None
    qtbot.mouseClick(screen.resend_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "Select a sent notice" in screen.notice_feedback.text()
    screen.notices.select_key(str(sent_id))
    qtbot.mouseClick(screen.resend_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert f"A copy of notice {sent_id} is queued" in screen.notice_feedback.text()
    assert screen.notices.rowCount() == before + 1
    assert screen.notices.item(0, 5).text() == "We have your request"

    assert screen.template_combo is not None
    screen.template_combo.setCurrentIndex(screen.template_combo.findData("overdue"))
    qtbot.mouseClick(screen.compose_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "held in the outbox" in screen.notice_feedback.text()
    assert screen.notices.rowCount() == before + 2
    assert screen.notices.item(0, 3).text() == "held"


def test_desk_sees_the_notices_but_does_not_steer_them(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("desk", "METRO")
    queue_for(session.rt, "request_received", "T00123456")
    screen = _screen(qtbot, session)
    screen.show_patron("T00123456")
    settle(qtbot)
    assert screen.notices.rowCount() >= 1
    assert screen.resend_button is None and screen.compose_button is None
