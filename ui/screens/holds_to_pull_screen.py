"""Holds to pull: the signed-in campus's hold-shelf items whose pickup-by date has passed.

The same list as `illdesk holds expired` (`app.desk.holds_to_pull`), for the desk worker who
clears the shelf: pull each item and check it in, which ends the hold and sends it back to
the ILL office. Reloaded each time the screen is shown, so a desk left open overnight shows
the new day's list.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.borrowing.pieces import pieces_to_pull
from app.desk.holds_to_pull import HoldToPull, holds_to_pull
from app.library.errors import ServiceError
from ui.desk_session import DeskSession
from ui.widgets.panel_parts import Feedback, KeyedTable, button

COLUMNS = ("Barcode", "Title", "Patron", "Pickup by", "Days past", "Note")


def heading_text(count: int | None) -> str:
    """ "Holds to pull (N)": the count is what the worker looks for first."""
    return "Holds to pull" if count is None else f"Holds to pull ({count})"


def empty_text(branch: str) -> str:
    return (
        f"Nothing to pull at {branch} today: no item on its hold shelf is past its pickup-by "
        "date. Items whose pickup-by date has passed appear here the next morning."
    )


class HoldsToPullScreen(QWidget):
    """One list and a Refresh button; an empty list says why it is empty (inside the table)."""

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("holdsToPullScreen")
        self.session = session
        self.ops = session.ops
        self.branch = session.actor.branch_code
        self.rows: list[HoldToPull] = []

        self.heading = QLabel(heading_text(None), self)
        self.heading.setObjectName("holdsToPullHeading")
        self.heading.setProperty("role", "heading")
        what = QLabel(
            f"Items on {self.branch}'s hold shelf past their pickup-by date, the oldest "
            "first. Pull each one and check it in: it goes back to the ILL office. The "
            "daily notices run tells the patron it is going back.",
            self,
        )
        what.setObjectName("holdsToPullExplanation")
        what.setWordWrap(True)
        self.table = KeyedTable("holdsToPullTable", COLUMNS, self)
        self.table.setAccessibleName("Holds to pull")
        self.empty = self.table.empty_note  # words only once the list was read
        self.empty.setObjectName("holdsToPullEmpty")
        self.refresh_button = button(self, "Refresh", "refreshHoldsToPullButton", self.refresh)
        self.feedback = Feedback("holdsToPullMessage", self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 24)
        for widget in (self.heading, what):
            layout.addWidget(widget)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.feedback)
        layout.addStretch(0)

    def activate(self) -> None:
        """Shown: read the list afresh (the day may have changed since it was last shown)."""
        self.refresh()

    def refresh(self) -> None:
        rt, actor = self.session.rt, self.session.actor
        self.ops.run(
            lambda: holds_to_pull(rt, actor),
            on_done=self._show,
            on_error=self._refused,
            name="holds to pull",
            owner=self,
        )

    def _show(self, rows: Sequence[HoldToPull]) -> None:
        self.rows = list(rows)
        self.heading.setText(heading_text(len(self.rows)))
        self.feedback.clear()
        self.table.fill(
            [
                (
                    r.barcode,
                    (
                        r.barcode,
                        r.title,
                        r.patron or "(patron no longer recorded)",
                        r.pickup_by.isoformat(),
                        str(r.days_past),
                        _note(r),
                    ),
                )
                for r in self.rows
            ]
        )
        self.empty.say(empty_text(self.branch))

    def _refused(self, error: ServiceError) -> None:
        """Not read: say why, and never show an old count as if it were today's."""
        self.heading.setText(heading_text(None))
        self.feedback.problem(error.message)


def _note(row: HoldToPull) -> str:
    """What to mind when pulling it: its pieces, and in-library use."""
    notes = (pieces_to_pull(row.pieces), "in library use only" if row.in_library_use_only else "")
    return "; ".join(note for note in notes if note)
