"""The field a keyboard-wedge scanner types into: a burst of characters, then Enter.

It hands each scan on at once and clears itself, so the next burst lands in an empty field
while the previous scan is still being processed. A scanner's double read (the same barcode
again within a second) is dropped with a visible note instead of checking in twice.

`ScanFocusKeeper` gives a scan screen the Check In habit: after every click on something
that is not a typing field, and whenever the window comes back from a dialog, the focus
returns to the field the next scan belongs in.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)
from shiboken6 import isValid

DOUBLE_READ_SECONDS = 1.0
MAX_SCAN_CHARACTERS = 20_000  # far beyond any barcode; longer pastes are cut, then refused


def clean_scan(raw: str) -> str:
    """Trim whitespace and drop control characters (a scanner's prefix/suffix, a stray tab)."""
    return "".join(ch for ch in raw if ch.isprintable()).strip()


class ScanField(QLineEdit):
    """Emits `scanned` once per Enter, in the order the scans arrived."""

    scanned = Signal(str)  # a cleaned scan, possibly empty: the service says what is wrong
    doubleReadIgnored = Signal(str)  # the same barcode again within a second

    def __init__(
        self,
        parent: QWidget | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("scanInput")
        self.setAccessibleName("Scan barcode")
        self.setPlaceholderText("Scan or type a barcode, then Enter")
        self.setMaxLength(MAX_SCAN_CHARACTERS)
        self.setClearButtonEnabled(False)
        self._monotonic = monotonic
        self._last: tuple[str, float] | None = None
        self.returnPressed.connect(self._take)

    def _take(self) -> None:
        scan = clean_scan(self.text())
        self.clear()
        now = self._monotonic()
        if scan and self._last is not None:
            previous, at = self._last
            if previous == scan and now - at < DOUBLE_READ_SECONDS:
                self._last = (scan, now)
                self.doubleReadIgnored.emit(scan)
                return
        self._last = (scan, now) if scan else None
        self.scanned.emit(scan)


def takes_typing(widget: QWidget) -> bool:
    """Inside a field where staff type on purpose (text, dates, an editable list) or a scan field.

    A click there keeps the focus there; a click anywhere else hands it back to the scan field.
    """
    current: QWidget | None = widget
    while current is not None:
        if isinstance(current, (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)):
            return True
        if isinstance(current, QComboBox) and current.isEditable():
            return True
        current = current.parentWidget()
    return False


class ScanFocusKeeper(QObject):
    """Returns the focus to a screen's scan field after each click, dialog and window switch.

    `target` names the field the next scan belongs in (None: the screen has none just now).
    A click in a typing field leaves the focus there: staff are typing on purpose.
    """

    def __init__(self, screen: QWidget, target: Callable[[], QWidget | None]) -> None:
        super().__init__(screen)
        self._screen = screen
        self._target = target
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def _live_screen(self) -> QWidget | None:
        """The screen, or None while this keeper is being torn down.

        It filters the whole application's events, so it can still be asked after Python's
        collector has cleared it (a cycle with its screen) and before Qt has deleted it.
        """
        screen: QWidget | None = getattr(self, "_screen", None)
        return screen if screen is not None and isValid(screen) else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        screen = self._live_screen()
        if screen is None:
            return False
        if kind == QEvent.Type.MouseButtonRelease and isinstance(watched, QWidget):
            if screen.isVisible() and screen.isAncestorOf(watched) and not takes_typing(watched):
                QTimer.singleShot(0, self, self.refocus)
        elif kind == QEvent.Type.WindowActivate and watched is screen.window():
            QTimer.singleShot(0, self, self.refocus)
        return False

    def refocus(self) -> None:
        """The scan field takes the focus unless staff are typing in another field here."""
        screen = self._live_screen()
        if screen is None or not screen.isVisible():
            return
        target = self._target()
        if target is None or not target.isVisible() or not target.isEnabled():
            return
        focused = QApplication.focusWidget()
        if (
            focused is not None
            and focused is not target
            and screen.isAncestorOf(focused)
            and takes_typing(focused)
        ):
            return
        target.setFocus(Qt.FocusReason.OtherFocusReason)
