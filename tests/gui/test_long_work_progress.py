"""Long work in the window shows rows done, rate and time left, and Stop ends it between
batches with what was committed kept (SQLite; the jobs' own stop tests run on both).

The jobs are held after each batch by a gate the test opens, so the window is seen at each
step without a sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from app import daily
from app.borrowing.patron_import import import_patrons
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from app.notices import daily_run
from app.offline.replay import EntryStatus, replay_journal
from app.records import privacy
from db.models import Loan, Patron
from tests.gui.test_shell import TWO_SCREENS
from tests.gui.waiting import settle
from ui import offline_mode, privacy_schedule
from ui.admin import import_tab
from ui.admin.import_tab import ImportTab
from ui.desk_session import DeskSession
from ui.main_window import MainWindow
from ui.offline_mode import OfflineMode
from ui.privacy_schedule import PrivacySchedule, install_privacy_guards
from ui.screens import notices_panel
from ui.screens.notices_panel import NoticesPanel
from ui.status_bar import DeskStatusBar
from ui.widgets.job_progress import JobProgress

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
MakeSession = Callable[[str, str], DeskSession]
HEADER = "patron_id,barcode,first_name,last_name,email,patron_type,home_branch\n"
WAIT_MS = 10_000


class Gate:
    """Holds the job after each progress report until the test lets it go on."""

    def __init__(self) -> None:
        self.passes = threading.Semaphore(0)

    def let_through(self, batches: int = 1) -> None:
        for _ in range(batches):
            self.passes.release()

    def held(self, progress: Callable[[int, int], None]) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            progress(done, total)
            self.passes.acquire(timeout=WAIT_MS / 1000)

        return report


def _patrons(rt: Runtime) -> int:
    with rt.db.reading() as session:
        query = select(func.count()).select_from(Patron).where(Patron.patron_id.like("T0500%"))
        return int(session.scalar(query) or 0)


@pytest.fixture
def gated_import(monkeypatch: pytest.MonkeyPatch) -> Gate:
    """The tab's patron import, 10 rows a batch, held after each batch by the gate."""
    gate = Gate()

    def held_import(*args: Any, progress: Callable[[int, int], None], **kw: Any) -> Any:
        return import_patrons(*args, progress=gate.held(progress), batch_rows=10, **kw)

    monkeypatch.setattr(import_tab, "import_patrons", held_import)
    return gate


def _tab(qtbot: QtBot, session: DeskSession, tmp_path: Path) -> ImportTab:
    rows = "".join(f"T0500{n:04d},,P{n},Q,p{n}@example.edu,student,METRO\n" for n in range(50))
    csv = tmp_path / "patrons.csv"
    csv.write_text(HEADER + rows, encoding="utf-8")
    tab = ImportTab(session)
    qtbot.addWidget(tab)
    tab.show()
    tab.file_input.setText(str(csv))
    return tab


def _shows(qtbot: QtBot, tab: ImportTab, text: str) -> None:
    qtbot.waitUntil(lambda: text in tab.progress.figures.text(), timeout=WAIT_MS)


def test_an_import_shows_rows_done_rate_and_time_left_and_stop_keeps_what_went_in(
    qtbot: QtBot, desk_session: MakeSession, tmp_path: Path, gated_import: Gate
) -> None:
    session = desk_session("office", "WS-ILL")
    tab = _tab(qtbot, session, tmp_path)
    tab.start_button.click()
    assert tab.progress.isVisible() and tab.progress.stop_button.isEnabled()
    assert not tab.start_button.isEnabled()
    _shows(qtbot, tab, "0 of 50 rows")
    gated_import.let_through()
    _shows(qtbot, tab, "10 of 50 rows")
    first = tab.progress.bar.value()
    gated_import.let_through()
    _shows(qtbot, tab, "20 of 50 rows")
    assert tab.progress.bar.value() > first > 0  # the bar moves
    assert "rows/s" in tab.progress.figures.text() and "left" in tab.progress.figures.text()

    tab.progress.stop_button.click()  # while the job is held after its second batch
    assert "Stopping after the batch in hand" in tab.progress.figures.text()
    gated_import.let_through()
    settle(qtbot, tab.ops)
    assert _patrons(session.rt) == 20  # the two committed batches, nothing more
    assert "Stopped after 20 of 50 rows" in tab.progress.figures.text()
    said = tab.feedback.text()
    assert "Stopped" in said and "20 new" in said and "import the same file again" in said
    assert tab.start_button.isEnabled() and not tab.progress.stop_button.isVisible()

    gated_import.let_through(10)
    tab.start_button.click()  # the same file again finishes it
    settle(qtbot, tab.ops)
    assert _patrons(session.rt) == 50
    assert "30 new" in tab.feedback.text() and "20 unchanged" in tab.feedback.text()
    assert tab.progress.figures.text() == "50 of 50 rows · done"


def test_a_missing_file_is_said_plainly(
    qtbot: QtBot, desk_session: MakeSession, tmp_path: Path
) -> None:
    tab = _tab(qtbot, desk_session("office", "WS-ILL"), tmp_path)
    tab.file_input.setText(str(tmp_path / "nowhere.csv"))
    tab.start_button.click()
    settle(qtbot, tab.ops)
    assert "There is no file" in tab.feedback.text()
    assert tab.start_button.isEnabled() and not tab.progress.running


def test_a_desk_account_is_refused_the_import(
    qtbot: QtBot, desk_session: MakeSession, tmp_path: Path
) -> None:
    tab = _tab(qtbot, desk_session("desk", "METRO"), tmp_path)
    tab.start_button.click()
    settle(qtbot, tab.ops)
    assert "✖" in tab.feedback.text() and not tab.progress.running


