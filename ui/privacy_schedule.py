"""The daily anonymising run, started by whichever desk is open first each day.

`app.records.privacy.run_if_due` records the day it ran in the library settings, so with
many desks open it still runs once a day; checking every hour costs one small query. It
runs on a worker thread in batches (`app.records.privacy.BATCH_LOANS`), so a large backlog
never freezes a desk; a run that lasts shows under the screen with its progress and Stop.
On PostgreSQL with staff roles no desk may run it: the ILL Desk
service does (`app.daily.DailyScheduler`), and the desk starts only the idle lock.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow, QWidget

from app import daily
from app.records import privacy
from ui.daily_job import DailyJob, show_progress
from ui.desk_session import DeskSession
from ui.idle_lock import IdleLock


class PrivacySchedule(DailyJob):
    """The daily anonymising run, on a worker thread; `last_report` keeps what it did."""

    title = "Anonymising old loans"
    stopped_note = "Stopped: the loans anonymised so far stay so; tomorrow's run does the rest."

    def __init__(self, session: DeskSession, parent: QObject | None = None) -> None:
        super().__init__(
            "daily anonymisation",
            lambda watch: daily.run_if_due(
                session.rt, session.actor, keep_going=watch.keep_going, progress=watch.progress
            ),
            parent,
        )
        self.session = session
        self.last_report: privacy.AnonymisationReport | None = None
        self.ran.connect(self._keep)

    def _keep(self, report: object) -> None:
        if isinstance(report, privacy.AnonymisationReport):
            self.last_report = report


def install_privacy_guards(
    window: QWidget, session: DeskSession, *, daily_run: bool = True
) -> None:
    """For a new main window: the daily run while it is open (unless `daily_run` is False:
    the service runs it), and the idle lock over it unless the window already made its own
    (`window.idle_lock`).

    Both live as children of the window, so they end when it closes (sign-out).
    """
    if not isinstance(getattr(window, "idle_lock", None), IdleLock):
        lock = IdleLock(window, session)
        lock.signOutRequested.connect(getattr(window, "sign_out", window.close))
        lock.install()
    if daily_run:
        schedule = PrivacySchedule(session, window)
        strip = getattr(window, "long_work", None)
        if isinstance(strip, QWidget):
            show_progress(schedule, strip)
        elif isinstance(window, QMainWindow):
            show_progress(schedule, window.statusBar())
        schedule.start()
