"""A scanner's burst reaches the scan field, whatever has the keyboard.

A keyboard-wedge scanner types a barcode as keys a few milliseconds apart, then Enter; a
person types far slower. While a scan screen is shown, a burst aimed at something that
does not take text (an open menu, the menu bar after a stray Alt, a button, a list, a date
box) or at a field kept for typing (barcode recovery, a reason) is taken from it and typed
into the screen's scan field, and any open menu is closed. The first keys are held back
until it is clear whether they are a burst; a person's keys are handed on unchanged a few
hundredths of a second later, so menu letters and list searches still work.

A lone Alt is kept from the menu bar while a scan screen is shown: otherwise it takes the
keyboard, and the next scan's Enter opens the Desk menu. Alt+letter still opens a menu.

Text fields that take scans on purpose (a patron's card in the patron field, the ILL
account) keep what is scanned into them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

BURST_GAP_MS = 50  # a scanner types a key every ~8 ms; a person rarely three under 50 ms
BURST_MIN_KEYS = 4  # this many fast keys in a row are a scanner, not a person
RECLAIM_MS = 400  # keys handed back this recently were the burst's start on a busy PC
TYPED_NOT_SCANNED = "typedNotScanned"  # property: a text field no scan is meant for
_QUIET = Qt.KeyboardModifier.NoModifier | Qt.KeyboardModifier.KeypadModifier
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def keeps_its_scans(widget: QWidget) -> bool:
    """A text field a scan may be meant for (not one marked as typed only)."""
    if not isinstance(widget, (QLineEdit, QTextEdit, QPlainTextEdit)):
        parent = widget.parentWidget()
        if not (isinstance(parent, QComboBox) and parent.isEditable()):
            return False
    current: QWidget | None = widget
    while current is not None:
        if current.property(TYPED_NOT_SCANNED):
            return False
        current = current.parentWidget()
    return True


def _copy(event: QKeyEvent) -> QKeyEvent:
    return QKeyEvent(event.type(), event.key(), event.modifiers(), event.text())


class ScannerBurstRouter(QObject):
    """Application-wide key filter for one window; `target` is the scan field or None.

    `target` answers None when no scan screen is shown (or the desk is locked): then every
    key goes where Qt sends it.
    """

    def __init__(
        self,
        window: QWidget,
        target: Callable[[], QWidget | None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(window)
        self.setObjectName("scannerBurstRouter")
        self._window = window
        self._target = target
        self._clock = clock
        self._held: list[tuple[QWidget, QKeyEvent]] = []
        # The keys last handed back, and when: a busy PC can stretch a burst's first gaps.
        self._handed: list[tuple[QWidget, QKeyEvent]] = []
        self._handed_at = float("-inf")
        self._last = float("-inf")
        self._bursting = False
        self._typing = False  # our own key events pass the filter
        self._timer = QTimer(self)
        self._timer.setObjectName("scannerBurstTimer")
        self._timer.setSingleShot(True)
        self._timer.setInterval(BURST_GAP_MS)
        self._timer.timeout.connect(self._hand_back)
        self._installed = False

    def install(self) -> None:
        app = QApplication.instance()
        if app is not None and not self._installed:
            app.installEventFilter(self)
            self._installed = True

    def uninstall(self) -> None:
        app = QApplication.instance()
        if app is not None and self._installed:
            app.removeEventFilter(self)
        self._installed = False
        self._timer.stop()
        self._held.clear()

    # -- the filter -----------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if self._typing or kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            return False
        if not isinstance(watched, QWidget) or not isinstance(event, QKeyEvent):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            # The menu bar notices a lone Alt by this event reaching the window: not here.
            lone_alt = (
                event.key() == Qt.Key.Key_Alt
                and (event.modifiers() & ~_QUIET) == Qt.KeyboardModifier.AltModifier
            )
            return lone_alt and self._aimed_here(watched) and self._target() is not None
        target = self._target()
        if target is None or not self._aimed_here(watched):
            self._hand_back()
            return False
        if watched is target or keeps_its_scans(watched):
            return False  # already where a scan may go
        return self._route(watched, event, target)

    def _aimed_here(self, watched: QWidget) -> bool:
        """A key for this window (or one of its menus), with no dialog in front of it."""
        if QApplication.activeModalWidget() is not None:
            return False
        return isinstance(watched, QMenu) or watched.window() is self._window

    def _route(self, watched: QWidget, event: QKeyEvent, target: QWidget) -> bool:
        now = self._clock()
        fast = (now - self._last) * 1000 <= BURST_GAP_MS
        quiet = (event.modifiers() & ~_QUIET) == Qt.KeyboardModifier.NoModifier
        text = event.text()
        printable = quiet and bool(text) and text.isprintable() and not event.isAutoRepeat()
        enter = quiet and event.key() in _ENTER
        if self._bursting:
            if fast and (printable or enter):
                self._last = now
                self._type(target, event)
                self._bursting = not enter
                return True
            self._bursting = False
        if printable:
            if self._held and not fast:
                self._hand_back()  # the keys before were a person's
            self._held.append((watched, _copy(event)))
            self._last = now
            if len(self._held) >= BURST_MIN_KEYS:
                self._begin_burst(target)
            else:
                self._timer.start()
            return True
        self._hand_back()  # any other key: what was held goes first, in order
        return False

    # -- what happens to the keys ---------------------------------------------------------

    def _begin_burst(self, target: QWidget) -> None:
        """A scanner: close any menu, move to the scan field, type what was held there."""
        self._timer.stop()
        for _ in range(10):  # nested menus close one by one
            popup = QApplication.activePopupWidget()
            if popup is None:
                break
            popup.close()
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        held, self._held = [*self._reclaim(), *self._held], []
        for _watched, event in held:
            self._type(target, event)
        self._bursting = True

    def _hand_back(self) -> None:
        """Not a scanner after all: the held keys go where they were aimed, in order."""
        self._timer.stop()
        held, self._held = self._held, []
        if held:
            self._handed, self._handed_at = held, self._clock()
        for watched, event in held:
            if shiboken6.isValid(watched) and watched.isVisible():
                self._type(watched, event)

    def _reclaim(self) -> list[tuple[QWidget, QKeyEvent]]:
        """Keys handed back just before a burst began were its first keys, slowed down by a
        busy PC: taken back (out of the field they went to) to lead the scan."""
        handed, self._handed = self._handed, []
        if not handed or (self._clock() - self._handed_at) * 1000 > RECLAIM_MS:
            return []
        text = "".join(event.text() for _widget, event in handed)
        for widget in {id(w): w for w, _event in handed}.values():
            if isinstance(widget, QLineEdit) and shiboken6.isValid(widget):
                typed = widget.text()
                if typed.endswith(text):
                    widget.setText(typed[: len(typed) - len(text)])
        return handed

    def _type(self, widget: QWidget, event: QKeyEvent) -> None:
        self._typing = True
        try:
            QApplication.sendEvent(widget, _copy(event))
        finally:
            self._typing = False
