"""Starting the desk window: open the database, sign in, show the main window.

A database that cannot be used gets a message box saying what to do and a non-zero exit,
never a traceback. Signing out returns to the sign-in dialog without restarting.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QWidget

from app.library.actors import Actor
from app.library.database_errors import DatabaseConfigError, DatabaseError, SchemaMismatch
from app.library.errors import ServiceError
from app.library.runtime import Runtime
from app.workstation import config
from app.workstation.log_setup import configure_logging
from ui import startup_probe
from ui.garbage_collection import collect_on_the_gui_thread

if TYPE_CHECKING:
    from ui.desk_session import DeskSession
    from ui.notices_schedule import NoticesSchedule

log = logging.getLogger(__name__)

EXIT_OK, EXIT_REFUSED, EXIT_DATABASE = 0, 1, 3
MIN_POINT_SIZE = 11
SERVICE_RUNS_DAILY_JOBS = (
    "The daily jobs (notices, anonymising, public holidays) run in the ILL Desk service on "
    "this database, not on this desk."
)

STYLE_SHEET = """
QWidget { font-size: 11pt; }
QLabel[role="heading"] { font-size: 16pt; font-weight: 600; }
QLabel[role="error"] {
    color: #8a1c1c; background: #fdecec; border: 1px solid #f0b4b4;
    border-radius: 4px; padding: 8px;
}
QLabel[role="note"] {
    background: #fff7e0; border: 1px solid #ecd58f; border-radius: 4px; padding: 8px;
}
QLabel[role="detail"] { font-family: monospace; color: #444; }
QFrame[role="panel"] { background: #eef4fa; border: 1px solid #c9dbeb; border-radius: 6px; }
QFrame#sidebar { background: #23384d; }
QFrame#sidebar QLabel { color: #e8eef4; }
QLabel#sidebarTitle { font-size: 17pt; font-weight: 700; }
QLabel#sidebarBranch { color: #b8c8d8; }
QListWidget#navList { background: transparent; color: #e8eef4; font-size: 12pt; outline: 0; }
QListWidget#navList::item { padding: 9px 8px; border-radius: 5px; }
QListWidget#navList::item:selected { background: #3d6a96; color: white; }
QListWidget#navList::item:hover:!selected { background: #2f4b66; }
QPushButton#signOutButton { padding: 6px; }
QStatusBar#statusBar { background: #eceff2; border-top: 1px solid #cfd6dd; }
QStatusBar#statusBar QLabel { padding: 3px 4px; }
QLabel#statusDatabase[state="ok"] { color: #1d5e2c; }
QLabel#statusDatabase[state="down"] {
    color: white; background: #b3261e; font-weight: 600; border-radius: 3px;
}
"""


def app_icon() -> QIcon:
    from ui.icons import resource_icon

    return resource_icon("illdesk")


_logging_ready = False


def _set_up_logging() -> None:
    """Warnings and screen failures go to a log file IT can ask for, without patron data."""
    global _logging_ready
    if _logging_ready:
        return
    _logging_ready = True
    configure_logging()


def _application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setApplicationName(config.APP_NAME)
    app.setOrganizationName(config.APP_AUTHOR)
    app.setWindowIcon(app_icon())
    font = QFont(app.font())
    if font.pointSizeF() < MIN_POINT_SIZE:
        font.setPointSizeF(MIN_POINT_SIZE)
        app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)
    collect_on_the_gui_thread(app)
    return app


def show_start_error(title: str, text: str) -> None:
    """A start-up failure: one box with the reason and what to do (replaced in tests)."""
    box = QMessageBox(QMessageBox.Icon.Critical, "ILL Desk", title)
    box.setObjectName("startErrorBox")
    box.setInformativeText(text)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.exec()


def open_runtime(
    db_url: str | None, demo_if_new: bool
) -> tuple[Runtime, config.WorkstationSettings]:
    """Settings, database (the embedded file upgraded in place), demo data when asked.

    Raises ServiceError, SchemaMismatch, DatabaseConfigError or DatabaseError.
    """
    from app import demo
    from app.library.actors import this_workstation, unattended
    from app.workstation.connection import open_runtime as open_desk_database

    rt, settings = open_desk_database(db_url)
    try:
        if demo_if_new:
            summary = demo.load_if_new(rt, unattended("first start", this_workstation()))
            if summary is not None:
                log.info("loaded the demo library into a new database: %s", summary)
    except Exception:
        rt.db.dispose()
        raise
    return rt, settings


class DeskController(QObject):
    """Sign-in, then the main window; signing out comes back to sign-in."""

    def __init__(
        self,
        rt: Runtime,
        settings: config.WorkstationSettings,
        on_quit: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.rt = rt
        self.settings = settings
        self._on_quit = on_quit
        self.dialog: QWidget | None = None
        self.window: QWidget | None = None
        self.notices_schedule: NoticesSchedule | None = None

    def start(self) -> None:
        self.show_sign_in()

    def show_sign_in(self) -> None:
        from ui.sign_in import SignInDialog

        dialog = SignInDialog(self.rt, self.settings, meanwhile=load_main_window_code)
        dialog.setWindowIcon(app_icon())
        dialog.accepted.connect(lambda: self._signed_in(dialog))
        dialog.rejected.connect(self._quit)
        self.dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _signed_in(self, dialog: QWidget) -> None:
        from app.records.change_feed import ChangeFeed, feed_database
        from ui.daily_job import show_progress
        from ui.desk_session import DeskSession
        from ui.main_window import MainWindow
        from ui.privacy_schedule import install_privacy_guards
        from ui.sign_in import SignInDialog

        assert isinstance(dialog, SignInDialog) and dialog.actor is not None
        feed = ChangeFeed(feed_database(self.rt.db, dialog.session_rt.db))
        session = DeskSession(dialog.session_rt, dialog.actor, self.settings, feed=feed)
        dialog.deleteLater()
        self.dialog = None
        window = MainWindow(session)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.signOutRequested.connect(self.show_sign_in)
        # Signed in through the staff member's own database role (`own_login`: a runtime of
        # its own) means PostgreSQL with staff roles, where no desk role may run the daily
        # jobs: the ILL Desk service runs them. Elsewhere the desks run them, as before.
        desks_run_daily_jobs = session.rt is self.rt
        install_privacy_guards(window, session, daily_run=desks_run_daily_jobs)
        notes = []
        if desks_run_daily_jobs:
            self._start_notices(session)
            if self.notices_schedule is not None:
                show_progress(self.notices_schedule, window.long_work)
        else:
            self._stop_notices()
            notes.append(SERVICE_RUNS_DAILY_JOBS)
            _say_once_in_the_log(SERVICE_RUNS_DAILY_JOBS)
        window.destroyed.connect(self._window_gone)
        if session.rt is not self.rt:  # the staff member's own connections end with the window
            own = session.rt.db
            window.destroyed.connect(lambda: own.dispose())
        self.window = window
        window.show()
        window.raise_()
        window.activateWindow()
        if dialog.settings_warning:
            notes.insert(0, f"This desk's branch was not remembered: {dialog.settings_warning}")
        if notes:
            window.statusBar().showMessage("  ".join(notes), 15000)

    def report_unexpected(
        self, kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        """A bug in a screen: log it for IT and say so in the status bar, without a modal box
        that would swallow the next scan."""
        log.error("unexpected error", exc_info=(kind, error, trace))
        if isinstance(self.window, QMainWindow):
            self.window.statusBar().showMessage(
                f"Something went wrong ({kind.__name__}: {error}). That action may not have "
                "finished: check its result. The details are in the ILL Desk log.",
                30000,
            )

    def _start_notices(self, session: DeskSession) -> None:
        """The daily notice run belongs to the controller, not the window, so signing out
        waits for a send in flight instead of destroying it mid-conversation."""
        from ui.notices_schedule import NoticesSchedule

        self._stop_notices()
        self.notices_schedule = NoticesSchedule(session, self)
        self.notices_schedule.start()

    def _stop_notices(self) -> None:
        if self.notices_schedule is not None:
            self.notices_schedule.stop()
            self.notices_schedule.deleteLater()
            self.notices_schedule = None

    def _window_gone(self) -> None:
        self._stop_notices()
        self.window = None
        if self.dialog is None:
            self._quit()

    def _quit(self) -> None:
        if self._on_quit is not None:
            self._on_quit()
            return
        app = QApplication.instance()
        if app is not None:
            app.quit()


_said: set[str] = set()


def _say_once_in_the_log(note: str) -> None:
    """A fact about the set-up, logged once per run of the program, not at every sign-in."""
    if note not in _said:
        _said.add(note)
        log.info("%s", note)


def load_main_window_code() -> None:
    """Import what the main window and its first screen need (done during sign-in)."""
    import ui.desk_session
    import ui.main_window
    import ui.privacy_schedule
    import ui.screens.check_in_screen  # noqa: F401


def run_gui(args: argparse.Namespace) -> int:
    """`illdesk` without a command: the desk window. Returns the process exit code."""
    _set_up_logging()
    app = _application()
    if getattr(args, "self_check", False):
        return self_check()
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        rt, settings = open_runtime(args.db, bool(getattr(args, "demo_if_new", False)))
    except (SchemaMismatch, DatabaseConfigError) as exc:
        QApplication.restoreOverrideCursor()
        show_start_error("ILL Desk cannot use this database.", str(exc))
        return EXIT_DATABASE
    except ServiceError as exc:
        QApplication.restoreOverrideCursor()
        show_start_error("ILL Desk cannot start.", exc.message)
        return EXIT_DATABASE
    except DatabaseError as exc:
        QApplication.restoreOverrideCursor()
        log.exception("database failed at start")
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        show_start_error(
            "ILL Desk cannot open the database.",
            f"{reason}\n\nCheck the database URL (--db, ILLDESK_DATABASE_URL or the settings "
            "file) and that the server is running, then start ILL Desk again.",
        )
        return EXIT_DATABASE
    QApplication.restoreOverrideCursor()
    app.setQuitOnLastWindowClosed(False)
    controller = DeskController(rt, settings)
    if startup_probe.requested():  # benchmark only: see ui/startup_probe.py
        startup_probe.install(app)
    controller.start()
    previous_hook = sys.excepthook
    sys.excepthook = controller.report_unexpected
    try:
        code: int = app.exec()
    finally:
        sys.excepthook = previous_hook
        rt.db.dispose()
    return code


def self_check() -> int:
    """Open the main window on a throw-away demo database, show every screen, and report:
    0 when all of them loaded (used to smoke-test a packaged build)."""
    from app import demo
    from app.library.actors import this_workstation
    from app.people import staff
    from ui.desk_session import DeskSession
    from ui.main_window import MainWindow, ScreenUnavailablePage

    with tempfile.TemporaryDirectory(prefix="illdesk-self-check-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'self-check.db'}"
        try:
            rt, settings = open_runtime(database_url, demo_if_new=True)
        except (ServiceError, SchemaMismatch, DatabaseConfigError, DatabaseError) as exc:
            print(f"self-check: the database could not be set up: {exc}", file=sys.stderr)
            return EXIT_DATABASE
        try:
            # The demo administrator sees every screen, so every screen is built once.
            actor = staff.sign_in(rt, "admin", demo.DEMO_PASSWORD, "NEC", this_workstation())
            window = MainWindow(DeskSession(rt, actor, settings))
            window.show()
            failed: list[str] = []
            for spec in window.screens:
                page = window.show_screen(spec.key)
                QApplication.processEvents()
                if isinstance(page, ScreenUnavailablePage):
                    failed.append(f"{spec.title}: {page.reason}")
            problems = _self_check_strap_and_check_in(rt, actor, window)
            window.close()
        finally:
            rt.db.dispose()
    for line in failed:
        print(f"self-check: screen not loaded: {line}", file=sys.stderr)
    print(f"self-check: {len(window.screens) - len(failed)}/{len(window.screens)} screens loaded")
    for line in problems:
        print(f"self-check: {line}", file=sys.stderr)
    if not problems:
        print("self-check: strap rendered (fonts for every script embedded), demo item checked in")
    return EXIT_REFUSED if failed or problems else EXIT_OK


def _self_check_fonts() -> list[str]:
    """The shipped fonts are in the bundle and a strap in other scripts embeds them."""
    from datetime import date

    from app.library.library_settings import LibrarySettings
    from app.printing import scripts
    from app.printing.straps import StrapContent, StrapStyle, render_straps

    missing = scripts.missing_files()
    if missing:
        return [f"fonts: not in resources/fonts: {', '.join(missing)}"]
    strap = StrapContent("ILL00000017", "1", "红楼梦 ΠΑΠΑΔΟΠΟΥΛΟΣ", "عبد الرحمن, כהן",
                         "METRO", "Metro", date(2027, 1, 4), "OKT")  # fmt: skip
    try:
        pdf = render_straps([strap], StrapStyle.from_settings(LibrarySettings()))
    except Exception as exc:
        return [f"fonts: {type(exc).__name__}: {exc}"]
    embedded = pdf.count(b"/FontFile2")
    return [] if embedded >= 2 else [f"fonts: {embedded} of 2 fonts embedded in a world strap"]


def _self_check_strap_and_check_in(rt: Runtime, actor: Actor, window: Any) -> list[str]:
    """Render one demo strap (ReportLab fonts, barcode) and check the item in on the Check In
    screen (worker thread, banner, sounds): what a bundle missing a data file would fail."""
    from app import demo
    from app.borrowing.strap_data import strap_pdf
    from app.desk.checkin import check_in

    barcode = demo.an_ill_barcode(rt, actor)
    if barcode is None:
        return ["demo data: no ILL item to check in"]
    problems: list[str] = []
    try:
        pdf = strap_pdf(rt, actor, [barcode])
        if not pdf.startswith(b"%PDF"):
            problems.append("strap: the PDF came out empty")
    except Exception as exc:
        problems.append(f"strap: {type(exc).__name__}: {exc}")
    problems.extend(_self_check_fonts())
    keys = {spec.key for spec in window.screens}
    page: Any = window.show_screen("checkIn") if "checkIn" in keys else None
    results: list[object] = []
    if hasattr(page, "enqueue") and hasattr(page, "scanProcessed"):
        page.scanProcessed.connect(results.append)
        page.scanFailed.connect(results.append)
        page.enqueue(barcode)
        deadline = time.monotonic() + 20
        while not results and time.monotonic() < deadline:
            QApplication.processEvents()
            time.sleep(0.005)
        if not results or not hasattr(results[0], "outcome"):
            problems.append(f"check-in screen: no result for {barcode} ({results or 'timed out'})")
    else:
        try:
            check_in(rt, actor, barcode)
        except Exception as exc:
            problems.append(f"check-in: {type(exc).__name__}: {exc}")
    return problems
