"""A once-a-day job the desks start themselves: checked hourly, run on a worker thread.

The job records the day it ran in the shared database, so with many desks open it runs once
a day; checking costs one small query. It runs off the GUI thread because a big day (a
backlog of loans to anonymise, a slow mail server) must never freeze a scanning desk.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from app.library.errors import ServiceError

log = logging.getLogger(__name__)
CHECK_EVERY_MS = 60 * 60 * 1000
FIRST_RUN_DELAY_MS = 5_000  # after sign-in: the desk's first scan comes before any daily job


class _Signals(QObject):
    finished = Signal(object)


Job = Callable[[Callable[[], bool]], object]  # called with `keep_going`, asked between steps


class _Run(QRunnable):
    def __init__(
        self, name: str, job: Job, keep_going: Callable[[], bool], signals: _Signals
    ) -> None:
        super().__init__()
        self.name, self.job, self.keep_going, self.signals = name, job, keep_going, signals

    def run(self) -> None:
        outcome: object = None
        try:
            outcome = self.job(self.keep_going)
        except ServiceError as exc:
            log.warning("%s did not run: %s", self.name, exc.message)
        except Exception:  # a database or network hiccup: the next hourly check tries again
            log.exception("%s failed", self.name)
        self.signals.finished.emit(outcome)


class DailyJob(QObject):
    """Runs `job` soon after `start()` and at every hourly check, one run at a time.

    `ran` carries what the job returned: None when another desk already ran it today.
    """

    ran = Signal(object)

    def __init__(self, name: str, job: Job, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self.job = job
        self.timer = QTimer(self)
        self.timer.setObjectName(f"{name.replace(' ', '_')}_timer")
        self.timer.setInterval(CHECK_EVERY_MS)
        self.timer.timeout.connect(self.run_now)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.finished.connect(self._finished)
        self.running = False
        self.first_run_delay_ms = FIRST_RUN_DELAY_MS
        self._stopping = threading.Event()

    def start(self) -> None:
        self._stopping.clear()
        QTimer.singleShot(self.first_run_delay_ms, self.run_now)
        self.timer.start()

    def stop(self) -> None:
        """Stop checking; a run in flight finishes the step in hand (never cut mid-transaction)."""
        self.stop_soon()
        self._pool.waitForDone()

    def stop_soon(self) -> None:
        """Stop checking and ask a run in flight to end after its current step; no waiting."""
        self.timer.stop()
        self._stopping.set()

    def run_now(self) -> None:
        if self.running:
            return
        self.running = True
        self._pool.start(
            _Run(self.name, self.job, lambda: not self._stopping.is_set(), self._signals)
        )

    def _finished(self, outcome: object) -> None:
        self.running = False
        if outcome is not None:
            log.info("%s: %s", self.name, getattr(outcome, "message", "done"))
        self.ran.emit(outcome)
