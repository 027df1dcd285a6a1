"""The desk shell as a user meets it: start-up, sign-in, navigation, the status bar."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import create_engine, text

import ui.screens
from app import demo
from app.cli.main import parse
from app.library import library_settings
from app.library.runtime import Runtime
from app.workstation.config import WorkstationSettings, load_settings, settings_path
from db.models import Branch
from tests.gui import fake_screens
from tests.gui.waiting import settle
from ui import desk_app
from ui import sign_in as sign_in_module
from ui.desk_app import DeskController, open_runtime
from ui.desk_session import DeskSession
from ui.main_window import MainWindow, ScreenUnavailablePage
from ui.screens import SCREENS, ScreenSpec
from ui.sign_in import SignInDialog
from ui.status_bar import shorten_middle

pytestmark = pytest.mark.gui

FAKE = "tests.gui.fake_screens"
TWO_SCREENS = (
    ScreenSpec("first", "First", FAKE, "RecordingScreen", "F2"),
    ScreenSpec("second", "Second", FAKE, "OtherScreen", "F3"),
)


@pytest.fixture
def backend() -> str:
    """The shell behaves the same on both databases; the services are tested on both."""
    return "sqlite"


@pytest.fixture(autouse=True)
def _fresh_counters() -> Iterator[None]:
    fake_screens.RecordingScreen.built = 0
    fake_screens.OtherScreen.built = 0
    yield


def make_dialog(
    qtbot: QtBot, rt: Runtime, settings: WorkstationSettings | None = None
) -> SignInDialog:
    dialog = SignInDialog(rt, settings or WorkstationSettings())
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def type_sign_in(qtbot: QtBot, dialog: SignInDialog, user: str, password: str, branch: str) -> None:
    """Keyboard only: branch, username, password, then Enter."""
    dialog.branch_box.setCurrentIndex(dialog.branch_box.findData(branch))
    dialog.user_edit.clear()
    qtbot.keyClicks(dialog.user_edit, user)
    qtbot.keyClicks(dialog.password_edit, password)
    with qtbot.waitSignal(dialog.ops.answered):  # and nothing after it: the window is new
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)


def make_window(
    qtbot: QtBot,
    session: DeskSession,
    screens: tuple[ScreenSpec, ...] | None = TWO_SCREENS,
    probe: Callable[[], None] | None = None,
) -> MainWindow:
    window = MainWindow(session, screens, probe)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def status_text(window: MainWindow, name: str) -> str:
    label = window.findChild(QLabel, name)
    assert label is not None, name
    return label.text()


# -- start-up -------------------------------------------------------------------


def test_registry_offers_the_eight_screens_on_f2_to_f9() -> None:
    assert [(s.key, s.title, s.shortcut) for s in SCREENS] == [
        ("checkIn", "Check In", "F2"),
        ("checkOut", "Check Out", "F3"),
        ("patrons", "Patrons", "F4"),
        ("illOffice", "ILL Office", "F5"),
        ("lending", "Lending", "F6"),
        ("admin", "Admin", "F7"),
        ("reports", "Reports", "F8"),
        ("holdsToPull", "Holds to Pull", "F9"),
    ]


def test_new_embedded_database_gets_the_demo_library_once() -> None:
    rt, _ = open_runtime(None, demo_if_new=True)
    try:
        with rt.db.reading() as session:
            assert library_settings.load(session).demo_database
        assert rt.db.info.label.endswith("illdesk.db")
    finally:
        rt.db.dispose()
    rt, _ = open_runtime(None, demo_if_new=True)  # not new any more: opens, loads nothing
    rt.db.dispose()


def test_new_database_stays_empty_without_demo_if_new(tmp_path: Path) -> None:
    rt, _ = open_runtime(f"sqlite:///{tmp_path / 'real.db'}", demo_if_new=False)
    try:
        with rt.db.reading() as session:
            assert demo.is_empty(session)
    finally:
        rt.db.dispose()


@pytest.fixture
def start_errors(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(desk_app, "show_start_error", lambda t, m: shown.append((t, m)))
    monkeypatch.setattr(desk_app, "_set_up_logging", lambda: None)
    return shown


def test_unsupported_database_url_gets_a_message_and_exit_3(
    start_errors: list[tuple[str, str]],
) -> None:
    assert desk_app.run_gui(parse(["--db", "mysql://desk@db.example.edu/ill"])) == 3
    [(_, message)] = start_errors
    assert "Unsupported database URL" in message


def test_unreachable_server_gets_a_message_and_exit_3(
    start_errors: list[tuple[str, str]],
) -> None:
    code = desk_app.run_gui(parse(["--db", "postgresql://desk@127.0.0.1:9/illdesk"]))
    assert code == 3
    [(_, message)] = start_errors
    assert "Cannot reach the database at 127.0.0.1:9/illdesk" in message


def test_database_from_a_newer_version_is_refused(
    start_errors: list[tuple[str, str]], tmp_path: Path
) -> None:
    path = tmp_path / "newer.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('9999_from_the_future')"))
    engine.dispose()
    assert desk_app.run_gui(parse(["--db", f"sqlite:///{path}"])) == 3
    [(_, message)] = start_errors
    assert "newer ILL Desk" in message


def test_unreadable_settings_file_gets_a_message_and_exit_3(
    start_errors: list[tuple[str, str]],
) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("branch_code = [unclosed", encoding="utf-8")
    assert desk_app.run_gui(parse([])) == 3
    [(_, message)] = start_errors
    assert str(path) in message and "cannot be read" in message


def test_unexpected_error_is_reported_in_the_status_bar(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession]
) -> None:
    session = desk_session("desk", "METRO")
    controller = DeskController(session.rt, session.settings, on_quit=lambda: None)
    window = make_window(qtbot, session)
    controller.window = window
    try:
        raise KeyError("patron_type")
    except KeyError as exc:
        controller.report_unexpected(KeyError, exc, exc.__traceback__)
    assert "Something went wrong (KeyError: 'patron_type')" in window.statusBar().currentMessage()
    for name in ("statusBranch", "statusStaff", "statusDatabase"):
        label = window.findChild(QLabel, name)
        assert label is not None and label.isVisible(), f"{name} hidden by the message"


# -- sign-in --------------------------------------------------------------------


def test_demo_desk_user_signs_in_and_the_status_bar_says_where_who_and_which_database(
    qtbot: QtBot, demo_rt: Runtime
) -> None:
    quits: list[int] = []
    controller = DeskController(demo_rt, WorkstationSettings(), on_quit=lambda: quits.append(1))
    controller.start()
    dialog = controller.dialog
    assert isinstance(dialog, SignInDialog)
    type_sign_in(qtbot, dialog, "desk", demo.DEMO_PASSWORD, "METRO")

    window = controller.window
    assert isinstance(window, MainWindow)
    assert window.windowTitle() == "ILL Desk — METRO"
    assert status_text(window, "statusBranch") == "Branch: METRO"
    assert status_text(window, "statusStaff") == "Staff: Dana Desk (desk)"
    database = window.findChild(QLabel, "statusDatabase")
    assert database is not None and demo_rt.db.info.label in database.toolTip()
    assert status_text(window, "statusDatabase").startswith("Database (embedded): ")
    assert status_text(window, "statusDatabase").endswith("illdesk.db — checking…")
    qtbot.waitUntil(lambda: status_text(window, "statusDatabase").endswith("— connected"))
    assert load_settings().branch_code == "METRO"  # remembered for the next sign-in

    sign_out = window.findChild(QPushButton, "signOutButton")
    assert sign_out is not None
    sign_out.click()
    again = controller.dialog
    assert isinstance(again, SignInDialog) and again.isVisible()
    assert again.branch_box.currentData() == "METRO"
    assert again.user_edit.text() == "" and again.password_edit.text() == ""
    again.reject()  # Quit on the sign-in dialog ends the program
    assert quits == [1]
    QApplication.processEvents()


def test_wrong_password_is_shown_in_the_dialog_which_stays_open(
    qtbot: QtBot, demo_rt: Runtime
) -> None:
    dialog = make_dialog(qtbot, demo_rt)
    type_sign_in(qtbot, dialog, "desk", "not-the-password", "METRO")
    assert dialog.isVisible() and dialog.actor is None
    assert dialog.message.isVisible()
    assert "Wrong username or password" in dialog.message.text()
    assert dialog.password_edit.text() == ""
    assert dialog.focusWidget() is dialog.password_edit


def test_password_is_checked_beside_loading_the_window_and_a_wrong_one_is_still_refused(
    qtbot: QtBot, demo_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: dict[str, list[int]] = {"check": [], "meanwhile": []}
    real_sign_in = sign_in_module.sign_in_connected

    def checking(*args: object) -> object:
        threads["check"].append(threading.get_ident())
        return real_sign_in(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sign_in_module, "sign_in_connected", checking)
    dialog = SignInDialog(
        demo_rt,
        WorkstationSettings(),
        meanwhile=lambda: threads["meanwhile"].append(threading.get_ident()),
    )
    qtbot.addWidget(dialog)
    dialog.show()
    type_sign_in(qtbot, dialog, "desk", "not-the-password", "METRO")
    assert dialog.actor is None and "Wrong username or password" in dialog.message.text()
    type_sign_in(qtbot, dialog, "desk", demo.DEMO_PASSWORD, "METRO")
    assert dialog.actor is not None and dialog.actor.username == "desk"
    gui_thread = threading.get_ident()
    assert threads["meanwhile"] == [gui_thread]  # once, on the window's own thread
    assert threads["check"][0] != gui_thread  # the first check ran beside it


def test_sign_in_still_works_when_loading_the_window_code_fails(
    qtbot: QtBot, demo_rt: Runtime
) -> None:
    def broken() -> None:
        raise ImportError("a screen module is missing")

    dialog = SignInDialog(demo_rt, WorkstationSettings(), meanwhile=broken)
    qtbot.addWidget(dialog)
    dialog.show()
    type_sign_in(qtbot, dialog, "desk", demo.DEMO_PASSWORD, "METRO")
    assert dialog.actor is not None and not dialog.isVisible()


def test_repeated_wrong_passwords_lock_the_account(qtbot: QtBot, demo_rt: Runtime) -> None:
    dialog = make_dialog(qtbot, demo_rt)
    for _ in range(5):
        type_sign_in(qtbot, dialog, "desk", "guess-again", "METRO")
    type_sign_in(qtbot, dialog, "desk", demo.DEMO_PASSWORD, "METRO")
    assert dialog.actor is None
    assert "locked" in dialog.message.text()


def test_desk_staff_are_refused_at_the_virtual_branch(qtbot: QtBot, demo_rt: Runtime) -> None:
    dialog = make_dialog(qtbot, demo_rt)
    type_sign_in(qtbot, dialog, "desk", demo.DEMO_PASSWORD, "WS-ILL")
    assert dialog.actor is None and dialog.isVisible()
    assert "virtual branch WS-ILL" in dialog.message.text()
    assert "ill_office" in dialog.message.text()


def test_ill_office_staff_may_work_at_the_virtual_branch(qtbot: QtBot, demo_rt: Runtime) -> None:
    dialog = make_dialog(qtbot, demo_rt)
    type_sign_in(qtbot, dialog, "office", demo.DEMO_PASSWORD, "WS-ILL")
    assert dialog.actor is not None and dialog.actor.branch_code == "WS-ILL"
    assert not dialog.isVisible()


def test_empty_fields_say_what_is_missing(qtbot: QtBot, demo_rt: Runtime) -> None:
    dialog = make_dialog(qtbot, demo_rt)
    qtbot.keyClick(dialog.user_edit, Qt.Key.Key_Return)
    settle(qtbot)
    assert dialog.message.text() == "Type your username."
    qtbot.keyClicks(dialog.user_edit, "desk")
    qtbot.keyClick(dialog.user_edit, Qt.Key.Key_Return)
    settle(qtbot)
    assert dialog.message.text() == "Type your password."
    assert dialog.actor is None


def test_demo_database_lists_the_demo_accounts_and_enter_signs_in_with_one(
    qtbot: QtBot, demo_rt: Runtime
) -> None:
    dialog = make_dialog(qtbot, demo_rt)
    accounts = dialog.demo_list
    assert accounts is not None and accounts.objectName() == "signInDemoAccounts"
    rows = [accounts.topLevelItem(i).text(0) for i in range(accounts.topLevelItemCount())]
    assert rows == [username for username, _, _ in demo.DEMO_ACCOUNTS]
    title = dialog.findChild(QLabel, "signInDemoTitle")
    assert title is not None and demo.DEMO_PASSWORD in title.text()

    dialog.branch_box.setCurrentIndex(dialog.branch_box.findData("SE"))
    accounts.setFocus()
    accounts.setCurrentItem(accounts.topLevelItem(1))  # ctl
    qtbot.keyClick(accounts, Qt.Key.Key_Return)
    settle(qtbot)
    assert dialog.actor is not None
    assert (dialog.actor.username, dialog.actor.branch_code) == ("ctl", "SE")


def test_real_database_does_not_show_demo_accounts(qtbot: QtBot, demo_rt: Runtime) -> None:
    with demo_rt.db.transaction() as session:
        library_settings.save(session, demo_database=False)
    dialog = make_dialog(qtbot, demo_rt)
    assert dialog.demo_list is None
    assert demo.DEMO_PASSWORD not in " ".join(label.text() for label in dialog.findChildren(QLabel))


def test_remembered_branch_is_preselected(qtbot: QtBot, demo_rt: Runtime) -> None:
    dialog = make_dialog(qtbot, demo_rt, WorkstationSettings(branch_code="NEC"))
    assert dialog.branch_box.currentData() == "NEC"


def test_database_without_staff_says_how_to_create_the_first_account(
    qtbot: QtBot, rt: Runtime
) -> None:
    with rt.db.transaction() as session:
        session.add(Branch(code="MAIN", name="Main Library"))
    dialog = make_dialog(qtbot, rt)
    assert dialog.setup_note.isVisible()
    assert "illdesk staff add USERNAME" in dialog.setup_note.text()
    assert "--role admin --password-stdin" in dialog.setup_note.text()
    assert not dialog.sign_in_button.isEnabled()


def test_database_without_branches_says_so(qtbot: QtBot, rt: Runtime) -> None:
    dialog = make_dialog(qtbot, rt)
    assert "no branches yet" in dialog.setup_note.text()
    assert not dialog.sign_in_button.isEnabled()


# -- main window ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "branch", "keys"),
    [
        ("desk", "METRO", ["checkIn", "checkOut", "patrons", "holdsToPull"]),
        ("ctl", "SE", ["checkIn", "checkOut", "patrons", "lending", "holdsToPull"]),
        (
            "office",
            "WS-ILL",
            [
                "checkIn",
                "checkOut",
                "patrons",
                "illOffice",
                "lending",
                "admin",
                "reports",
                "holdsToPull",
            ],
        ),
        (
            "admin",
            "NEC",
            [
                "checkIn",
                "checkOut",
                "patrons",
                "illOffice",
                "lending",
                "admin",
                "reports",
                "holdsToPull",
            ],
        ),
    ],
)
def test_navigation_offers_only_what_the_role_may_use(
    qtbot: QtBot,
    desk_session: Callable[[str, str], DeskSession],
    username: str,
    branch: str,
    keys: list[str],
) -> None:
    pending = tuple(
        ScreenSpec(s.key, s.title, FAKE, "RecordingScreen", s.shortcut, s.min_role) for s in SCREENS
    )
    window = make_window(qtbot, desk_session(username, branch), pending)
    shown = [
        window.nav.item(row).data(Qt.ItemDataRole.UserRole) for row in range(window.nav.count())
    ]
    assert shown == keys


def test_f_keys_switch_screens_and_activate_them(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession]
) -> None:
    window = make_window(qtbot, desk_session("desk", "METRO"))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    first = window.page("first")
    assert isinstance(first, fake_screens.RecordingScreen) and first.activations == 1
    assert window.page("second") is None  # not built until first shown

    qtbot.keyClick(window, Qt.Key.Key_F3)
    second = window.page("second")
    assert window.current_key() == "second"
    assert window.current_page() is second
    assert second.isVisible() and not first.isVisible()
    assert isinstance(second, fake_screens.OtherScreen) and second.activations == 1

    qtbot.keyClick(window, Qt.Key.Key_F2)
    assert window.current_key() == "first" and window.current_page() is first
    assert first.activations == 2
    assert fake_screens.RecordingScreen.built == 1  # shown again, not built again


def test_missing_screen_module_shows_a_page_saying_so(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession]
) -> None:
    screens = (
        ScreenSpec("ghost", "Ghost", "ui.screens.no_such_screen", "GhostScreen", "F2"),
        ScreenSpec("broken", "Broken", FAKE, "BrokenScreen", "F3"),
        ScreenSpec("working", "Working", FAKE, "RecordingScreen", "F4"),
    )
    window = make_window(qtbot, desk_session("desk", "METRO"), screens)
    ghost = window.page("ghost")
    assert isinstance(ghost, ScreenUnavailablePage)
    assert ghost.objectName() == "screenUnavailable_ghost"
    texts = " ".join(label.text() for label in ghost.findChildren(QLabel))
    assert "The Ghost screen could not be loaded." in texts
    assert "No module named 'ui.screens.no_such_screen'" in texts

    broken = window.show_screen("broken")
    assert isinstance(broken, ScreenUnavailablePage)
    assert "the patron table is missing a column" in broken.reason

    assert isinstance(window.show_screen("working"), fake_screens.RecordingScreen)


def test_status_bar_says_when_the_database_cannot_be_reached(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession]
) -> None:
    down = [True]

    def probe() -> None:
        if down[0]:
            raise ConnectionError("server closed the connection unexpectedly")

    window = make_window(qtbot, desk_session("desk", "METRO"), probe=probe)
    qtbot.waitUntil(
        lambda: "cannot reach the database since" in status_text(window, "statusDatabase")
    )
    label = window.findChild(QLabel, "statusDatabase")
    assert label is not None and "server closed the connection" in label.toolTip()

    down[0] = False
    with qtbot.waitSignal(window.status.checked):
        window.status.check_now()
    assert status_text(window, "statusDatabase").endswith("— connected")


def test_desk_left_alone_locks_and_signing_out_there_leaves_the_window(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession]
) -> None:
    window = make_window(qtbot, desk_session("desk", "METRO"))
    assert window.idle_lock.timer.isActive()
    window.idle_lock.timer.timeout.emit()  # fifteen quiet minutes later
    assert window.idle_lock.is_locked and window.idle_lock.cover.isVisible()
    with qtbot.waitSignal(window.signOutRequested):
        window.idle_lock.cover.sign_out_button.click()
    assert not window.isVisible()


def test_self_check_passes_when_every_screen_loads(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ui.screens, "SCREENS", TWO_SCREENS)
    assert desk_app.self_check() == 0
    assert "2/2 screens loaded" in capsys.readouterr().out


def test_self_check_fails_and_names_a_screen_that_does_not_load(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ghost = ScreenSpec("ghost", "Ghost", "ui.screens.no_such_screen", "GhostScreen", "F4")
    monkeypatch.setattr(ui.screens, "SCREENS", (*TWO_SCREENS, ghost))
    assert desk_app.self_check() == 1
    assert "screen not loaded: Ghost" in capsys.readouterr().err


def test_long_database_path_keeps_its_start_and_file_name() -> None:
    path = "/home/desk/.local/share/ILL Desk/a/very/long/folder/name/illdesk.db"
    short = shorten_middle(path, 40)
    assert len(short) == 40
    assert short.startswith("/home/desk/.l") and short.endswith("/name/illdesk.db")
    assert shorten_middle("/data/illdesk.db", 40) == "/data/illdesk.db"


def unnamed_interactive_widgets(top: QWidget) -> list[str]:
    return [
        f"{type(w).__name__} in {type(w.parent()).__name__}"
        for w in top.findChildren(QWidget)
        if w.focusPolicy() != Qt.FocusPolicy.NoFocus and not w.objectName()
    ]


def test_every_interactive_widget_has_an_object_name(
    qtbot: QtBot, demo_rt: Runtime, desk_session: Callable[[str, str], DeskSession]
) -> None:
    assert unnamed_interactive_widgets(make_dialog(qtbot, demo_rt)) == []
    window = make_window(qtbot, desk_session("admin", "NEC"))
    assert unnamed_interactive_widgets(window) == []
    names = {action.objectName() for action in window.actions()}
    assert {"action_first", "action_second"} <= names


def test_a_very_wide_screen_scrolls_instead_of_widening_the_window(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession]
) -> None:
    wide = (ScreenSpec("wide", "Wide", FAKE, "WideScreen", "F2"),)
    window = make_window(qtbot, desk_session("desk", "METRO"), wide)
    page = window.current_page()
    assert page is not None and page.minimumWidth() == 3000
    assert window.minimumSizeHint().width() < 1366  # still fits a small desk monitor


def test_closing_the_window_stops_its_daily_jobs(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession]
) -> None:
    from ui.privacy_schedule import PrivacySchedule

    window = make_window(qtbot, desk_session("desk", "METRO"))
    schedule = PrivacySchedule(window.session, window)
    schedule.start()
    window.close()
    assert not schedule.timer.isActive()
    assert schedule._stopping.is_set()  # a backlog in flight ends after its current batch
