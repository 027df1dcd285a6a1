"""Help > Keys and banner colours: the desk's keys, and what each colour of the banner means.

Built from the same tables the desk uses (`ui.screens.SCREENS` for the F-keys, the banner's
own styles for the colours), so the help cannot drift from what the desk does.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ui.screens import SCREENS
from ui.widgets.routing_banner import GOOD, IDLE, PROBLEM, RETURN, TRANSIT, BannerStyle

HELP_KEY = "F1"
# Keys that are not screens: (key, what it does).
OTHER_KEYS: tuple[tuple[str, str], ...] = (
    ("Ctrl+R", "Check In: barcode recovery, when a strap cannot be read or is not found"),
    ("Enter", "Check Out: confirm the checkout with the due date shown"),
    ("Escape", "Close this help, a message or the print dialog without doing anything"),
    ("Ctrl+Shift+L", "Sign out"),
    (HELP_KEY, "This help"),
)
# What the banner's colour tells staff to do, for each of its looks.
BANNER_MEANINGS: tuple[tuple[BannerStyle, str, str], ...] = (
    (IDLE, "grey", "Ready: waiting for the next scan."),
    (GOOD, "green", "Done: put the item where the words say (hold shelf, or the shelf)."),
    (TRANSIT, "blue", "Send on: it belongs at another branch; send it by inter-campus mail."),
    (RETURN, "yellow", "Return: back to the ILL office (or the lender) with a yellow strap."),
    (
        PROBLEM,
        "red",
        "Problem: not checked in as usual. Read the words; Ctrl+R finds an item "
        "whose barcode is not found.",
    ),
)


def desk_keys() -> list[tuple[str, str]]:
    """Every key the help lists, screens first (F2 to F7), in order."""
    screens = [(spec.shortcut, f"{spec.title} screen") for spec in SCREENS]
    return screens + list(OTHER_KEYS)


class DeskHelpDialog(QDialog):
    """Keys on the left, banner colours below; Escape or Close shuts it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deskHelpDialog")
        self.setWindowTitle("ILL Desk: keys and banner colours")
        col = QVBoxLayout(self)
        col.addWidget(self._heading("Keys"))
        keys = QGridLayout()
        for row, (key, meaning) in enumerate(desk_keys()):
            name = QLabel(f"<b>{key}</b>", self)
            name.setObjectName(f"helpKey_{key}")
            keys.addWidget(name, row, 0)
            keys.addWidget(QLabel(meaning, self), row, 1)
        keys.setColumnStretch(1, 1)
        col.addLayout(keys)
        col.addWidget(self._heading("What the check-in banner's colour means"))
        colours = QGridLayout()
        for row, (look, colour, meaning) in enumerate(BANNER_MEANINGS):
            swatch = QLabel(colour, self)
            swatch.setObjectName(f"helpBanner_{look.key}")
            swatch.setAlignment(Qt.AlignmentFlag.AlignCenter)
            swatch.setFixedWidth(90)
            swatch.setStyleSheet(
                f"background: {look.background}; color: {look.foreground}; padding: 4px;"
                "border-radius: 4px; font-weight: 700;"
            )
            text = QLabel(meaning, self)
            text.setWordWrap(True)
            colours.addWidget(swatch, row, 0)
            colours.addWidget(text, row, 1)
        colours.setColumnStretch(1, 1)
        col.addLayout(colours)
        note = QLabel(
            "The banner always says the same thing in words and with an icon, so the colour "
            "is never the only clue.",
            self,
        )
        note.setWordWrap(True)
        col.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        col.addWidget(buttons)
        self.resize(620, 520)

    def _heading(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setProperty("role", "heading")
        font = label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() + 2)
        label.setFont(font)
        return label
