"""The daily notice run (due soon, overdue, then send the outbox), started by the desks.

Only on SQLite and on PostgreSQL without staff roles: with roles, the ILL Desk service runs
it as its own role (`app.daily.DailyScheduler`) and the desks do not start it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from ui.daily_job import DailyJob
from ui.desk_session import DeskSession


def _run_daily(session: DeskSession) -> object:
    from app.notices import daily_run  # templates and mail load on the worker, not at start-up

    return daily_run.run_daily_if_due(session.rt, session.actor, session.settings)


class NoticesSchedule(DailyJob):
    def __init__(self, session: DeskSession, parent: QObject | None = None) -> None:
        super().__init__("daily notice run", lambda _keep_going: _run_daily(session), parent)
        self.session = session
