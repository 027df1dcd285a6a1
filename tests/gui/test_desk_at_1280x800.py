"""The desk on a 1280x800 screen. Barcode recovery: every column readable and the buttons in
sight without scrolling; Escape closes it, and it closes itself once the item is found. Check
Out: the confirmation and the due-date row in sight without scrolling."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from app.desk.routing import Outcome
from app.library.actors import Actor
from app.library.runtime import Runtime
from app.workstation.config import WorkstationSettings
from tests.demo_items import held_item, set_lender_date
from tests.gui.waiting import settle
from ui.desk_app import STYLE_SHEET
from ui.desk_session import DeskSession
from ui.main_window import MainWindow
from ui.screens.check_in_screen import CheckInScreen
from ui.screens.check_out_screen import CheckOutScreen
from ui.widgets.barcode_recovery_panel import COLUMNS

pytestmark = pytest.mark.gui

WAIT_MS = 10_000
PATRON_WITH_ITEM = "T00123456"  # has ILL00000091, which goes back to the ILL office


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def desk_style(qapp: QApplication) -> Iterator[None]:
    before = qapp.styleSheet()
    qapp.setStyleSheet(STYLE_SHEET)
    yield
    qapp.setStyleSheet(before)


@pytest.fixture
def window_at_1280x800(
    qtbot: QtBot, demo_rt: Runtime, actor_at: Callable[[str, str], Actor], desk_style: None
) -> MainWindow:
    """A desk window filling a 1280x800 screen."""
    settings = WorkstationSettings(window_maximized=False)
    window = MainWindow(DeskSession(demo_rt, actor_at("desk", "METRO"), settings))
    qtbot.addWidget(window)
    window.show()
    window.resize(1280, 800)
    qtbot.waitExposed(window)
    return window


def in_sight(widget: QWidget) -> bool:
    """Shown whole, not scrolled away or cut by the window's edge."""
    return widget.isVisible() and widget.visibleRegion().boundingRect() == widget.rect()


@pytest.fixture
def check_in_at_1280x800(qtbot: QtBot, window_at_1280x800: MainWindow) -> CheckInScreen:
    screen = window_at_1280x800.show_screen("checkIn")
    assert isinstance(screen, CheckInScreen)
    settle(qtbot)
    return screen


def find_patron_items(qtbot: QtBot, screen: CheckInScreen) -> None:
    screen.show_recovery()
    panel = screen.recovery
    qtbot.waitUntil(panel.patron_input.hasFocus, timeout=WAIT_MS)
    panel.patron_input.setText(PATRON_WITH_ITEM)
    qtbot.keyClick(panel.patron_input, Qt.Key.Key_Return)
    settle(qtbot)
    assert panel.table.rowCount() == 1


def test_recovery_fits_a_1280x800_screen(qtbot: QtBot, check_in_at_1280x800: CheckInScreen) -> None:
    screen = check_in_at_1280x800
    find_patron_items(qtbot, screen)
    panel, table = screen.recovery, screen.recovery.table
    QApplication.processEvents()

    header = table.horizontalHeader()
    for column, name in enumerate(COLUMNS):
        label = header.sectionSizeFromContents(column).width()
        needed = max(label, table.sizeHintForColumn(column))
        if name == "Title":
            assert header.sectionSize(column) >= 120  # the title gets what is left
        else:
            assert header.sectionSize(column) >= needed, name  # nothing cut short
    assert sum(header.sectionSize(c) for c in range(len(COLUMNS))) <= table.viewport().width()
    close = panel.findChild(QPushButton, "recoveryCloseButton")
    for button in (panel.check_in_button, close):
        assert button is not None and in_sight(button), button  # not below the fold
    first_row = table.visualRect(table.model().index(0, 0))
    assert table.viewport().rect().contains(first_row)


def test_escape_closes_recovery_and_the_scan_field_has_the_keyboard(
    qtbot: QtBot, check_in_at_1280x800: CheckInScreen
) -> None:
    screen = check_in_at_1280x800
    find_patron_items(qtbot, screen)
    qtbot.keyClick(screen.recovery.patron_input, Qt.Key.Key_Escape)
    assert not screen.recovery.isVisible()
    assert screen.details.isVisible()  # the scan details are back beside the list
    qtbot.waitUntil(screen.scan_field.hasFocus, timeout=WAIT_MS)

    screen.show_recovery()  # Escape also works once a click sent the keyboard elsewhere
    screen.scan_field.setFocus()
    qtbot.keyClick(screen.scan_field, Qt.Key.Key_Escape)
    assert not screen.recovery.isVisible()


def test_recovery_closes_itself_after_checking_the_item_in(
    qtbot: QtBot, check_in_at_1280x800: CheckInScreen
) -> None:
    screen = check_in_at_1280x800
    find_patron_items(qtbot, screen)
    with qtbot.waitSignal(screen.scanProcessed, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(screen.recovery.check_in_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].outcome is Outcome.RETURN_TO_ILL_OFFICE
    assert not screen.recovery.isVisible()
    assert screen.banner.look.key == "ill_office"
    qtbot.waitUntil(screen.scan_field.hasFocus, timeout=WAIT_MS)


def test_check_out_confirmation_and_due_date_row_fit_without_scrolling(
    qtbot: QtBot, window_at_1280x800: MainWindow, demo_rt: Runtime
) -> None:
    barcode = held_item(demo_rt, "T00123456")
    set_lender_date(demo_rt, barcode, date(2026, 11, 14))
    window = window_at_1280x800
    screen = window.show_screen("checkOut")
    assert isinstance(screen, CheckOutScreen)
    settle(qtbot)
    for name, text in (("patronInput", "T00123456"), ("scanInput", barcode)):
        field = screen.findChild(QLineEdit, name)
        assert field is not None
        qtbot.keyClicks(field, text)
        qtbot.keyClick(field, Qt.Key.Key_Return)
        settle(qtbot)
    screen.confirm_box.use_recorded()  # the due date shows: the panel at its tallest
    settle(qtbot)
    QApplication.processEvents()
    assert screen.due_label.text()
    for part in (screen.confirm_button, screen.strap_date, screen.change_due_button):
        assert in_sight(part), part.objectName()
