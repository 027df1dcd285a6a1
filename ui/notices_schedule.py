"""The daily notice run (due soon, overdue, then send the outbox), started by the desks.

`app.notices.run_daily_if_due` records the day it ran, so with many desks open it runs
once a day; checking every hour costs one small query. Sending talks to the SMTP server,
so the run happens on a worker thread and never freezes a scanning desk.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from app import notices
from app.errors import ServiceError
from ui.desk_session import DeskSession

log = logging.getLogger(__name__)
CHECK_EVERY_MS = 60 * 60 * 1000


class _Signals(QObject):
    finished = Signal(object)  # the OutboxRun, or None when another desk ran today


class _DailyRun(QRunnable):
    def __init__(self, session: DeskSession, signals: _Signals) -> None:
        super().__init__()
        self.session = session
        self.signals = signals

    def run(self) -> None:
        outcome: object = None
        try:
            outcome = notices.run_daily_if_due(self.session.rt, self.session.settings)
        except ServiceError as exc:
            log.warning("daily notice run did not run: %s", exc.message)
        except Exception:  # a database or network hiccup: the next hourly check tries again
            log.exception("daily notice run failed")
        self.signals.finished.emit(outcome)


class NoticesSchedule(QObject):
    """Hourly check, at most one run in flight; `ran` tells the screen what was done."""

    ran = Signal(object)

    def __init__(self, session: DeskSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.timer = QTimer(self)
        self.timer.setObjectName("noticesScheduleTimer")
        self.timer.setInterval(CHECK_EVERY_MS)
        self.timer.timeout.connect(self.run_now)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.finished.connect(self._finished)
        self.running = False

    def start(self) -> None:
        QTimer.singleShot(0, self.run_now)
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self._pool.waitForDone()

    def run_now(self) -> None:
        if self.running:
            return
        self.running = True
        self._pool.start(_DailyRun(self.session, self._signals))

    def _finished(self, outcome: object) -> None:
        self.running = False
        if outcome is not None:
            log.info("daily notice run: %s", outcome)
        self.ran.emit(outcome)
