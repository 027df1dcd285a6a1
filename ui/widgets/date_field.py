"""A date typed by staff, empty until they type one: nothing to accept without looking.

A QDateEdit always shows some date, and a date already there invites Enter without reading
the strap. This field starts blank; a date counts only once it is whole and real. It keeps
QDateEdit's `date()`, `setDate()` and `dateChanged` so screens and tests read it the same
way (`date()` is an invalid QDate while the field is blank or half typed).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QRegularExpression, Qt, Signal
from PySide6.QtGui import QKeyEvent, QRegularExpressionValidator
from PySide6.QtWidgets import QLineEdit, QWidget

from ui.widgets.scanner_bursts import TYPED_NOT_SCANNED

DISPLAY = "yyyy-MM-dd"
_TYPING = QRegularExpression(r"^\d{0,4}(-\d{0,2}(-\d{0,2})?)?$")  # a date on its way


def parse_typed_date(text: str) -> dt.date | None:
    """The whole date typed (2026-11-14), or None while it is blank, partial or not real."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


class DateField(QLineEdit):
    """Blank until staff type a date (yyyy-mm-dd); Enter emits `confirmed`."""

    dateChanged = Signal(QDate)  # a whole, real date was typed or set
    confirmed = Signal()  # Enter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("yyyy-mm-dd")
        self.setValidator(QRegularExpressionValidator(_TYPING, self))
        self.setMaxLength(10)
        self.setProperty(TYPED_NOT_SCANNED, True)  # a strap scanned here goes to the scan field
        self.textChanged.connect(self._typed)

    def date(self) -> QDate:
        day = parse_typed_date(self.text())
        return QDate(day.year, day.month, day.day) if day else QDate()

    def value(self) -> dt.date | None:
        return parse_typed_date(self.text())

    def setDate(self, value: QDate) -> None:
        self.setText(value.toString(DISPLAY) if value.isValid() else "")

    def set_value(self, value: dt.date | None) -> None:
        self.setText(value.isoformat() if value else "")

    def _typed(self, text: str) -> None:
        day = parse_typed_date(text)
        if day is not None:
            self.dateChanged.emit(QDate(day.year, day.month, day.day))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.confirmed.emit()
            return
        super().keyPressEvent(event)
