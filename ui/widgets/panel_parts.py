"""Small pieces the office and admin panels share: a button, a row, a keyed table, and a
line saying what happened (never a modal dialog)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)
from shiboken6 import isValid

from app.library.errors import ServiceError
from ui.operations import Operations
from ui.widgets.column_fit import fit_columns, natural_widths
from ui.widgets.empty_note import EmptyNote
from ui.widgets.rows_view import SIZED_ROWS

T = TypeVar("T")


class Feedback(QLabel):
    """One line under a panel's buttons: what was done, or why it was refused and what to do."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def good(self, text: str) -> None:
        self._show("good", f"✔ {text}", "#1b5e20")

    def problem(self, text: str) -> None:
        self._show("problem", f"✖ {text}", "#b71c1c")

    def refused(self, error: ServiceError) -> None:
        """A runner's failure callback: the refusal, in words."""
        self.problem(error.message)

    def _show(self, tone: str, text: str, colour: str) -> None:
        self.setProperty("tone", tone)
        self.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.setText(text)
        bring_into_view(self)


def bring_into_view(widget: QWidget) -> None:
    """Scroll the screen so `widget` shows, once its new size is laid out.

    A screen taller than a small monitor scrolls inside the window; an answer shown below
    the fold (a refusal, the yellow-flag reminder) would otherwise go unseen.
    """

    def scroll() -> None:
        if not isValid(widget) or not widget.isVisible():
            return
        parent = widget.parentWidget()
        while parent is not None:
            if isinstance(parent, QScrollArea) and parent.widget() is not None:
                parent.ensureWidgetVisible(widget, 0, 8)
            parent = parent.parentWidget()

    QTimer.singleShot(0, widget, scroll)


def button(parent: QWidget, text: str, name: str, slot: Callable[[], object]) -> QPushButton:
    """A push button with its object name (automation and accessibility) and its action."""
    made = QPushButton(text, parent)
    made.setObjectName(name)
    made.clicked.connect(slot)
    return made


def row(parent: QWidget, *widgets: QWidget) -> QWidget:
    """Widgets side by side, for one line of a form."""
    holder = QWidget(parent)
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    return holder


def attempt(
    ops: Operations, feedback: Feedback, action: Callable[[], T], then: Callable[[T], object]
) -> None:
    """Run a service call on the desk's runner; `then` gets the answer on the GUI thread.

    A refusal is shown in `feedback`, never in a modal dialog.
    """
    ops.run(action, on_done=then, on_error=feedback.refused, owner=feedback)


class KeyedTable(QTableWidget):
    """A read-only table whose rows are identified by a key (a request number, an id).

    `empty` says why the table has no rows and what to do; `empty_note.say()` changes it.
    """

    _natural: tuple[int, ...] = ()  # each column's width for its contents, before cutting

    def __init__(
        self,
        object_name: str,
        headers: Sequence[str],
        parent: QWidget | None = None,
        *,
        empty: str = "",
    ):
        super().__init__(0, len(headers), parent)
        self.setObjectName(object_name)
        self.setHorizontalHeaderLabels(list(headers))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setResizeContentsPrecision(SIZED_ROWS)
        self.empty_note = EmptyNote(self, empty)

    def fill(self, rows: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Replace the rows, keeping the selection on the same key where it still exists.

        The rows are sized once and painted once, and the columns fit the first rows only:
        a list of a thousand rows (the bursar preview) shows in tens of milliseconds.
        """
        keep = self.current_key()
        self.setUpdatesEnabled(False)
        try:
            self.setRowCount(0)
            self.setRowCount(len(rows))
            for row, (key, cells) in enumerate(rows):
                for column, text in enumerate(cells):
                    cell = QTableWidgetItem(text)
                    cell.setData(Qt.ItemDataRole.UserRole, key)
                    if len(text) > 16:
                        cell.setToolTip(text)  # whole, should its column be cut
                    self.setItem(row, column, cell)
            self.resizeColumnsToContents()
            self._natural = natural_widths(self)
            self._fit_columns()
        finally:
            self.setUpdatesEnabled(True)
        if keep is not None:
            self.select_key(keep)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def _fit_columns(self) -> None:
        fit_columns(self, self._natural)

    def current_key(self) -> str | None:
        row = self.currentRow()
        cell = self.item(row, 0) if row >= 0 else None
        return str(cell.data(Qt.ItemDataRole.UserRole)) if cell is not None else None

    def select_key(self, key: str) -> bool:
        for row in range(self.rowCount()):
            cell = self.item(row, 0)
            if cell is not None and cell.data(Qt.ItemDataRole.UserRole) == key:
                self.selectRow(row)
                return True
        return False

    def keys(self) -> list[str]:
        return [
            str(cell.data(Qt.ItemDataRole.UserRole))
            for row in range(self.rowCount())
            if (cell := self.item(row, 0)) is not None
        ]
