"""The daily notice run (due soon, overdue, then send the outbox), started by the desks.

Only on SQLite and on PostgreSQL without staff roles: with roles, the ILL Desk service runs
it as its own role (`app.daily.DailyScheduler`) and the desks do not start it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.library.progress import JobWatch
from ui.daily_job import DailyJob
from ui.desk_session import DeskSession


def _run_daily(session: DeskSession, watch: JobWatch) -> object:
    from app.notices import daily_run  # templates and mail load on the worker, not at start-up

    rt, actor, settings = session.rt, session.actor, session.settings
    return daily_run.run_daily_if_due(rt, actor, settings, watch.progress, watch.keep_going)


class NoticesSchedule(DailyJob):
    title = "Daily notices"
    stopped_note = "Stopped: what was queued or sent stays; the next hourly check carries on."

    def __init__(self, session: DeskSession, parent: QObject | None = None) -> None:
        super().__init__("daily notice run", lambda watch: _run_daily(session, watch), parent)
        self.session = session
