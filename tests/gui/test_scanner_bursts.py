"""A stray Alt, an open menu, a click on a list or the recovery panel: the scan still lands
in the scan field, and Enter never signs the worker out (pytest-qt, the real desk window).

A scanner types a burst about 8 ms a key, then Enter, into whatever has the keyboard.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from app.desk.checkin import CheckInResult
from tests.gui.scanner import keyboard_owner, scanner_scan
from tests.gui.waiting import settle
from ui.desk_session import DeskSession
from ui.main_window import MainWindow
from ui.screens.check_in_screen import CheckInScreen

pytestmark = [
    pytest.mark.gui,
    # Menus grab the keyboard; the offscreen plugin the tests run on says it cannot.
    pytest.mark.qt_log_ignore("This plugin does not support grabbing"),
]

SessionAt = Callable[[str, str], DeskSession]
WAIT_MS = 10_000
PERSON_MS_PER_KEY = 150  # someone typing on purpose


@pytest.fixture
def backend() -> str:
    """Keys and focus are the window's business; check-in is tested on both databases."""
    return "sqlite"


@pytest.fixture
def window(qtbot: QtBot, desk_session: SessionAt) -> Iterator[MainWindow]:
    win = MainWindow(desk_session("desk", "METRO"))
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: check_in(win).scan_field.hasFocus(), timeout=WAIT_MS)
    settle(qtbot)
    yield win
    settle(qtbot)


def check_in(window: MainWindow) -> CheckInScreen:
    page = window.page("checkIn")
    assert isinstance(page, CheckInScreen)
    return page


def scan_is_checked_in(qtbot: QtBot, window: MainWindow, barcode: str) -> CheckInResult:
    """Scan into whatever has the keyboard; the Check In screen must check it in."""
    with qtbot.waitSignal(check_in(window).scanProcessed, timeout=WAIT_MS) as done:
        scanner_scan(qtbot, barcode)
    result = done.args[0]
    assert isinstance(result, CheckInResult) and result.barcode == barcode
    return result


def signed_out(window: MainWindow) -> list[int]:
    seen: list[int] = []
    window.signOutRequested.connect(lambda: seen.append(1))
    return seen


def test_a_stray_alt_neither_loses_the_scan_nor_lets_enter_sign_out(
    qtbot: QtBot, window: MainWindow
) -> None:
    gone = signed_out(window)
    field = check_in(window).scan_field
    qtbot.keyPress(field, Qt.Key.Key_Alt, Qt.KeyboardModifier.AltModifier)
    qtbot.keyRelease(field, Qt.Key.Key_Alt, Qt.KeyboardModifier.NoModifier)
    assert keyboard_owner() is field  # the menu bar did not take the keyboard

    scan_is_checked_in(qtbot, window, "ILL00000026")
    scan_is_checked_in(qtbot, window, "ILL00000018")
    assert window.isVisible() and gone == []
    assert QApplication.activePopupWidget() is None


def test_a_scan_into_an_open_menu_closes_it_and_is_checked_in(
    qtbot: QtBot, window: MainWindow
) -> None:
    gone = signed_out(window)
    qtbot.keyClick(keyboard_owner(), Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu) and menu.objectName() == "deskMenu"  # Alt+D still works

    scan_is_checked_in(qtbot, window, "ILL00000026")
    assert QApplication.activePopupWidget() is None
    assert window.isVisible() and gone == []


def test_escape_from_a_menu_then_a_scan_is_checked_in(qtbot: QtBot, window: MainWindow) -> None:
    gone = signed_out(window)
    bar = window.menuBar()
    go = window.findChild(QMenu, "goMenu")
    assert go is not None
    qtbot.mouseClick(
        bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(go.menuAction()).center()
    )
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is go, timeout=WAIT_MS)
    qtbot.keyClick(go, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None, timeout=WAIT_MS)

    scan_is_checked_in(qtbot, window, "ILL00000026")
    scan_is_checked_in(qtbot, window, "ILL00000018")  # and again: no menu in the way
    assert window.isVisible() and gone == []


def test_enter_in_the_desk_menu_opened_from_the_keyboard_is_not_sign_out(
    qtbot: QtBot, window: MainWindow
) -> None:
    gone = signed_out(window)
    qtbot.keyClick(keyboard_owner(), Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    qtbot.keyClick(menu, Qt.Key.Key_Return)  # Enter alone: the first entry
    assert window.isVisible() and gone == []
    assert window.help_dialog is not None and window.help_dialog.isVisible()
    window.help_dialog.close()


def test_scans_from_the_screen_list_and_the_recovery_panel_reach_the_scan_field(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.nav.setFocus()
    assert keyboard_owner() is window.nav
    scan_is_checked_in(qtbot, window, "ILL00000026")
    assert window.current_key() == "checkIn"  # the list's type-ahead did not move screens

    screen = check_in(window)
    screen.show_recovery()
    patron = screen.recovery.patron_input
    assert keyboard_owner() is patron
    scan_is_checked_in(qtbot, window, "ILL00000018")
    assert patron.text() == ""

    patron.setFocus()
    qtbot.keyClicks(patron, "T00123456", delay=PERSON_MS_PER_KEY)  # typed on purpose
    qtbot.wait(200)
    assert patron.text() == "T00123456"  # a person's typing stays where it is typed


def test_sign_out_asks_while_scans_are_queued_and_enter_means_stay(
    qtbot: QtBot, window: MainWindow
) -> None:
    gone = signed_out(window)
    screen = check_in(window)
    release = threading.Event()
    window.session.ops.run(lambda: release.wait(WAIT_MS / 1000), name="a slow database")
    scanner_scan(qtbot, "ILL00000026")
    scanner_scan(qtbot, "ILL00000018")
    assert "2 scan(s) waiting" in screen.pending.text()

    asked: list[str] = []

    def answer_with_enter() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer_with_enter)
            return
        asked.append(box.informativeText())
        qtbot.keyClick(box, Qt.Key.Key_Return)

    QTimer.singleShot(20, answer_with_enter)
    qtbot.keyClick(
        keyboard_owner(),
        Qt.Key.Key_L,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert asked and "2 scan(s) on Check In are not checked in yet." in asked[0]
    assert window.isVisible() and gone == []  # Enter chose "Stay signed in"

    release.set()
    qtbot.waitUntil(lambda: screen.scan_list.count() == 2, timeout=WAIT_MS)
    window.sign_out_button.click()  # nothing waiting: signs out at once
    assert gone == [1]