def _gate_progress(gate: Gate, run: Callable[..., Any], at: int) -> Callable[..., Any]:
    """`run` with its progress callback (positional argument `at`) held by the gate."""

    def held(*args: Any, **kw: Any) -> Any:
        given = list(args)
        given[at] = gate.held(given[at])
        return run(*given, **kw)

    return held


def test_the_daily_privacy_run_shows_under_the_screen_and_stops_after_its_batch(
    qtbot: QtBot,
    desk_session: MakeSession,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = desk_session("desk", "METRO")
    with session.rt.db.transaction() as db:
        loans = db.scalars(select(Loan).where(Loan.returned_at.is_(None)).limit(3)).all()
        for loan in loans:
            loan.returned_at = clock.now() - timedelta(days=400)
    gate, run_if_due = Gate(), daily.run_if_due

    def held_run(rt: Runtime, actor: Any, **kw: Any) -> Any:
        kw["progress"] = gate.held(kw["progress"])
        return run_if_due(rt, actor, batch=1, **kw)

    monkeypatch.setattr(privacy_schedule.daily, "run_if_due", held_run)
    window = MainWindow(session, TWO_SCREENS, lambda: None)
    qtbot.addWidget(window)
    window.show()
    install_privacy_guards(window, session)  # as at sign-in: the run, shown in the window
    [schedule] = window.findChildren(PrivacySchedule)
    schedule.first_run.stop()  # the test starts it
    shown = window.long_work.findChild(JobProgress, "daily_anonymisation_progress")
    assert shown is not None and window.offline.progress.parent() is window.long_work
    assert shown.isHidden()  # until a run lasts
    shown.show_after_ms = 0
    schedule.run_now()
    qtbot.waitUntil(lambda: "0 of 3 rows" in shown.figures.text(), timeout=WAIT_MS)
    assert shown.isVisible() and shown.title.text() == "Anonymising old loans"
    gate.let_through()
    qtbot.waitUntil(lambda: "1 of 3 rows" in shown.figures.text(), timeout=WAIT_MS)
    shown.stop_button.click()
    with qtbot.waitSignal(schedule.ran, timeout=WAIT_MS) as ran:
        gate.let_through(3)
    report = ran.args[0]
    assert isinstance(report, privacy.AnonymisationReport) and report.stopped
    assert report.loans == 1
    assert "tomorrow's run does the rest" in shown.figures.text()
    assert not shown.stop_button.isVisible()
    window.close()  # stops the schedule, as signing out does
    assert not schedule.timer.isActive()


def test_a_replay_shows_in_the_status_bar_stops_and_carries_on_when_asked(
    qtbot: QtBot, desk_session: MakeSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = desk_session("desk", "SE")
    for barcode in ("ILL00000018", "31234000000001", "ILL00000091"):
        session.offline.check_in(session.actor, barcode, None)
    gate = Gate()
    monkeypatch.setattr(offline_mode, "replay_journal", _gate_progress(gate, replay_journal, 3))
    status = DeskStatusBar(session, None, lambda: None)
    qtbot.addWidget(status)
    status.show()
    offline = OfflineMode(session, status, status)
    offline.progress.show_after_ms = 0
    offline.replay_now()
    qtbot.waitUntil(lambda: "0 of 3 scans" in offline.progress.figures.text(), timeout=WAIT_MS)
    gate.let_through()
    qtbot.waitUntil(lambda: "1 of 3 scans" in offline.progress.figures.text(), timeout=WAIT_MS)
    offline.progress.stop_button.click()
    with qtbot.waitSignal(offline.replayFinished, timeout=WAIT_MS) as finished:
        gate.let_through(3)
    report = finished.args[0]
    assert report.stopped and report.count(EntryStatus.APPLIED) == 1
    assert offline.waiting == 3 and offline.held  # no automatic replay behind staff's back
    assert "2 wait" in offline.progress.figures.text()
    again = offline.progress.again_button
    assert again.isVisible() and again.text() == "Replay the rest"

    gate.let_through(10)
    with qtbot.waitSignal(offline.replayFinished, timeout=WAIT_MS) as finished:
        again.click()
    rest = finished.args[0]
    assert rest.complete and rest.count(EntryStatus.APPLIED) == 2
    assert offline.waiting == 0
    offline.stop()
    status.stop()


def test_the_notices_run_from_the_panel_shows_progress_and_stops_between_batches(
    qtbot: QtBot, desk_session: MakeSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(daily_run, "REMINDER_BATCH", 1)
    gate = Gate()
    monkeypatch.setattr(
        notices_panel.daily_run, "run_daily", _gate_progress(gate, daily_run.run_daily, 3)
    )
    session = desk_session("office", "WS-ILL")
    panel = NoticesPanel(session)
    qtbot.addWidget(panel)
    panel.show()
    settle(qtbot)
    panel.run_button.click()
    qtbot.waitUntil(lambda: " of " in panel.progress.figures.text(), timeout=WAIT_MS)
    gate.let_through()
    qtbot.waitUntil(lambda: "1 of " in panel.progress.figures.text(), timeout=WAIT_MS)
    panel.progress.stop_button.click()
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        gate.let_through(3)
    run = finished.args[0]
    assert run.stopped and run.queued_due_soon + run.queued_overdue == 1
    assert "Stopped" in panel.feedback.text() and "carries on" in panel.feedback.text()
    settle(qtbot)
