"""The desk starts the daily notice run by itself, off the GUI thread, once a day."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from db.models import Notice
from ui.desk_session import DeskSession
from ui.notices_schedule import NoticesSchedule

pytestmark = pytest.mark.gui


def kinds(session: DeskSession) -> list[str]:
    with session.rt.db.reading() as db:
        return sorted(db.scalars(select(Notice.kind)))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_first_desk_of_the_day_queues_reminders_and_later_checks_do_nothing(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession]
) -> None:
    session = desk_session("desk", "METRO")
    schedule = NoticesSchedule(session)
    schedule.first_run_delay_ms = 0
    with qtbot.waitSignal(schedule.ran, timeout=10_000) as first:
        schedule.start()
    run = first.args[0]
    assert run is not None
    assert run.queued_due_soon >= 1 and run.queued_overdue >= 1
    queued = kinds(session)
    assert "due_soon" in queued and "overdue" in queued
    with qtbot.waitSignal(schedule.ran, timeout=10_000) as second:
        schedule.run_now()
    assert second.args[0] is None  # already ran today: nothing queued twice
    assert kinds(session) == queued
    schedule.stop()
    assert not schedule.timer.isActive()
