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

from ui.icons import resource_icon
from ui.screens import SCREENS
from ui.widgets.banner_looks import (
    GOOD,
    IDLE,
    ILL_OFFICE,
    NOT_FOUND,
    NOT_SURE,
    REFUSED,
    ROUTE,
    SHELF,
    BannerStyle,
)

HELP_KEY = "F1"
# Keys that are not screens: (key, what it does).
OTHER_KEYS: tuple[tuple[str, str], ...] = (
    ("Ctrl+R", "Check In: barcode recovery, when a strap cannot be read or is not found"),
    (
        "Ctrl+Shift+D",
        "Check Out: the strap shows the date on record (or type the strap's date yourself)",
    ),
    ("Enter", "Check Out: confirm the checkout, once the strap's date is given"),
    (
        "Escape",
        "Close barcode recovery, this help, a message or the print dialog without doing anything",
    ),
    ("Ctrl+Shift+L", "Sign out"),
    (HELP_KEY, "This help"),
)
# What the banner's colour (and icon) tells staff to do, for each of its looks.
BANNER_MEANINGS: tuple[tuple[BannerStyle, str], ...] = (
    (IDLE, "Ready: waiting for the next scan."),
    (SHELF, "Shelve here: on the hold shelf for the patron named, or back on the shelf."),
    (ROUTE, "Send on: it belongs at another campus; send it by inter-campus mail."),
    (
        ILL_OFFICE,
        "Back to the ILL office (or the lender): yellow flag or strap, inter-campus mail.",
    ),
    (NOT_FOUND, "Not found: no item has this barcode. Ctrl+R opens Barcode recovery."),
    (REFUSED, "Not accepted: nothing was checked in. Scan the TOP barcode of the strap again."),
    (
        NOT_SURE,
        "Not sure: the database did not answer. Keep the item aside until the desk is back "
        "online; the scan is saved and checked then.",
    ),
    (GOOD, "Check Out: done, the due date is shown."),
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
        for row, (look, meaning) in enumerate(BANNER_MEANINGS):
            icon = QLabel(self)
            icon.setPixmap(resource_icon(look.icon).pixmap(28, 28))
            icon.setAccessibleName(look.label)
            swatch = QLabel(look.colour, self)
            swatch.setObjectName(f"helpBanner_{look.key}")
            swatch.setAlignment(Qt.AlignmentFlag.AlignCenter)
            swatch.setFixedWidth(110)
            swatch.setStyleSheet(
                f"background: {look.background}; color: {look.foreground}; padding: 4px;"
                "border-radius: 4px; font-weight: 700;"
            )
            text = QLabel(meaning, self)
            text.setWordWrap(True)
            colours.addWidget(icon, row, 0)
            colours.addWidget(swatch, row, 1)
            colours.addWidget(text, row, 2)
        colours.setColumnStretch(2, 1)
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
        self.resize(720, 640)

    def _heading(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setProperty("role", "heading")
        font = label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() + 2)
        label.setFont(font)
        return label
