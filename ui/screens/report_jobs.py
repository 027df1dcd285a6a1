"""Work the Reports screen runs off the GUI thread, so the window never blocks.

Kept apart from the screen so a shared operations runner can replace it: the screen only
calls `run(work, on_done, on_failed)`. Each job opens its own session (the service does)
and hands back plain values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from sqlalchemy.exc import SQLAlchemyError

from app.library.errors import ServiceError

log = logging.getLogger(__name__)


class _Signals(QObject):
    finished = Signal(int, object)
    failed = Signal(int, str)


class _Job(QRunnable):
    def __init__(self, ticket: int, work: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self._ticket, self._work, self._signals = ticket, work, signals

    def run(self) -> None:
        try:
            result = self._work()
        except ServiceError as exc:
            self._signals.failed.emit(self._ticket, exc.message)
        except SQLAlchemyError as exc:
            log.warning("report failed: %s", exc)
            self._signals.failed.emit(
                self._ticket,
                "The database did not answer. Check the connection in the status bar, "
                "then show the report again.",
            )
        except Exception:  # never a traceback on screen; the log keeps the detail
            log.exception("report failed")
            self._signals.failed.emit(
                self._ticket,
                "The report could not be made. Try again; if it happens again, tell IT "
                "(the details are in the log).",
            )
        else:
            self._signals.finished.emit(self._ticket, result)


class ReportJobs(QObject):
    """One worker thread; only the newest request's answer is delivered."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.finished.connect(self._finished)
        self._signals.failed.connect(self._failed)
        self._ticket = 0
        self._callbacks: dict[int, tuple[Callable[[Any], None], Callable[[str], None]]] = {}

    def run(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_failed: Callable[[str], None],
    ) -> None:
        self._ticket += 1
        self._callbacks = {self._ticket: (on_done, on_failed)}  # older answers are dropped
        self._pool.start(_Job(self._ticket, work, self._signals))

    def busy(self) -> bool:
        return bool(self._callbacks)

    def wait(self, msecs: int = 30_000) -> bool:
        return bool(self._pool.waitForDone(msecs))

    def _finished(self, ticket: int, result: Any) -> None:
        callbacks = self._callbacks.pop(ticket, None)
        if callbacks is not None:
            callbacks[0](result)

    def _failed(self, ticket: int, message: str) -> None:
        callbacks = self._callbacks.pop(ticket, None)
        if callbacks is not None:
            callbacks[1](message)
