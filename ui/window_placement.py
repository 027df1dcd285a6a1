"""Where the desk window opens: maximised the first time, then as it was left on this PC.

A desk PC often has a 1280x800 screen; a fixed 1200x780 window there cut the screens' lower
half off. The state and the un-maximised size are kept in the workstation settings, so each
desk keeps its own.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QWidget

from app.library.errors import InvalidInput
from app.workstation.config import WorkstationSettings, save_settings

log = logging.getLogger(__name__)

UNMAXIMISED = QSize(1200, 780)  # the size un-maximising gives, until staff choose one


def place(window: QWidget, settings: WorkstationSettings) -> None:
    """Size the window before it is shown: the remembered size (within the screen), and
    maximised unless staff left it un-maximised last time."""
    remembered = QSize(settings.window_width, settings.window_height)
    size = remembered if remembered.width() > 0 and remembered.height() > 0 else UNMAXIMISED
    screen = window.screen()
    if screen is not None:
        size = size.boundedTo(screen.availableGeometry().size())
    window.resize(size)
    if settings.window_maximized:
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)


def remember(window: QWidget, settings: WorkstationSettings) -> None:
    """Keep the window's state and un-maximised size for the next sign-in on this PC."""
    full = window.windowState() & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen)
    normal = window.normalGeometry() if full else window.geometry()
    changed = settings.window_maximized != bool(full)
    settings.window_maximized = bool(full)
    if normal.isValid() and not full:
        changed |= (settings.window_width, settings.window_height) != (
            normal.width(),
            normal.height(),
        )
        settings.window_width, settings.window_height = normal.width(), normal.height()
    if not changed:
        return
    try:
        save_settings(settings)
    except (InvalidInput, OSError) as exc:  # the desk still closes; next time it opens as new
        log.warning("the window's size was not remembered: %s", exc)
