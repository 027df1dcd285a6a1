"""Help > Keys and banner colours: the desk's keys and what each banner colour means."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMenu
from pytestqt.qtbot import QtBot

from ui.desk_session import DeskSession
from ui.main_window import MainWindow
from ui.widgets.banner_looks import FAMILY_LOOKS

pytestmark = pytest.mark.gui


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the help is the same on both databases


def texts(widget: object) -> str:
    return "\n".join(label.text() for label in widget.findChildren(QLabel))  # type: ignore[attr-defined]


def test_help_menu_lists_the_keys_and_the_banner_colours(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession]
) -> None:
    window = MainWindow(desk_session("desk", "METRO"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    menu = window.findChild(QMenu, "helpMenu")
    assert menu is not None and menu.title() == "&Help"
    (action,) = menu.actions()
    assert action.shortcut().toString() == "F1"
    action.trigger()
    dialog = window.help_dialog
    assert dialog is not None and dialog.isVisible()
    shown = texts(dialog)
    for key in ("F2", "F3", "F4", "F5", "F6", "F7", "Ctrl+R", "Ctrl+Shift+D", "Escape"):
        assert f"<b>{key}</b>" in shown, key
    assert "Check In screen" in shown and "barcode recovery" in shown
    for look in FAMILY_LOOKS.values():  # every family: its colour's name, and what to do
        swatch = dialog.findChild(QLabel, f"helpBanner_{look.key}")
        assert swatch is not None and swatch.text() == look.colour
        assert look.background in swatch.styleSheet()
    for meaning in ("Shelve here", "Send on", "ILL office", "Not found", "Ctrl+R",
                    "Not accepted", "Not sure", "Ready"):  # fmt: skip
        assert meaning in shown, meaning
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    window.close()
