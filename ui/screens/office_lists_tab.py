"""ILL Office > Lists: what the office works from, and the logs and flags it clears.

Received today, in transit, hold shelves, overdue ILL loans, the due-date discrepancies and
not-found scans to review, and the multi-piece items back without all their pieces.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QVBoxLayout, QWidget

from app.borrowing import office_lists
from app.borrowing.missing_pieces import clear_missing_piece
from app.borrowing.office_list_print import PrintableList
from app.workstation.private_files import write_owner_only
from ui.desk_session import DeskSession
from ui.screens.office_list_rows import Rows, office_list_rows
from ui.screens.office_widgets import (
    fill_table,
    line_edit,
    message_label,
    push_button,
    run_on_desk,
    say,
    table_widget,
)

# The lists the office prints, by their place in ListsTab.LISTS.
PRINTABLE = {
    1: PrintableList.TRANSIT,
    2: PrintableList.HOLD_SHELF,
    4: PrintableList.DISCREPANCIES,
}
# Rows read first: more than a screenful on a 1920x1080 screen.
FIRST_ROWS = 100


class ListsTab(QWidget):
    """Received today, in transit, hold shelves, overdue, and the two logs to review."""

    LISTS = (
        "Received today",
        "In transit",
        "Hold shelves",
        "Overdue ILL loans",
        "Due-date discrepancies",
        "Not-found scans",
        "Missing pieces",
    )
    EMPTY = (
        "Nothing received today. Items appear here as they are received and strapped.",
        "Nothing in inter-campus mail: every item sent between campuses has been checked in.",
        "No ILL item waits on a hold shelf at any campus.",
        "No borrowed item is overdue with its patron.",
        (
            "No due-date discrepancy waits for review. One appears here when a due date "
            "given differs from the system's or the strap's."
        ),
        "No not-found scan waits for review: every barcode scanned at a desk was known.",
        (
            "No item is back without all its pieces. A desk flags one with 'A piece is "
            "missing' at check-in; clear it here when the piece turns up."
        ),
    )

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.ids: list[int] = []
        self._asked = 0  # refreshes asked for: an answer to an earlier one is not shown
        self.choice = QComboBox(self)
        self.choice.setObjectName("officeListChoice")
        self.choice.addItems(self.LISTS)
        self.choice.currentIndexChanged.connect(lambda _index: self.refresh())
        self.table = table_widget(self, "officeListTable")
        self.empty_note = self.table.empty_note
        self.note_input = line_edit(
            self, "reviewNoteInput", "review note (optional; missing pieces: what happened)"
        )
        self.review_button = push_button(
            self, "reviewButton", "Close / mark reviewed / clear", self.review
        )
        self.message = message_label(self, "listsMessage")
        top = QHBoxLayout()
        top.addWidget(self.choice, 1)
        top.addWidget(push_button(self, "refreshListButton", "Refresh", self.refresh))
        self.print_button = push_button(self, "printListButton", "Print...", self.print_list)
        self.print_button.setEnabled(False)  # the first list (received today) is not printed
        top.addWidget(self.print_button)
        review = QHBoxLayout()
        review.addWidget(self.note_input, 1)
        review.addWidget(self.review_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(review)
        layout.addWidget(self.message)

    def refresh(self) -> None:
        """The chosen list: its first screenful at once, then (if there is more) all of it
        below, the rows on show staying put: at 5,000 overdue loans the top of the list is
        painted before the rest has been read."""
        index, session = self.choice.currentIndex(), self.session
        rt, actor = session.rt, session.actor
        self.ids = []
        self._asked += 1
        asked = self._asked

        def current() -> bool:  # else another list or a refresh was asked for meanwhile
            return self._asked == asked and self.choice.currentIndex() == index

        def whole(answer: tuple[Rows, list[int]]) -> None:
            if current():
                (headers, rows), self.ids = answer
                self.table.extend_rows(headers, rows)
                say(self.message, f"{len(rows):,} entries.")

        def first(answer: tuple[Rows, list[int]]) -> None:
            if not current():
                return
            (headers, rows), self.ids = answer
            self.empty_note.say(self.EMPTY[index])
            fill_table(self.table, headers, rows)
            self.review_button.setEnabled(index >= 4)
            self.print_button.setEnabled(index in PRINTABLE)
            if len(rows) < FIRST_ROWS:
                say(self.message, f"{len(rows):,} entries.")
                return
            say(self.message, f"The first {len(rows):,} entries; reading the rest…")
            run_on_desk(session, self.message, lambda: office_list_rows(rt, actor, index), whole)

        run_on_desk(
            session, self.message, lambda: office_list_rows(rt, actor, index, FIRST_ROWS), first
        )

    def print_list(self) -> None:
        """Save the list on show as a printable PDF (the ones the office prints)."""
        which = PRINTABLE.get(self.choice.currentIndex())
        if which is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the list as PDF", f"{which.value}.pdf", "PDF files (*.pdf)"
        )
        if path:
            self.print_to(Path(path))

    def print_to(self, path: Path) -> None:
        from app.borrowing.office_list_print import office_list_pdf

        which = PRINTABLE[self.choice.currentIndex()]
        rt, actor = self.session.rt, self.session.actor

        def save(made: tuple[int, bytes]) -> None:
            count, pdf = made
            try:
                write_owner_only(path, pdf)  # hold-shelf and discrepancy lists name patrons
            except OSError as exc:
                say(self.message, f"Cannot write {path}: {exc.strerror or exc}.", error=True)
                return
            say(self.message, f"{count} entries saved to {path} for printing.")

        run_on_desk(self.session, self.message, lambda: office_list_pdf(rt, actor, which), save)

    def review(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.ids):
            say(self.message, "Select an entry in the list first.", error=True)
            return
        rt, actor = self.session.rt, self.session.actor
        entry, note, index = self.ids[row], self.note_input.text(), self.choice.currentIndex()

        def action() -> None:
            if index == 4:
                office_lists.close_discrepancy(rt, actor, entry, note)
            elif index == 6:  # the piece turned up: the note says what happened
                clear_missing_piece(rt, actor, entry, note)
            else:
                office_lists.review_not_found(rt, actor, entry, note)

        def done(_nothing: None) -> None:
            self.note_input.clear()
            self.refresh()

        run_on_desk(self.session, self.message, action, done)
