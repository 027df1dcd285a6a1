"""A tabbed screen in the window's scroll area keeps to the window when a message appears."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QScrollArea, QTabWidget, QTextEdit, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from ui.widgets.screen_tabs import ScreenTabs

pytestmark = pytest.mark.gui


def _screen(tabs: QTabWidget) -> tuple[QScrollArea, QWidget, QLabel]:
    screen = QWidget()
    layout = QVBoxLayout(screen)
    layout.addWidget(tabs)
    page = QWidget()
    inner = QVBoxLayout(page)
    tall = QTextEdit(page)  # prefers more height than the window has, needs little
    tall.setMinimumHeight(60)
    tall.sizeHint = lambda: tall.minimumSizeHint().expandedTo(tall.minimumSize()) * 20  # type: ignore[method-assign]
    inner.addWidget(tall, 1)
    message = QLabel(page)
    message.setWordWrap(True)  # a message line, like Feedback
    inner.addWidget(message)
    tabs.addTab(page, "One")
    scroller = QScrollArea()
    scroller.setWidgetResizable(True)
    scroller.setWidget(screen)
    scroller.resize(800, 400)
    return scroller, screen, message


@pytest.mark.parametrize("tabs_class", [ScreenTabs])
def test_a_message_on_a_tab_does_not_make_the_screen_taller_than_the_window(
    qtbot: QtBot, tabs_class: type[QTabWidget]
) -> None:
    scroller, screen, message = _screen(tabs_class())
    qtbot.addWidget(scroller)
    scroller.show()
    qtbot.waitExposed(scroller)
    message.setText("✔ OKT saved: messages to it go to ill@okstate.example.edu. " * 2)
    qtbot.wait(50)
    assert not screen.hasHeightForWidth() or not screen.layout().hasHeightForWidth()
    assert screen.height() <= scroller.viewport().height()  # nothing pushed below the fold
    assert scroller.verticalScrollBar().maximum() == 0


def test_a_plain_tab_widget_would_have_grown() -> None:
    """Why ScreenTabs exists: the check above fails with QTabWidget (kept as a record)."""
    tabs = QTabWidget()
    page = QWidget()
    QVBoxLayout(page).addWidget(QLabel("wrapped", wordWrap=True))
    tabs.addTab(page, "One")
    assert tabs.hasHeightForWidth()
    screen_tabs = ScreenTabs()
    page2 = QWidget()
    QVBoxLayout(page2).addWidget(QLabel("wrapped", wordWrap=True))
    screen_tabs.addTab(page2, "One")
    assert not screen_tabs.hasHeightForWidth()
