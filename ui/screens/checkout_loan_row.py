"""Check Out's row for the patron's selected checkout: renew (explained), or change its due
date with a reason. Blank and disabled until a patron is chosen, so it never offers a date
that belongs to nobody."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from ui.widgets.date_field import DateField
from ui.widgets.scanner_bursts import TYPED_NOT_SCANNED


class LoanChangesRow(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.renew_button = QPushButton("Renew…", self)
        self.renew_button.setObjectName("renewButton")
        self.renew_button.setToolTip("Explains why ILL items are not renewed at the desk")
        self.new_due = DateField(self)
        self.new_due.setObjectName("newDueDateEdit")
        self.new_due.setAccessibleName("New due date")
        self.due_reason = QLineEdit(self)
        self.due_reason.setObjectName("dueReasonInput")
        self.due_reason.setPlaceholderText("Reason (required), e.g. lender renewed to this date")
        self.due_reason.setProperty(TYPED_NOT_SCANNED, True)  # a scan here goes to the strap field
        self.change_due_button = QPushButton("Change due date", self)
        self.change_due_button.setObjectName("changeDueButton")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Selected checkout:", self))
        row.addWidget(self.renew_button)
        row.addSpacing(20)
        row.addWidget(self.new_due)
        row.addWidget(self.due_reason, 1)
        row.addWidget(self.change_due_button)
        self.for_patron(None)

    def for_patron(self, today: date | None) -> None:
        """A patron is chosen (the new due date starts at today), or none is (all blank)."""
        self.new_due.set_value(today)
        for part in (self.new_due, self.change_due_button):
            part.setEnabled(today is not None)
