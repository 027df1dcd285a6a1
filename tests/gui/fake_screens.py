"""Stand-in screens for shell tests: they record what the main window does to them."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.desk_session import DeskSession


class RecordingScreen(QWidget):
    """Counts how often it was built and activated."""

    built = 0

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        type(self).built += 1
        self.session = session
        self.activations = 0
        QVBoxLayout(self).addWidget(QLabel(f"Signed in as {session.actor.username}", self))

    def activate(self) -> None:
        self.activations += 1


class OtherScreen(RecordingScreen):
    built = 0


class BrokenScreen(QWidget):
    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        raise RuntimeError("the patron table is missing a column")


class WideScreen(RecordingScreen):
    """Far wider than any monitor."""

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setMinimumWidth(3000)
