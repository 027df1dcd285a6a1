"""Scans are never eaten: whatever staff clicked or opened, the next scan lands in the scan
field (a scanner types a burst about 8 ms a key, then Enter, into whatever has the keyboard).

The clock is the fixed test clock: Monday 2 November 2026.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit
from pytestqt.qtbot import QtBot

from tests.demo_items import held_item, set_lender_date
from tests.gui.scanner import scanner_scan
from tests.gui.waiting import settle
from ui.desk_session import DeskSession
from ui.screens.check_out_screen import CheckOutScreen
from ui.screens.ill_office_screen import IllOfficeScreen

pytestmark = pytest.mark.gui

SessionAt = Callable[[str, str], DeskSession]
WAIT_MS = 10_000


@pytest.fixture
def backend() -> str:
    """Focus is the screen's business; the services under it are tested on both databases."""
    return "sqlite"


def _shown(qtbot: QtBot, widget: CheckOutScreen | IllOfficeScreen) -> None:
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    settle(qtbot)
    widget.activate()


def _escape_the_dialog_when_it_opens(qtbot: QtBot, seen: list[str]) -> None:
    """Cancel the next modal dialog with Escape, as staff who changed their mind do."""

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, look)
            return
        seen.append(type(dialog).__name__)
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    QTimer.singleShot(20, look)


def test_check_out_the_scan_after_renew_lands_in_the_strap_field(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("desk", "METRO")
    barcode = held_item(session.rt, "T00123456")
    set_lender_date(session.rt, barcode, date(2026, 12, 2))
    screen = CheckOutScreen(session)
    _shown(qtbot, screen)
    field = screen.findChild(QLineEdit, "patronInput")
    assert field is not None and field.hasFocus()
    scanner_scan(qtbot, "T00123456")  # the patron's card
    settle(qtbot)
    qtbot.waitUntil(screen.scan.hasFocus, timeout=WAIT_MS)

    screen.account.checkouts.selectRow(0)
    qtbot.mouseClick(screen.renew_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert screen.banner.headline.text() == "Not renewed at the desk"
    qtbot.waitUntil(screen.scan.hasFocus, timeout=WAIT_MS)

    scanner_scan(qtbot, barcode)
    settle(qtbot)
    assert screen.pending is not None and screen.pending.barcode == barcode
    assert not screen.confirm_box.isHidden()
    shift_ctrl = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(screen.scan, Qt.Key.Key_D, shift_ctrl)  # the strap shows the recorded date
    assert screen.scan.hasFocus()
    scanner_scan(qtbot, "")  # then Enter confirms
    settle(qtbot)
    assert screen.banner.headline.text() == "Due Wednesday 2 December 2026"


def test_ill_office_the_scan_after_a_cancelled_save_lands_in_the_request_field(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    screen = IllOfficeScreen(desk_session("office", "WS-ILL"))
    _shown(qtbot, screen)
    tab = screen.receive_tab
    assert tab.request_input.hasFocus()
    scanner_scan(qtbot, "20261001")
    settle(qtbot)
    qtbot.keyClicks(tab.lender_input, "okt")
    qtbot.keyClicks(tab.due_input, "2026-12-14")  # from the lender's paperwork
    with qtbot.waitSignal(tab.received, timeout=WAIT_MS):
        qtbot.mouseClick(tab.receive_button, Qt.MouseButton.LeftButton)
        settle(qtbot)
    settle(qtbot)

    seen: list[str] = []
    _escape_the_dialog_when_it_opens(qtbot, seen)
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    assert seen == [QFileDialog.__name__]
    screen.activateWindow()  # the window manager gives the window back
    qtbot.waitUntil(tab.request_input.hasFocus, timeout=WAIT_MS)

    scanner_scan(qtbot, "20261002")
    settle(qtbot)
    assert tab.request_info.text() != ""  # the request was found and shown
    assert tab.lender_input.hasFocus()  # the request was looked up: on to the lender
    screen.printer.wait()
    settle(qtbot)


def test_a_focus_keeper_being_torn_down_lets_the_window_go_on(qtbot: QtBot) -> None:
    """The keeper filters every event of the application; Python's collector can clear it
    (a cycle with its screen) before Qt deletes it. Clicks then must not raise."""
    from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

    from ui.widgets.scan_field import ScanFocusKeeper

    screen = QWidget()
    qtbot.addWidget(screen)
    field = QLineEdit(screen)
    button = QPushButton("Renew", screen)
    layout = QVBoxLayout(screen)
    layout.addWidget(field)
    layout.addWidget(button)
    keeper = ScanFocusKeeper(screen, lambda: field)
    del keeper._screen  # what the collector leaves when it clears the keeper's cycle
    screen.show()
    qtbot.waitExposed(screen)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # reaches the app-wide filter
    keeper.refocus()
    qtbot.wait(10)
