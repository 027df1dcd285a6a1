"""The tabs of a screen that the main window may scroll on a small monitor.

A QTabWidget reports a height-for-width as soon as any of its pages has one (a wrapped
line of text), and that height is the tallest page's preferred height. Inside the
window's scroll area that made a whole screen hundreds of pixels taller than the window
the moment a message appeared on any tab, pushing the message and the buttons below the
fold. These tabs ask only for their minimum size; the scroll area scrolls when that does
not fit.
"""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget


class ScreenTabs(QTabWidget):
    def hasHeightForWidth(self) -> bool:
        return False
