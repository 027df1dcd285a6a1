"""The desk window opens maximised on a new desk, and as it was left on this PC after that."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QSize, Qt
from pytestqt.qtbot import QtBot

from app.library.actors import Actor
from app.library.runtime import Runtime
from app.workstation.config import WorkstationSettings, load_settings
from ui.desk_session import DeskSession
from ui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def backend() -> str:
    return "sqlite"


def open_window(
    qtbot: QtBot, rt: Runtime, actor: Actor, settings: WorkstationSettings
) -> MainWindow:
    window = MainWindow(DeskSession(rt, actor, settings))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_a_new_desk_opens_maximised_to_fill_the_screen(
    qtbot: QtBot, demo_rt: Runtime, actor_at: Callable[[str, str], Actor]
) -> None:
    window = open_window(qtbot, demo_rt, actor_at("desk", "METRO"), WorkstationSettings())
    assert window.isMaximized()
    screen = window.screen().availableGeometry()
    qtbot.waitUntil(lambda: window.width() >= screen.width() - 20)
    assert window.height() >= screen.height() - 60


def test_the_desk_remembers_an_unmaximised_size_in_its_workstation_settings(
    qtbot: QtBot, demo_rt: Runtime, actor_at: Callable[[str, str], Actor]
) -> None:
    actor = actor_at("desk", "METRO")
    window = open_window(qtbot, demo_rt, actor, WorkstationSettings())
    window.showNormal()
    window.resize(600, 520)  # as small as the window goes, on the test's small screen
    qtbot.waitUntil(lambda: window.height() == 520)
    chosen = window.size()
    assert not window.isMaximized()
    window.close()

    saved = load_settings()  # this PC's settings file
    assert not saved.window_maximized
    assert QSize(saved.window_width, saved.window_height) == chosen
    again = open_window(qtbot, demo_rt, actor, saved)
    assert not again.isMaximized() and again.size() == chosen

    again.setWindowState(Qt.WindowState.WindowMaximized)
    qtbot.waitUntil(again.isMaximized)
    again.close()
    assert load_settings().window_maximized  # maximised again next time
