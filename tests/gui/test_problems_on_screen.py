"""Problems that would otherwise go unseen reach the screen: no audio, no mail server, an
answer below the fold of a small monitor."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea
from pytestqt.qtbot import QtBot

from app.workstation.config import WorkstationSettings
from tests.gui.waiting import settle
from ui import sounds
from ui.desk_session import DeskSession
from ui.screens.lending_screen import LendingScreen
from ui.screens.notices_panel import NoticesPanel
from ui.status_bar import DeskStatusBar

pytestmark = pytest.mark.gui

SessionAt = Callable[[str, str], DeskSession]


def _fresh_audio_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sounds, "_effect_class", None)
    monkeypatch.setattr(sounds, "_unavailable_reason", None)


def test_the_status_bar_says_sounds_are_off_without_audio(
    monkeypatch: pytest.MonkeyPatch, qtbot: QtBot, desk_session: SessionAt
) -> None:
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)  # no audio stack
    _fresh_audio_check(monkeypatch)
    status = DeskStatusBar(desk_session("desk", "METRO"), None, lambda: None)
    qtbot.addWidget(status)
    assert not status.sounds_label.isHidden()
    assert status.sounds_label.text() == "Sounds off"
    assert "audio libraries are missing" in status.sounds_label.toolTip()
    assert "Scans still work" in status.sounds_label.toolTip()


def test_no_audio_device_is_sounds_off_too(
    monkeypatch: pytest.MonkeyPatch, qtbot: QtBot, desk_session: SessionAt
) -> None:
    class NoDevices:
        @staticmethod
        def audioOutputs() -> list[object]:
            return []

    class Multimedia:
        QMediaDevices = NoDevices
        QSoundEffect = object

    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", Multimedia)
    _fresh_audio_check(monkeypatch)
    assert sounds.sounds_off_reason() == "no audio device is connected"
    assert not sounds.SoundPlayer(desk_session("desk", "METRO").settings).available
    status = DeskStatusBar(desk_session("desk", "METRO"), None, lambda: None)
    qtbot.addWidget(status)
    assert not status.sounds_label.isHidden()
    assert "no audio device is connected" in status.sounds_label.toolTip()


def test_no_sounds_note_where_sounds_play(
    monkeypatch: pytest.MonkeyPatch, qtbot: QtBot, desk_session: SessionAt
) -> None:
    class Devices:
        @staticmethod
        def audioOutputs() -> list[object]:
            return ["speakers"]

    class Multimedia:
        QMediaDevices = Devices
        QSoundEffect = object

    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", Multimedia)
    _fresh_audio_check(monkeypatch)
    status = DeskStatusBar(desk_session("desk", "METRO"), None, lambda: None)
    qtbot.addWidget(status)
    assert status.sounds_label.isHidden()


def test_the_notices_panel_says_when_this_desk_has_no_mail_server(
    monkeypatch: pytest.MonkeyPatch, qtbot: QtBot, desk_session: SessionAt
) -> None:
    for name in ("ILLDESK_SMTP_HOST", "ILLDESK_SMTP_SENDER", "ILLDESK_SMTP_PORT"):
        monkeypatch.delenv(name, raising=False)
    office = desk_session("office", "WS-ILL")
    panel = NoticesPanel(DeskSession(office.rt, office.actor, WorkstationSettings()))
    qtbot.addWidget(panel)
    settle(qtbot)
    assert not panel.mail_note.isHidden()
    said = panel.mail_note.text()
    assert "Notices cannot be e-mailed from this desk" in said
    assert "No mail server is set" in said and "smtp_host" in said  # what to set
    assert "Ask IT" in said

    ready = WorkstationSettings(smtp_host="mail.example.edu", smtp_sender="ill@example.edu")
    panel = NoticesPanel(DeskSession(office.rt, office.actor, ready))
    qtbot.addWidget(panel)
    settle(qtbot)
    assert panel.mail_note.isHidden()


def test_the_yellow_flag_reminder_is_scrolled_into_view_on_a_small_screen(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    screen = LendingScreen(desk_session("ctl", "METRO"))
    scroller = QScrollArea()  # as the main window holds every screen
    scroller.setWidgetResizable(True)
    scroller.setWidget(screen)
    qtbot.addWidget(scroller)
    screen.setMinimumHeight(1400)  # taller than the window: the bottom is below the fold
    scroller.resize(1000, 500)
    scroller.show()
    qtbot.waitExposed(scroller)
    settle(qtbot)
    pull = screen.pull
    assert pull is not None
    (number,) = pull.table.keys()
    pull.table.select_key(number)
    pull.account_input.setText("777110346")
    qtbot.mouseClick(pull.checkout_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "YELLOW FLAG" in pull.flag_banner.text()
    qtbot.waitUntil(lambda: not pull.flag_banner.visibleRegion().isEmpty())
    qtbot.waitUntil(lambda: not pull.feedback.visibleRegion().isEmpty())
