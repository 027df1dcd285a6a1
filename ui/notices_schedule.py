"""The daily notice run (due soon, overdue, then send the outbox), started by the desks."""

from __future__ import annotations

from PySide6.QtCore import QObject

from app import notices
from ui.daily_job import DailyJob
from ui.desk_session import DeskSession


class NoticesSchedule(DailyJob):
    def __init__(self, session: DeskSession, parent: QObject | None = None) -> None:
        super().__init__(
            "daily notice run",
            lambda _keep_going: notices.run_daily_if_due(session.rt, session.settings),
            parent,
        )
        self.session = session
