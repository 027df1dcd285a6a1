"""The scans since sign-in on Check In: an empty list says why it is empty and what to do."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from ui.desk_session import DeskSession
from ui.screens.check_in_screen import CheckInScreen

pytestmark = pytest.mark.gui

WAIT_MS = 10_000


@pytest.fixture
def backend() -> str:
    return "sqlite"


def test_empty_history_says_why_and_what_to_do_until_the_first_scan(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession]
) -> None:
    screen = CheckInScreen(desk_session("desk", "SE"))
    qtbot.addWidget(screen)
    screen.resize(1280, 760)
    screen.show()
    qtbot.waitExposed(screen)

    empty = screen.history_empty
    assert empty.isVisible() and not screen.scan_list.isVisible()
    words = empty.text()
    assert "since you signed in" in words  # why it is empty
    assert "Scan the barcode at the TOP of the strap" in words  # what to do

    with qtbot.waitSignal(screen.scanProcessed, timeout=WAIT_MS):
        qtbot.keyClicks(screen.scan_field, "ILL00000018", delay=3)
        qtbot.keyClick(screen.scan_field, Qt.Key.Key_Return)
    assert screen.scan_list.isVisible() and not empty.isVisible()
    assert screen.scan_list.count() == 1
