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
        self.setStyleSheet("QCheckBox#piecesConfirm { font-size: 13pt; font-weight: 700; }")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps the keyboard
        self.pieces = 1
        self.hide()

    def show_for(self, pieces: int) -> None:
        """A new proposal: unticked, and shown only when there is more than one piece."""
        self.pieces = pieces
        self.setChecked(False)
        # Alt+P ticks it from the keyboard; the scan field keeps the focus all the while.
        line = pieces_line(pieces).replace(" pieces:", " &pieces:", 1)
        self.setText(line[:-1])  # beside the check-out button: short
        self.setToolTip("Tick once every piece is counted in front of the patron (Alt+P)")
        self.setVisible(pieces > 1)

    def needs_ticking(self) -> bool:
        return self.pieces > 1 and not self.isChecked()

    def reminder(self) -> str:
        """The banner's words when Enter came before the tick."""
        return f"{pieces_line(self.pieces)} Count them, tick the box (Alt+P), then Enter"
