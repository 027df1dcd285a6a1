"""The field a keyboard-wedge scanner types into: a burst of characters, then Enter.

It hands each scan on at once and clears itself, so the next burst lands in an empty field
while the previous scan is still being processed. A scanner's double read (the same barcode
again within a second) is dropped with a visible note instead of checking in twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QWidget

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
