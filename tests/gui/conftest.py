"""GUI fixtures: a signed-in desk session on the demo library, for screen and shell tests,
and a check that no test leaves a runner job, a thread or a timer running after it."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QEvent, QObject, QThread, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import event
from sqlalchemy.pool import Pool

import ui
from app.library.actors import Actor
from app.library.runtime import Runtime
from app.workstation.config import WorkstationSettings
from ui.desk_session import DeskSession
from ui.garbage_collection import collect_on_the_gui_thread
from ui.operations import live_runners

UI_DIR = str(Path(ui.__file__).resolve().parent)
# Start-up reads the database before any window is on screen: opening (and upgrading) it,
# and the sign-in dialog's branches, built before the dialog is shown; the packaged build's
# self-check is a command with nobody at the desk. Nothing there can freeze a desk.
BEFORE_ANY_WINDOW = (
    "ui.desk_app.open_runtime",
    "ui.sign_in._load_database_facts",
    "ui.desk_app.self_check",
    "ui.desk_app._self_check_strap_and_check_in",
)


@pytest.fixture
def desk_session(
    demo_rt: Runtime, actor_at: Callable[[str, str], Actor]
) -> Callable[[str, str], DeskSession]:
    """desk_session("desk", "METRO"): what a screen gets after that demo user signed in."""

    def make(username: str = "desk", branch: str = "METRO") -> DeskSession:
        return DeskSession(demo_rt, actor_at(username, branch), WorkstationSettings())

    return make


def _where(obj: QObject) -> str:
    """`name (Class) in Parent > Grandparent`: enough to find the code that made it."""
    chain = []
    parent = obj.parent()
    while parent is not None:
        chain.append(parent.objectName() or type(parent).__name__)
        parent = parent.parent()
    what = f"{obj.objectName() or '(unnamed)'} ({type(obj).__name__})"
    return f"{what} in {' > '.join(chain)}" if chain else what


def left_running() -> list[str]:
    """Runner jobs not answered, timers still ticking and Qt threads still running."""
    left = [
        f"runner {ops.objectName()}: job {name!r} not answered"
        for ops in live_runners()
        if shiboken6.isValid(ops)
        for name in ops.pending()
    ]
    app = QApplication.instance()
    if app is None:
        return left
    seen: set[int] = set()
    roots: list[QObject] = [*QApplication.topLevelWidgets(), *live_runners()]
    for root in roots:
        if not shiboken6.isValid(root):
            continue
        for timer in root.findChildren(QTimer):
            if timer.isActive() and id(timer) not in seen:
                seen.add(id(timer))
                left.append(f"timer {_where(timer)} still running")
        for thread in root.findChildren(QThread):
            if thread.isRunning():
                left.append(f"thread {_where(thread)} still running")
    return left


@pytest.fixture(autouse=True, scope="session")
def cycles_collected_on_the_gui_thread(qapp: QApplication) -> None:
    """As in the desk program: Python's cycle collector runs only on the GUI thread, so a
    screen or runner left in a cycle is never freed by a worker thread mid-test."""
    collect_on_the_gui_thread(qapp)


@pytest.fixture(autouse=True)
def nothing_left_running(qapp: QApplication) -> Iterator[None]:
    """Fails a test that leaves work running after it, naming what was left.

    Autouse and set up before `qtbot`, so this runs after qtbot closed the test's widgets.
    """
    threads_before = set(threading.enumerate())
    yield
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # closed widgets go
    left = left_running()
    left += [
        f"thread {thread.name} still running"
        for thread in threading.enumerate()
        if thread not in threads_before
        and thread.is_alive()
        and not thread.daemon
        and not isinstance(thread, threading._DummyThread)  # Qt's own pool threads
    ]
    # Every runner still open is shut down (the window does this when it closes; a test's
    # own desk session has no window): its thread stops and it is deleted here, on the GUI
    # thread, never by the garbage collector on another thread in a later test.
    for ops in live_runners():
        if shiboken6.isValid(ops) and not ops.closed:
            ops.shutdown()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()  # here, on the GUI thread: what this test left in cycles goes now
    if left:
        pytest.fail("left running after the test:\n  " + "\n  ".join(left), pytrace=False)


def ui_caller() -> str | None:
    """The innermost `ui/` function on this thread's stack, as `module.function:line`."""
    frame = sys._getframe(1)
    while frame is not None:
        if str(Path(frame.f_code.co_filename).resolve()).startswith(UI_DIR):
            module = frame.f_globals.get("__name__", "?")
            return f"{module}.{frame.f_code.co_name}:{frame.f_lineno}"
        frame = frame.f_back
    return None


@pytest.fixture(autouse=True)
def no_database_on_the_gui_thread() -> Iterator[list[str]]:
    """Fails a test in which desk code (`ui/`) takes a database connection on the GUI thread.

    Every connection is taken from a pool, so a listener on every pool sees every service
    call, read or write. The test's own set-up and checks (no `ui/` frame) are left alone.
    """
    found: list[str] = []

    def on_checkout(*_args: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        caller = ui_caller()
        if caller is not None and not caller.startswith(BEFORE_ANY_WINDOW):
            found.append(caller)
            raise AssertionError(f"{caller} used the database on the GUI thread")

    event.listen(Pool, "checkout", on_checkout)
    try:
        yield found
    finally:
        event.remove(Pool, "checkout", on_checkout)
    if found:
        pytest.fail(
            "desk code used the database on the GUI thread:\n  " + "\n  ".join(found),
            pytrace=False,
        )
