"""The check-out confirmation for an item of several pieces: staff tick it once they have
counted every piece in front of the patron; the loan is made only then."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QWidget

from app.borrowing.pieces import pieces_line


class PiecesConfirm(QCheckBox):
    """Hidden for a single piece; for more, "2 pieces: check that both are here"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("piecesConfirm")
        self.setStyleSheet("QCheckBox#piecesConfirm { font-size: 16pt; font-weight: 700; }")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps the keyboard
        self.pieces = 1
        self.hide()

    def show_for(self, pieces: int) -> None:
        """A new proposal: unticked, and shown only when there is more than one piece."""
        self.pieces = pieces
        self.setChecked(False)
        self.setText(f"{pieces_line(pieces)} Tick when every piece is here.")
        self.setVisible(pieces > 1)

    def needs_ticking(self) -> bool:
        return self.pieces > 1 and not self.isChecked()

    def reminder(self) -> str:
        every = "both" if self.pieces == 2 else f"all {self.pieces}"
        return (
            f"{pieces_line(self.pieces)} Count them in front of the patron, tick "
            f"'{every} are here', then press Enter. If one is missing, do not check it out: "
            "ask the ILL office."
        )
