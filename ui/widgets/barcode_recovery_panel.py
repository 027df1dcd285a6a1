"""Barcode recovery: find a strapless ILL item's barcode by patron ID or by title.

Searches only read, so they run at once on the desk's thread; checking an item in is handed
to the screen (`checkInRequested`), which queues it like any scan. Laid out for a 1280x800
desk screen below the banner: the buttons on the heading's row, never below the fold, and the
short columns sized to their contents with the title taking what is left (its full text in
the cell's tooltip). The screen closes it on Escape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.desk.barcode_recovery import (
    PatronItems,
    RecoveredItem,
    items_with_patron,
    search_temporary_by_title,
)
from app.library.actors import Actor
from app.library.errors import ServiceError
from app.library.runtime import Runtime
from ui.operations import Operations

log = logging.getLogger(__name__)
T = TypeVar("T")

COLUMNS = ("Strap barcode", "Title", "Status", "Who has it", "Due")
KEEPS_FOCUS = "keepsFocus"  # property: typing here must not be pulled back to the scan field


class BarcodeRecoveryPanel(QFrame):
    checkInRequested = Signal(str)  # the strap barcode staff chose to check in
    closeRequested = Signal()

    def __init__(
        self, rt: Runtime, actor: Actor, ops: Operations, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("barcodeRecoveryPanel")
        self.setProperty("role", "panel")
        self.rt = rt
        self.actor = actor
        self.ops = ops
        self.items: tuple[RecoveredItem, ...] = ()

        heading = QLabel("Barcode recovery", self)
        heading.setProperty("role", "heading")
        self.check_in_button = QPushButton("Check in selected item", self)
        self.check_in_button.setObjectName("recoveryCheckInButton")
        close = QPushButton("Close (Esc)", self)
        close.setObjectName("recoveryCloseButton")
        close.clicked.connect(self.closeRequested)
        top = QHBoxLayout()
        top.addWidget(heading, 1)
        top.addWidget(self.check_in_button)
        top.addWidget(close)

        self.patron_input = QLineEdit(self)
        self.patron_input.setObjectName("recoveryPatronInput")
        self.patron_input.setPlaceholderText("Campus ID or patron card, e.g. T00123456")
        self.patron_input.setProperty(KEEPS_FOCUS, True)
        self.patron_input.returnPressed.connect(self.find_by_patron)
        patron_button = QPushButton("Items with patron", self)
        patron_button.setObjectName("recoveryPatronButton")
        patron_button.clicked.connect(self.find_by_patron)
        self.title_input = QLineEdit(self)
        self.title_input.setObjectName("recoveryTitleInput")
        self.title_input.setPlaceholderText("Words of the title")
        self.title_input.setProperty(KEEPS_FOCUS, True)
        self.title_input.returnPressed.connect(self.find_by_title)
        title_button = QPushButton("Search ILL titles", self)
        title_button.setObjectName("recoveryTitleButton")
        title_button.clicked.connect(self.find_by_title)
        form = QGridLayout()
        form.addWidget(QLabel("Patron:", self), 0, 0)
        form.addWidget(self.patron_input, 0, 1)
        form.addWidget(patron_button, 0, 2)
        form.addWidget(QLabel("Title:", self), 1, 0)
        form.addWidget(self.title_input, 1, 1)
        form.addWidget(title_button, 1, 2)

        self.message = QLabel(
            "Find the item by the patron who returned it, or by its title among ILL items.",
            self,
        )
        self.message.setObjectName("recoveryMessage")
        self.message.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("recoveryResults")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Title"), QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setWordWrap(False)
        self.table.setMinimumHeight(80)  # the header and two rows, on the smallest screen
        self.table.verticalHeader().setVisible(False)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.check_in_row(row))
        self.check_in_button.clicked.connect(lambda: self.check_in_row(self.table.currentRow()))

        col = QVBoxLayout(self)
        col.setContentsMargins(10, 8, 10, 8)
        col.setSpacing(6)
        col.addLayout(top)
        col.addLayout(form)
        col.addWidget(self.message)
        col.addWidget(self.table, 1)

    def find_by_patron(self) -> None:
        rt, actor, text = self.rt, self.actor, self.patron_input.text()
        self._run(lambda: items_with_patron(rt, actor, text), self._show_patron_items)

    def _show_patron_items(self, found: PatronItems) -> None:
        self._show(found.items)
        who = f"{found.patron_name} ({found.patron_id})"
        self.message.setText(
            f"ILL items with {who}: {len(found.items)}. Select one and check it in."
            if found.items
            else f"{who} has no ILL items checked out. Try a title search."
        )

    def find_by_title(self) -> None:
        rt, actor, text = self.rt, self.actor, self.title_input.text()
        self._run(lambda: search_temporary_by_title(rt, actor, text), self._show_title_matches)

    def _show_title_matches(self, found: tuple[RecoveredItem, ...]) -> None:
        self._show(found)
        self.message.setText(
            f"{len(found)} ILL item(s) match. Select one and check it in."
            if found
            else "No ILL item has those words in its title. Ask the ILL office: it may be a "
            "book of another library system (yellow flag, send to the ILL office)."
        )

    def _run(self, search: Callable[[], T], then: Callable[[T], object]) -> None:
        """Search on the desk's runner; a refusal empties the list and says why."""
        self.ops.run(search, on_done=then, on_error=self._refused, name="barcode recovery")

    def _refused(self, error: ServiceError) -> None:
        self._show(())
        if error.code == "database_unavailable":
            self.message.setText(
                "The database did not answer. Check the connection in the status bar and try again."
            )
        else:
            self.message.setText(error.message)

    def _show(self, items: tuple[RecoveredItem, ...]) -> None:
        self.items = items
        self.table.setRowCount(len(items))
        for row, item in enumerate(items):
            who = f"{item.patron_name} ({item.patron_id})" if item.patron_id else ""
            if who and not item.has_it:
                who = f"for {who}"
            cells = (
                item.barcode,
                item.title,
                f"{item.status_words} ({item.branch})" if item.branch else item.status_words,
                who,
                item.due_date.isoformat() if item.due_date else "",
            )
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)  # a long title is cut short in the cell
                self.table.setItem(row, column, cell)
        if items:
            self.table.selectRow(0)

    def check_in_row(self, row: int) -> None:
        if not 0 <= row < len(self.items):
            self.message.setText("Select an item in the list first.")
            return
        self.checkInRequested.emit(self.items[row].barcode)
