"""The desk's one runner: work off the GUI thread, answers on it, refusals as values, an
unreachable database shown in the status bar, a desk that stays responsive, a clean close."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy.exc import OperationalError

from app.library.errors import DatabaseUnavailable, InvalidInput, ServiceError
from tests.gui.conftest import left_running
from tests.gui.waiting import settle
from ui.desk_session import DeskSession
from ui.operations import UNEXPECTED, Operations
from ui.screens.check_out_screen import CheckOutScreen
from ui.status_bar import DeskStatusBar

pytestmark = pytest.mark.gui

WAIT_S = 10
SessionAt = Callable[[str, str], DeskSession]


@pytest.fixture
def ops(qtbot: QtBot) -> Iterator[Operations]:
    runner = Operations()
    yield runner
    runner.shutdown()


def test_work_runs_off_the_gui_thread_and_the_answer_arrives_on_it(
    qtbot: QtBot, ops: Operations
) -> None:
    answers: list[tuple[int, int]] = []
    with qtbot.waitSignal(ops.answered):
        ops.run(
            threading.get_ident,
            on_done=lambda worker: answers.append((worker, threading.get_ident())),
        )
    [(worker, delivered)] = answers
    assert worker != threading.main_thread().ident
    assert delivered == threading.main_thread().ident


def test_jobs_run_one_at_a_time_in_the_order_asked(qtbot: QtBot, ops: Operations) -> None:
    ran: list[int] = []
    answered: list[int] = []
    inside = threading.Lock()

    def job(n: int) -> int:
        assert inside.acquire(blocking=False), "two jobs at once"
        try:
            ran.append(n)
            return n
        finally:
            inside.release()

    for n in range(20):
        ops.run(lambda n=n: job(n), on_done=answered.append)
    settle(qtbot, ops)
    assert ran == list(range(20)) and answered == list(range(20))


def test_a_refusal_reaches_the_failure_callback_as_a_value(qtbot: QtBot, ops: Operations) -> None:
    done: list[object] = []
    refused: list[ServiceError] = []

    def refuse() -> None:
        raise InvalidInput("Type the campus ID, like T00123456.")

    ops.run(refuse, on_done=done.append, on_error=refused.append)
    settle(qtbot, ops)
    assert done == []
    [error] = refused
    assert isinstance(error, InvalidInput) and error.message.startswith("Type the campus ID")


def test_an_unexpected_failure_is_logged_and_said_plainly(
    qtbot: QtBot, ops: Operations, caplog: pytest.LogCaptureFixture
) -> None:
    refused: list[ServiceError] = []

    def broken() -> None:
        raise KeyError("patron_type")

    ops.run(broken, on_error=refused.append, name="a broken job")
    settle(qtbot, ops)
    [error] = refused
    assert error.code == "unexpected" and error.message == UNEXPECTED
    assert "Traceback" not in error.message and "KeyError" not in error.message
    [record] = [r for r in caplog.records if r.name == "ui.operations"]
    assert record.getMessage() == "a broken job failed" and record.exc_info is not None


def test_a_refusal_nobody_asked_for_goes_to_the_status_bar(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("desk", "METRO")
    status = DeskStatusBar(session, None, lambda: None)
    qtbot.addWidget(status)

    def refuse() -> None:
        raise InvalidInput("That is not a strap barcode.")

    session.ops.run(refuse)
    settle(qtbot, session.ops)
    assert status.currentMessage() == "That is not a strap barcode."


@pytest.mark.parametrize(
    ("away", "reason"),
    [
        (DatabaseUnavailable("The database server did not answer within 5 seconds."), "5 seconds"),
        (
            OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused")),
            "connection refused",
        ),
    ],
)
def test_an_unreachable_database_puts_the_status_bar_offline_at_once(
    qtbot: QtBot, desk_session: SessionAt, away: Exception, reason: str
) -> None:
    session = desk_session("desk", "METRO")
    status = DeskStatusBar(session, None, lambda: None)
    qtbot.addWidget(status)
    refused: list[ServiceError] = []

    def read() -> None:
        raise away

    with qtbot.waitSignal(status.checked) as checked:
        session.ops.run(read, on_error=refused.append)
    assert checked.args == [False]
    label = status.findChild(QLabel, "statusDatabase")
    assert label is not None and "cannot reach the database since" in label.text()
    assert reason in label.toolTip()
    [error] = refused  # the screen still hears about it, in words
    assert error.code == "database_unavailable" and "\n" not in error.message


def test_a_slow_database_call_leaves_the_desk_responsive(qtbot: QtBot, ops: Operations) -> None:
    started, release = threading.Event(), threading.Event()

    def slow_read() -> str:
        started.set()
        release.wait(WAIT_S)  # a server taking its time (up to the 5 s connect timeout)
        return "answer"

    answers: list[str] = []
    ops.run(slow_read, on_done=answers.append)
    assert started.wait(WAIT_S)
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    qtbot.waitUntil(lambda: len(ticks) >= 3)  # the event loop runs while the job waits
    timer.stop()
    assert answers == [] and ops.busy
    release.set()
    settle(qtbot, ops)
    assert answers == ["answer"]


def test_shutdown_lets_the_running_job_finish_and_drops_the_rest(
    qtbot: QtBot, ops: Operations
) -> None:
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []
    answered: list[str] = []

    def running() -> str:
        started.set()
        release.wait(WAIT_S)
        finished.append("running")  # a transaction is never cut in the middle
        return "running"

    ops.run(running, on_done=answered.append)
    ops.run(lambda: finished.append("queued") or "queued", on_done=answered.append)
    assert started.wait(WAIT_S)
    threading.Timer(0.05, release.set).start()
    assert ops.shutdown()
    assert finished == ["running"]
    assert ops.run(lambda: "late", on_done=answered.append) is None
    QApplication.processEvents()  # an answer already posted is handled here: and dropped
    assert answered == [] and not ops.busy and ops.closed


def test_an_answer_for_a_screen_that_is_gone_is_dropped(qtbot: QtBot, ops: Operations) -> None:
    screen = QWidget()
    shown: list[str] = []
    release = threading.Event()
    ops.run(lambda: release.wait(WAIT_S) and "rows", on_done=shown.append, owner=screen)
    screen.deleteLater()
    qtbot.waitUntil(lambda: not _alive(screen))
    release.set()
    settle(qtbot, ops)
    assert shown == []


def _alive(widget: QWidget) -> bool:
    import shiboken6

    return bool(shiboken6.isValid(widget))


def test_what_a_test_leaves_running_is_named(qtbot: QtBot, ops: Operations) -> None:
    release = threading.Event()
    ops.setObjectName("deskOperations")
    ops.run(lambda: release.wait(WAIT_S), name="check-in")
    holder = QWidget()
    qtbot.addWidget(holder)
    timer = QTimer(holder)
    timer.setObjectName("databaseCheckTimer")
    timer.start(60_000)
    left = left_running()
    assert "runner deskOperations: job 'check-in' not answered" in left
    assert any(line.startswith("timer databaseCheckTimer (QTimer)") for line in left)
    timer.stop()
    release.set()
    settle(qtbot, ops)
    assert left_running() == []


def test_desk_code_reading_the_database_on_the_gui_thread_fails_the_test(
    qtbot: QtBot,
    desk_session: SessionAt,
    no_database_on_the_gui_thread: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = desk_session("desk", "METRO")

    def on_the_gui_thread(work: Callable[[], object], *_args: object, **_kwargs: object) -> None:
        work()  # a screen that forgot the runner

    monkeypatch.setattr(session.ops, "run", on_the_gui_thread)
    with pytest.raises(AssertionError, match="used the database on the GUI thread"):
        CheckOutScreen(session)  # reads the offline-checkout setting as it is built
    assert [c.split(":")[0] for c in no_database_on_the_gui_thread] == [
        "ui.screens.check_out_screen.<lambda>"
    ]
    no_database_on_the_gui_thread.clear()  # caught on purpose: the test itself passes


def test_an_answered_job_lets_go_of_its_screen_on_the_gui_thread(
    qtbot: QtBot, ops: Operations
) -> None:
    """The worker thread lets go of a job after the window has its answer; were the job still
    holding the screen then, the screen could be freed off the GUI thread (a crash seen once
    in a whole test run, with "QBasicTimer::stop: Failed" just before it)."""
    screen = QLabel()
    qtbot.addWidget(screen)
    job = ops.run(lambda: "answered", on_done=screen.setText)
    settle(qtbot, ops)
    assert screen.text() == "answered"
    assert job is not None and job.value == "answered"
    assert (job.work, job.on_done, job.on_error, job.owner) == (None, None, None, None)

    gate = threading.Event()
    running = ops.run(lambda: gate.wait(WAIT_S), name="running")
    queued = ops.run(lambda: "never", on_done=screen.setText, name="queued")
    opener = threading.Timer(0.1, gate.set)  # shutdown blocks the GUI thread meanwhile
    opener.start()
    assert ops.shutdown()
    opener.join()
    assert running is not None and queued is not None
    assert (queued.work, queued.on_done, queued.owner) == (None, None, None)
    assert running.on_done is None and screen.text() == "answered"
