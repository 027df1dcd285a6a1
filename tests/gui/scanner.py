"""Typing as a keyboard-wedge scanner does: a burst of keys a few ms apart, then Enter.

The scanner types into whatever has the keyboard at that moment (an open menu, the focused
button or list, the menu bar after a stray Alt), never into a field the test picks: a scan
the desk loses here is a scan a worker loses at the desk.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

SCANNER_MS_PER_KEY = 8  # a keyboard-wedge scanner types about one key every 8 ms


def keyboard_owner() -> QWidget:
    """The widget the operating system hands the next key to: an open menu, else the focus."""
    owner = QApplication.activePopupWidget() or QApplication.focusWidget()
    owner = owner or QApplication.activeWindow()
    assert owner is not None, "nothing has the keyboard: the scan would go nowhere"
    return owner


def scanner_scan(qtbot: QtBot, barcode: str) -> QWidget:
    """Scan `barcode` into whatever has the keyboard now; returns the widget that got it."""
    owner = keyboard_owner()
    qtbot.keyClicks(owner, barcode, delay=SCANNER_MS_PER_KEY)
    qtbot.keyClick(owner, Qt.Key.Key_Return, delay=SCANNER_MS_PER_KEY)
    return owner
