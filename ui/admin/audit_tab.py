"""The Audit trail tab: who did what to an item, a patron's record, or by a staff member.

Searching by patron is itself recorded as a look at that patron's record (the service
does it). Nothing here can change or remove an audit event.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.library.errors import InvalidInput
from app.records.audit_search import AuditQuery, AuditRow, describe, search_audit
from ui.desk_session import DeskSession
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt

HEADERS = ("When", "Staff", "Branch", "Workstation", "Action", "Item", "Patron", "Details")
BEFORE_SEARCH = (
    "Nothing searched yet. Fill in an item, a patron, a staff member or dates above (any "
    "one is enough) and press Search: the events show here, newest first."
)
NO_MATCH = (
    "No audit events match this search. Check the barcode or username, widen the dates, "
    "or clear a field and search again."
)


def _day(text: str, label: str) -> date | None:
    value = text.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{label} takes a date like 2026-11-02, not '{value[:20]}'.") from None


class AuditTab(QWidget):
    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditTab")
        self.session = session
        self.rows: tuple[AuditRow, ...] = ()

        self.item_edit = self._field("auditItemEdit", "item or strap barcode")
        self.patron_edit = self._field("auditPatronEdit", "campus ID or patron barcode")
        self.staff_edit = self._field("auditStaffEdit", "staff username")
        self.from_edit = self._field("auditFromEdit", "YYYY-MM-DD")
        self.to_edit = self._field("auditToEdit", "YYYY-MM-DD")
        self.search_button = QPushButton("Search", self)
        self.search_button.setObjectName("auditSearchButton")
        self.search_button.clicked.connect(self.search)
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.setObjectName("auditClearButton")
        self.clear_button.clicked.connect(self.clear)

        form = QFormLayout()
        form.addRow("Item", self.item_edit)
        form.addRow("Patron", self.patron_edit)
        form.addRow("Staff", self.staff_edit)
        dates = QHBoxLayout()
        dates.addWidget(self.from_edit)
        dates.addWidget(self.to_edit)
        form.addRow("From / to", dates)
        buttons = QHBoxLayout()
        buttons.addWidget(self.search_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        form.addRow("", buttons)

        self.table = KeyedTable("auditTable", HEADERS, self, empty=BEFORE_SEARCH)
        self.table.setWordWrap(True)  # the details run over lines rather than being cut
        self.feedback = Feedback("auditMessage", self)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.feedback)
        layout.addWidget(self.table, 1)

    def _field(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.returnPressed.connect(self.search)
        return edit

    def activate(self) -> None:
        self.item_edit.setFocus()

    def clear(self) -> None:
        for edit in (self.item_edit, self.patron_edit, self.staff_edit):
            edit.clear()
        for edit in (self.from_edit, self.to_edit):
            edit.clear()
        self.table.fill([])
        self.table.empty_note.say(BEFORE_SEARCH)
        self.rows = ()
        self.feedback.clear()

    def search(self) -> None:
        item, patron, staff = self.item_edit.text(), self.patron_edit.text(), self.staff_edit.text()
        since, until = self.from_edit.text(), self.to_edit.text()
        rt, actor = self.session.rt, self.session.actor

        def run() -> Any:
            query = AuditQuery(
                item_barcode=item,
                patron=patron,
                staff_username=staff,
                since=_day(since, "From"),
                until=_day(until, "To"),
            )
            return search_audit(rt, actor, query), query

        attempt(self.session.ops, self.feedback, run, lambda answer: self._show(*answer))

    def _show(self, result: Any, query: AuditQuery) -> None:
        self.rows = result.rows
        self.table.empty_note.say(NO_MATCH)
        self.table.fill(
            [
                (
                    str(index),
                    (
                        row.at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
                        row.staff_name or row.username,
                        row.branch_code,
                        row.workstation,
                        row.action,
                        row.item_barcode or "",
                        row.patron_campus_id or "",
                        "; ".join(part for part in (row.about, describe(row)) if part),
                    ),
                )
                for index, row in enumerate(result.rows)
            ]
        )
        self.table.resizeRowsToContents()
        if result.truncated:
            self.feedback.problem(
                f"Only the newest {query.limit} events are shown. Narrow the search."
            )
        elif result.rows:
            self.feedback.good(f"{len(result.rows)} events, newest first.")
        else:
            self.feedback.good("No audit events match.")
