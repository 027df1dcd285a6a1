"""Python's cycle collector runs on the GUI thread only, where Qt objects may die.

Python collects reference cycles on whichever thread happens to allocate when a threshold
is crossed: with desk work on runner threads, that can be a worker thread, and a screen,
timer or runner caught in a cycle would then be deleted off the GUI thread while the window
is handling events, which crashes the program. So automatic collection is switched off and
this collector runs it from a timer on the GUI thread, generation by generation, when the
same thresholds Python uses are crossed (the recipe PyQt and PySide applications use).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_EVERY_MS = 500


class GuiThreadCollector(QObject):
    """Owned by the application; `gc` stays disabled while it lives."""

    def __init__(self, parent: QObject, interval_ms: int = CHECK_EVERY_MS) -> None:
        super().__init__(parent)
        self.setObjectName("guiThreadCollector")
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setObjectName("guiThreadCollectorTimer")
        self.timer.timeout.connect(self.collect_if_due)
        self.timer.start(interval_ms)

    def collect_if_due(self) -> int:
        """Collect the generations whose counts passed their thresholds; objects freed."""
        freed = 0
        counts = gc.get_count()
        for generation in (2, 1, 0):  # an older generation's collection includes the younger
            if counts[generation] > self.thresholds[generation]:
                freed += gc.collect(generation)
                break
        return freed


def collect_on_the_gui_thread(app: QObject) -> GuiThreadCollector:
    """Install the collector once per application (a second call returns the first)."""
    found = app.findChild(GuiThreadCollector, "guiThreadCollector")
    if isinstance(found, GuiThreadCollector):
        return found
    return GuiThreadCollector(app)
