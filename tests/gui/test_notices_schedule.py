"""The desk starts the daily notice run by itself, off the GUI thread, once a day; on
PostgreSQL with staff roles the ILL Desk service runs the daily jobs instead."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app import demo
from app.library.runtime import Runtime
from app.workstation.config import WorkstationSettings
from db.models import Notice
from ui.desk_app import SERVICE_RUNS_DAILY_JOBS, DeskController
from ui.desk_session import DeskSession
from ui.main_window import MainWindow
from ui.notices_schedule import NoticesSchedule
from ui.privacy_schedule import PrivacySchedule
from ui.sign_in import SignInDialog

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


def _sign_in(qtbot: QtBot, controller: DeskController, user: str, branch: str) -> MainWindow:
    controller.start()
    dialog = controller.dialog
    assert isinstance(dialog, SignInDialog)
    dialog.branch_box.setCurrentIndex(dialog.branch_box.findData(branch))
    qtbot.keyClicks(dialog.user_edit, user)
    qtbot.keyClicks(dialog.password_edit, demo.DEMO_PASSWORD)
    with qtbot.waitSignal(dialog.ops.answered):
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    window = controller.window
    assert isinstance(window, MainWindow)
    return window


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_desks_run_the_daily_jobs_unless_the_database_has_staff_roles(
    qtbot: QtBot, demo_rt: Runtime, backend: str
) -> None:
    controller = DeskController(demo_rt, WorkstationSettings(), on_quit=lambda: None)
    window = _sign_in(qtbot, controller, "desk", "METRO")
    privacy_runs = window.findChildren(PrivacySchedule)
    said = window.statusBar().currentMessage()
    if backend == "sqlite":
        assert controller.notices_schedule is not None
        assert controller.notices_schedule.timer.isActive()
        assert len(privacy_runs) == 1 and privacy_runs[0].timer.isActive()
        assert SERVICE_RUNS_DAILY_JOBS not in said
    else:  # PostgreSQL with roles: the desk's role may not run them; the service does
        assert controller.notices_schedule is None and privacy_runs == []
        assert said == SERVICE_RUNS_DAILY_JOBS
    sign_out = window.findChild(QPushButton, "signOutButton")
    assert sign_out is not None
    sign_out.click()
    qtbot.waitUntil(lambda: controller.notices_schedule is None)  # ended with the window
    again = controller.dialog
    assert isinstance(again, SignInDialog)
    again.reject()
