"""A line inside an empty table or list saying why it is empty and what to do.

A bare grid with headers and no rows leaves staff wondering whether the list failed to
load, is filtered, or is really empty. Every office and admin table gets one note, shown
over its empty viewport and hidden as soon as a row arrives; the screen changes the words
when the reason changes (before a search, after a search that found nothing).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel

MARGIN = 16


class EmptyNote(QLabel):
    """Shown in `view`'s viewport while its model has no rows and the note has words."""

    def __init__(self, view: QAbstractItemView, text: str, object_name: str = "") -> None:
        super().__init__(text, view.viewport())
        self.view = view
        self.setObjectName(object_name or f"{view.objectName() or 'table'}Empty")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet("color: #37474f; font-size: 11pt; background: transparent;")
        self.setAccessibleName(text)
        view.viewport().installEventFilter(self)
        model = view.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self.update_shown)
        self.update_shown()

    def say(self, text: str) -> None:
        """New words for why the table is empty (shown only while it is)."""
        self.setText(text)
        self.setAccessibleName(text)
        self.update_shown()

    def showing(self) -> bool:
        """True while the note is what the table shows (whether or not the window is up)."""
        return not self.isHidden()

    def update_shown(self) -> None:
        empty = self.view.model().rowCount() == 0
        self.setVisible(empty and bool(self.text()))
        self._place()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        width = max(self.view.viewport().width() - 2 * MARGIN, 120)
        self.setGeometry(MARGIN, MARGIN, width, self.heightForWidth(width))
