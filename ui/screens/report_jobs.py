"""The Reports screen's counting, on a runner of its own so the window never blocks.

A report can take a second or two at full size; on the desk's runner it would hold up the
scans queued behind it, so the screen has its own `Operations` (the same class every screen
uses). Only the newest request's answer is delivered: choosing another period while one is
being counted drops the older answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from app.library.errors import ServiceError
from ui.operations import Operations


class ReportJobs(QObject):
    """`run(work, on_done, on_failed)`: the newest answer only, on the GUI thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ops = Operations(self, name="reports")
        self._ticket = 0
        self._pending = False

    def run(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_failed: Callable[[str], None],
    ) -> None:
        self._ticket += 1
        ticket, self._pending = self._ticket, True

        def done(value: Any) -> None:
            if ticket == self._ticket:
                self._pending = False
                on_done(value)

        def failed(error: ServiceError) -> None:
            if ticket == self._ticket:
                self._pending = False
                on_failed(error.message)

        self.ops.run(work, on_done=done, on_error=failed, name="report", owner=self)

    def busy(self) -> bool:
        return self._pending

    def wait(self, msecs: int = 30_000) -> bool:
        return self.ops.wait(msecs)

    def shutdown(self) -> None:
        self.ops.shutdown()
