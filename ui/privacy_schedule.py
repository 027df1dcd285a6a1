"""The daily anonymising run, started by whichever desk is open first each day.

`app.privacy.run_if_due` records the day it ran in the library settings, so with many desks
open it still runs once a day; checking every hour costs one small query.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from app import privacy
from app.errors import ServiceError
from ui.desk_session import DeskSession
from ui.idle_lock import IdleLock

log = logging.getLogger(__name__)
CHECK_EVERY_MS = 60 * 60 * 1000


class PrivacySchedule(QObject):
    def __init__(self, session: DeskSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.timer = QTimer(self)
        self.timer.setObjectName("privacyScheduleTimer")
        self.timer.setInterval(CHECK_EVERY_MS)
        self.timer.timeout.connect(self.run_now)
        self.last_report: privacy.AnonymisationReport | None = None

    def start(self) -> None:
        """Run once soon after sign-in, then check every hour."""
        QTimer.singleShot(0, self.run_now)
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def run_now(self) -> None:
        try:
            report = privacy.run_if_due(self.session.rt, self.session.actor)
        except ServiceError as exc:
            log.warning("daily anonymisation did not run: %s", exc.message)
            return
        except Exception:  # a database hiccup: the next hourly check tries again
            log.exception("daily anonymisation failed")
            return
        if report is not None:
            self.last_report = report
            log.info(
                "daily anonymisation: %d loans anonymised, %d kept for charges",
                report.loans,
                report.kept_for_open_charges + report.waiting_after_charges,
            )


def install_privacy_guards(window: QWidget, session: DeskSession) -> None:
    """For a new main window: the daily run while it is open, and the idle lock over it
    unless the window already made its own (`window.idle_lock`).

    Both live as children of the window, so they end when it closes (sign-out).
    """
    if not isinstance(getattr(window, "idle_lock", None), IdleLock):
        lock = IdleLock(window, session)
        lock.signOutRequested.connect(getattr(window, "sign_out", window.close))
        lock.install()
    PrivacySchedule(session, window).start()
