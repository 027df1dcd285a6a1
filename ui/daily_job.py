"""A once-a-day job the desks start themselves: checked hourly, run on its own runner.

The job records the day it ran in the shared database, so with many desks open it runs once
a day; checking costs one small query. It runs off the GUI thread because a big day (a
backlog of loans to anonymise, a slow mail server) must never freeze a scanning desk, and on
a runner of its own (the same `Operations`, one more thread) because a long run must not hold
up the desk's queue of scans behind it.

Each run reports to a `JobWatch` (`started` hands it out): the main window shows a run that
lasts (rows done, rate, time left) under the screen, with a Stop button that ends it after
its batch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from app.library.errors import ServiceError
from app.library.progress import JobWatch
from ui.operations import Operations
from ui.widgets.job_progress import JobProgress, show_long_work

log = logging.getLogger(__name__)
CHECK_EVERY_MS = 60 * 60 * 1000
FIRST_RUN_DELAY_MS = 5_000  # after sign-in: the desk's first scan comes before any daily job
SHOW_AFTER_MS = 2_000  # an ordinary day's run is over before it is worth showing
HIDE_AFTER_MS = 30_000


Job = Callable[[JobWatch], object]  # reports to the watch, asks its `keep_going` between steps


class DailyJob(QObject):
    """Runs `job` soon after `start()` and at every hourly check, one run at a time.

    `ran` carries what the job returned: None when another desk already ran it today.
    `title` is what the status bar calls a run, `stopped_note` what it says after a Stop.
    """

    ran = Signal(object)
    started = Signal(str, object)  # the title and the `JobWatch` of a run that began
    ended = Signal(str)  # the words for the status bar when a run is over

    title = "Daily job"
    stopped_note = "Stopped: what is done stays done; the next run does the rest."

    def __init__(self, name: str, job: Job, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self.job = job
        self.watch: JobWatch | None = None
        self.timer = QTimer(self)
        self.timer.setObjectName(f"{name.replace(' ', '_')}_timer")
        self.timer.setInterval(CHECK_EVERY_MS)
        self.timer.timeout.connect(self.run_now)
        # The first run, soon after start: a timer of this object's own, so stopping (or
        # deleting) the job cancels it, never a callback left to fire on a job that is gone.
        self.first_run = QTimer(self)
        self.first_run.setObjectName(f"{name.replace(' ', '_')}_first_run")
        self.first_run.setSingleShot(True)
        self.first_run.timeout.connect(self.run_now)
        self._ops = Operations(self, name="daily")
        self.running = False
        self.first_run_delay_ms = FIRST_RUN_DELAY_MS
        self._stopping = threading.Event()

    def start(self) -> None:
        self._stopping.clear()
        self.first_run.start(self.first_run_delay_ms)
        self.timer.start()

    def stop(self) -> None:
        """Stop checking; a run in flight finishes the step in hand (never cut mid-transaction)."""
        self.stop_soon()
        self._ops.shutdown(wait_ms=-1)

    def stop_soon(self) -> None:
        """Stop checking and ask a run in flight to end after its current step; no waiting."""
        self.timer.stop()
        self.first_run.stop()
        self._stopping.set()
        if self.watch is not None:
            self.watch.stop()

    def run_now(self) -> None:
        if self.running:
            return
        watch = JobWatch()
        if self._stopping.is_set():
            watch.stop()
        job = self._ops.run(
            lambda: self.job(watch), on_done=self._finished, on_error=self._refused, name=self.name
        )
        self.running = job is not None
        if job is not None:
            self.watch = watch
            self.started.emit(self.title, watch)

    def _refused(self, error: ServiceError) -> None:
        # A refusal, or a database or network hiccup: the next hourly check tries again.
        log.warning("%s did not run: %s", self.name, error.message)
        self._finished(None)

    def _finished(self, outcome: object) -> None:
        self.running, self.watch = False, None
        stopped = bool(getattr(outcome, "stopped", False))
        if outcome is not None:
            log.info(
                "%s: %s", self.name, "stopped" if stopped else getattr(outcome, "message", "done")
            )
        self.ended.emit(self.stopped_note if stopped else "Done.")
        self.ran.emit(outcome)


def show_progress(job: DailyJob, where: QWidget) -> JobProgress:
    """A run of `job` that lasts shows in `where` (the main window's long-work strip, or a
    status bar) with its figures and Stop."""
    progress = show_long_work(
        f"{job.name.replace(' ', '_')}_progress",
        where,
        show_after_ms=SHOW_AFTER_MS,
        hide_after_ms=HIDE_AFTER_MS,
    )
    job.started.connect(progress.follow)
    job.ended.connect(progress.finish)
    return progress
