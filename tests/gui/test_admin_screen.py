"""The Admin screen's Staff and Audit trail tabs, and the idle lock over the main window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.demo import DEMO_PASSWORD
from app.library.clock import FixedClock
from app.library.scanning import strap_barcode
from app.people.patrons import patron_view
from app.people.staff import sign_in
from db.models import AuditEvent, Loan, Role
from tests.gui.waiting import settle
from ui.admin.audit_tab import AuditTab
from ui.admin.settings_tab import SettingsTab
from ui.admin.staff_tab import StaffTab
from ui.desk_session import DeskSession
from ui.idle_lock import IdleLock
from ui.privacy_schedule import PrivacySchedule, install_privacy_guards
from ui.screens import admin_screen
from ui.screens.admin_screen import AdminScreen, TabSpec

MakeSession = Callable[[str, str], DeskSession]


def make_screen(qtbot: QtBot, session: DeskSession) -> AdminScreen:
    screen = AdminScreen(session)
    qtbot.addWidget(screen)
    screen.show()
    settle(qtbot)
    return screen


def cells(table: object, column: int) -> list[str]:
    from PySide6.QtWidgets import QTableWidget

    assert isinstance(table, QTableWidget)
    return [table.item(row, column).text() for row in range(table.rowCount())]


def test_admin_sees_every_tab_and_the_ill_office_the_audit_trail_and_import(
    qtbot: QtBot, desk_session: MakeSession
) -> None:
    screen = make_screen(qtbot, desk_session("admin", "NEC"))
    titles = [screen.tabs.tabText(i) for i in range(screen.tabs.count())]
    assert titles == [
        "Staff",
        "Audit trail",
        "Closures",
        "Notice templates",
        "Library settings",
        "NCIP partners",
        "Import",
    ]
    assert isinstance(screen.tab("staff"), StaffTab)
    office = make_screen(qtbot, desk_session("office", "WS-ILL"))
    titles = [office.tabs.tabText(i) for i in range(office.tabs.count())]
    assert titles == ["Audit trail", "Import"]
    assert isinstance(office.tab("audit"), AuditTab) and office.tab("staff") is None


def test_a_missing_tab_module_shows_a_plain_note(
    qtbot: QtBot, desk_session: MakeSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        admin_screen,
        "TABS",
        (
            TabSpec("audit", "Audit trail", "ui.admin.audit_tab", "AuditTab", Role.ILL_OFFICE),
            TabSpec("gone", "Gone", "ui.admin.no_such_tab", "GoneTab", Role.ADMIN),
        ),
    )
    screen = make_screen(qtbot, desk_session("admin", "NEC"))
    note = screen.tab("gone")
    assert isinstance(note, QLabel)
    assert note.text().startswith("Gone is not available: ModuleNotFoundError")
    assert isinstance(screen.tab("audit"), AuditTab)


_keep: list[AdminScreen] = []


def staff_tab(qtbot: QtBot, desk_session: MakeSession) -> StaffTab:
    screen = make_screen(qtbot, desk_session("admin", "NEC"))
    _keep[:] = [screen]  # the tab lives only as long as its screen
    tab = screen.show_tab("staff")
    settle(qtbot)
    assert isinstance(tab, StaffTab)
    settle(qtbot)
    return tab


def test_staff_tab_lists_accounts_and_sets_a_role(qtbot: QtBot, desk_session: MakeSession) -> None:
    tab = staff_tab(qtbot, desk_session)
    assert cells(tab.table, 0) == ["admin", "ctl", "desk", "office"]
    assert tab.table.select_key("desk")
    tab.role_combo.setCurrentIndex(tab.role_combo.findData(Role.ILL_OFFICE))
    qtbot.mouseClick(tab.set_role_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert tab.feedback.text() == "✔ desk is now ill_office."
    assert cells(tab.table, 2)[cells(tab.table, 0).index("desk")] == "ill_office"
    assert tab.table.current_key() == "desk"
    # The last administrator cannot demote themselves: the refusal is shown, nothing changes.
    tab.table.select_key("admin")
    tab.role_combo.setCurrentIndex(tab.role_combo.findData(Role.DESK))
    qtbot.mouseClick(tab.set_role_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "no active administrator" in tab.feedback.text()
    assert tab.feedback.property("tone") == "problem"


def test_staff_tab_resets_a_password_and_deactivates(
    qtbot: QtBot, desk_session: MakeSession
) -> None:
    tab = staff_tab(qtbot, desk_session)
    rt = tab.session.rt
    tab.table.select_key("ctl")
    qtbot.keyClicks(tab.new_password, "a fresh secret")
    qtbot.mouseClick(tab.reset_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert tab.new_password.text() == ""
    assert "New password set for ctl" in tab.feedback.text()
    assert sign_in(rt, "ctl", "a fresh secret", "SE").username == "ctl"
    assert tab.active_button.text() == "Deactivate"
    qtbot.mouseClick(tab.active_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert cells(tab.table, 3)[cells(tab.table, 0).index("ctl")] == "deactivated"
    assert tab.active_button.text() == "Reactivate"
    tab.os_user_edit.setText("ct-lead")
    qtbot.mouseClick(tab.map_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert cells(tab.table, 4)[cells(tab.table, 0).index("ctl")] == "ct-lead"


def test_staff_tab_adds_an_account_and_explains_a_refusal(
    qtbot: QtBot, desk_session: MakeSession
) -> None:
    tab = staff_tab(qtbot, desk_session)
    qtbot.keyClicks(tab.new_username, "lee")
    qtbot.keyClicks(tab.new_full_name, "Lee Park")
    qtbot.keyClicks(tab.new_account_password, "short")
    qtbot.mouseClick(tab.add_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "at least 8 characters" in tab.feedback.text()
    assert "lee" not in cells(tab.table, 0)
    assert tab.new_username.text() == "lee"  # kept, so only the password is typed again
    qtbot.keyClicks(tab.new_account_password, "long enough now")
    tab.new_role.setCurrentIndex(tab.new_role.findData(Role.CTL))
    qtbot.mouseClick(tab.add_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert tab.feedback.text() == "✔ Added lee (ctl)."
    assert "lee" in cells(tab.table, 0)
    assert tab.new_username.text() == "" and tab.new_account_password.text() == ""


def test_settings_tab_changes_a_setting_and_explains_a_refusal(
    qtbot: QtBot, desk_session: MakeSession
) -> None:
    screen = make_screen(qtbot, desk_session("admin", "NEC"))
    tab = screen.show_tab("settings")
    settle(qtbot)
    assert isinstance(tab, SettingsTab)
    assert tab.table.select_key("retention_days")
    # A number gets a number box held to the setting's range, with its words beside it.
    assert tab.editor is tab.number_edit
    assert (tab.number_edit.minimum(), tab.number_edit.maximum()) == (1, 3650)
    assert tab.number_edit.value() == 30
    assert "anonymised" in tab.description.text() and "1 to 3650" in tab.description.text()
    tab.number_edit.setValue(14)
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert tab.feedback.text() == "✔ Keep patron links (days) is now 14."
    assert cells(tab.table, 1)[cells(tab.table, 0).index("Keep patron links (days)")] == "14"
    assert "retention_days" not in cells(tab.table, 0)  # words, not snake_case keys
    # A choice gets a list of its choices; a colour a swatch and a line, whose refusal says
    # why in words.
    assert tab.table.select_key("patron_display")
    assert tab.editor is tab.choice_edit
    assert tab.choice_edit.count() == 3
    assert tab.table.select_key("strap_colour")
    assert tab.editor is tab.colour_edit and tab.colour_edit.isVisibleTo(tab)
    tab.colour_edit.line.setText("#GGGGGG")
    qtbot.keyClick(tab.colour_edit.line, Qt.Key.Key_Return)
    settle(qtbot)
    assert "#RRGGBB" in tab.feedback.text()
    assert tab.feedback.text().startswith("✖ Strap colour is")
    assert "strap_colour" not in tab.feedback.text()
    assert tab.feedback.property("tone") == "problem"


def test_settings_tab_gives_each_kind_of_setting_an_editor_that_suits_it(
    qtbot: QtBot, desk_session: MakeSession
) -> None:
    screen = make_screen(qtbot, desk_session("admin", "NEC"))
    tab = screen.show_tab("settings")
    settle(qtbot)
    assert isinstance(tab, SettingsTab)
    shown = [w for w in tab.editors if w.isVisibleTo(tab)]
    assert shown == [] and not tab.save_button.isEnabled()  # nothing selected yet

    # Yes/no is a check box.
    assert tab.table.select_key("hold_estimated_charges")
    assert tab.editor is tab.flag_edit and [w for w in tab.editors if w.isVisibleTo(tab)] == [
        tab.flag_edit
    ]
    was = tab.flag_edit.isChecked()
    tab.flag_edit.setChecked(not was)
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert tab.feedback.text() == f"✔ Hold estimated charges is now {'no' if was else 'yes'}."

    # An amount is dollars and cents, from 0.01 up to the library's largest amount.
    assert tab.table.select_key("processing_fee")
    assert tab.editor is tab.amount_edit
    assert tab.amount_edit.decimals() == 2 and tab.amount_edit.prefix() == "$ "
    assert (tab.amount_edit.minimum(), tab.amount_edit.maximum()) == (0.01, 100000.0)
    assert tab.amount_edit.value() == 30.0
    tab.amount_edit.setValue(35.5)
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert tab.feedback.text() == "✔ Processing fee is now 35.50."
    assert "Largest amount" in tab.description.text()  # the rule names settings in words
    assert "amount_maximum" not in tab.description.text()

    # A list is one entry a line.
    assert tab.table.select_key("strap_messages")
    assert tab.editor is tab.lines_edit
    assert "one a line" in tab.description.text() and "|" not in tab.description.text()
    tab.lines_edit.setPlainText("Return | renew")
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    assert tab.feedback.text() == "✖ A line cannot contain |: it separates lines."
    tab.lines_edit.setPlainText("Return to any desk.\n\n  Keep the strap.  \n")
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert tab.feedback.text() == "✔ Strap messages is now Return to any desk. | Keep the strap."
    assert tab.table.select_key("strap_messages")
    assert tab.lines_edit.toPlainText() == "Return to any desk.\nKeep the strap."

    # A colour's swatch shows it.
    assert tab.table.select_key("strap_colour")
    tab.colour_edit.line.setText("#ffe600")
    assert "#ffe600" in tab.colour_edit.swatch.styleSheet()


def test_audit_tab_finds_who_looked_at_a_patron(qtbot: QtBot, desk_session: MakeSession) -> None:
    desk = desk_session("desk", "METRO")
    patron_view(desk.rt, desk.actor, "T00123456")
    screen = make_screen(qtbot, desk_session("office", "WS-ILL"))
    tab = screen.tab("audit")
    settle(qtbot)
    assert isinstance(tab, AuditTab)
    qtbot.keyClicks(tab.patron_edit, "t00123456")
    qtbot.keyClick(tab.patron_edit, Qt.Key.Key_Return)
    settle(qtbot)
    actions = cells(tab.table, 4)
    users = cells(tab.table, 1)
    # Newest first: the office's own search is itself a look at the record.
    assert actions[:2] == ["patron.view", "patron.view"]
    assert users[:2] == ["Olivia Office (office)", "Dana Desk (desk)"]  # names, not usernames
    assert set(cells(tab.table, 6)) == {"T00123456"}
    assert tab.feedback.property("tone") == "good"


def test_audit_tab_explains_bad_input(qtbot: QtBot, desk_session: MakeSession) -> None:
    screen = make_screen(qtbot, desk_session("admin", "NEC"))
    tab = screen.show_tab("audit")
    settle(qtbot)
    assert isinstance(tab, AuditTab)
    tab.from_edit.setText("02/11/2026")
    qtbot.mouseClick(tab.search_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "From takes a date like 2026-11-02" in tab.feedback.text()
    tab.from_edit.setText("2026-11-05")
    tab.to_edit.setText("2026-11-01")
    qtbot.mouseClick(tab.search_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "Swap the dates" in tab.feedback.text()
    tab.to_edit.clear()
    tab.from_edit.clear()
    tab.staff_edit.setText("nobody")
    qtbot.mouseClick(tab.search_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "no staff account 'nobody'" in tab.feedback.text()


# -- idle lock -------------------------------------------------------------------------


class WorkScreen(QWidget):
    """Stands in for a main window with a half-typed scan field."""

    def __init__(self) -> None:
        super().__init__()
        self.field = QLineEdit(self)
        self.field.setObjectName("scanField")
        QVBoxLayout(self).addWidget(self.field)


def locked_window(qtbot: QtBot, session: DeskSession) -> tuple[WorkScreen, IdleLock]:
    window = WorkScreen()
    qtbot.addWidget(window)
    window.resize(600, 400)
    window.show()
    qtbot.waitExposed(window)
    lock = IdleLock(window, session, minutes=15)
    lock.install()
    return window, lock


def test_activity_restarts_the_timer_and_its_end_locks(
    qtbot: QtBot, desk_session: MakeSession
) -> None:
    window, lock = locked_window(qtbot, desk_session("desk", "METRO"))
    try:
        assert lock.timer.isActive() and lock.timer.interval() == 15 * 60_000
        lock.timer.stop()
        qtbot.keyClicks(window.field, "ILL")
        assert lock.timer.isActive()
        with qtbot.waitSignal(lock.locked):
            lock.timer.timeout.emit()
        assert lock.is_locked and lock.cover.isVisible()
        assert lock.cover.geometry() == window.rect()
        assert "Dana Desk at METRO" in lock.cover.heading.text()
    finally:
        lock.uninstall()


def test_nothing_reaches_the_screen_while_locked_and_unlocking_keeps_it(
    qtbot: QtBot, desk_session: MakeSession
) -> None:
    session = desk_session("desk", "METRO")
    window, lock = locked_window(qtbot, session)
    try:
        qtbot.keyClicks(window.field, "ILL00000")
        lock.lock()
        qtbot.keyClicks(window.field, "12345")
        assert window.field.text() == "ILL00000"
        qtbot.keyClicks(lock.cover.password, "wrong password")
        qtbot.mouseClick(lock.cover.unlock_button, Qt.MouseButton.LeftButton)
        settle(qtbot)
        assert "Wrong password" in lock.cover.message.text()
        assert lock.is_locked and lock.cover.password.text() == ""
        qtbot.keyClicks(lock.cover.password, DEMO_PASSWORD)
        with qtbot.waitSignal(lock.unlocked):
            qtbot.keyClick(lock.cover.password, Qt.Key.Key_Return)
            settle(qtbot)
        assert not lock.is_locked and not lock.cover.isVisible()
        assert window.field.text() == "ILL00000"
        assert session.actor.username == "desk" and lock.timer.isActive()
        qtbot.keyClicks(window.field, "12")
        assert window.field.text() == "ILL0000012"
    finally:
        lock.uninstall()


def test_a_scan_into_the_locked_desk_is_not_a_wrong_password(
    qtbot: QtBot, desk_session: MakeSession
) -> None:
    session = desk_session("desk", "METRO")
    _window, lock = locked_window(qtbot, session)
    try:
        lock.lock()
        qtbot.keyClicks(lock.cover.password, strap_barcode(125))
        qtbot.keyClick(lock.cover.password, Qt.Key.Key_Return)
        settle(qtbot)
        assert "That was a scan" in lock.cover.message.text() and lock.is_locked
        with session.rt.db.reading() as db:
            failed = db.scalars(
                select(AuditEvent).where(AuditEvent.action == "staff.sign_in_failed")
            ).all()
        assert failed == []
    finally:
        lock.uninstall()


def test_sign_out_from_the_lock(qtbot: QtBot, desk_session: MakeSession) -> None:
    _window, lock = locked_window(qtbot, desk_session("office", "WS-ILL"))
    lock.lock()
    with qtbot.waitSignal(lock.signOutRequested):
        qtbot.mouseClick(lock.cover.sign_out_button, Qt.MouseButton.LeftButton)
    assert not lock.cover.isVisible() and not lock.timer.isActive()


def test_a_zero_idle_time_never_locks(qtbot: QtBot, desk_session: MakeSession) -> None:
    window, lock = locked_window(qtbot, desk_session("desk", "METRO"))
    lock.uninstall()
    never = IdleLock(window, desk_session("desk", "METRO"), minutes=0)
    never.install()
    try:
        qtbot.keyClicks(window.field, "x")
        assert not never.timer.isActive() and not never.is_locked
    finally:
        never.uninstall()


# -- daily anonymising ---------------------------------------------------------------


def test_the_daily_run_anonymises_once_a_day(
    qtbot: QtBot, desk_session: MakeSession, clock: FixedClock
) -> None:
    session = desk_session("desk", "METRO")
    with session.rt.db.transaction() as db:
        loan = db.scalars(select(Loan).where(Loan.returned_at.is_(None))).first()
        assert loan is not None
        loan.returned_at = clock.now() - timedelta(days=31)
        loan_id = loan.id
    schedule = PrivacySchedule(session)
    with qtbot.waitSignal(schedule.ran, timeout=10_000):
        schedule.run_now()  # on a worker thread: the desk stays responsive
    assert schedule.last_report is not None and schedule.last_report.loans == 1
    with qtbot.waitSignal(schedule.ran, timeout=10_000) as again:
        schedule.run_now()
    assert again.args == [None]  # already done today
    schedule.stop()
    with session.rt.db.reading() as db:
        done = db.get(Loan, loan_id)
        assert done is not None and done.patron_id is None


def test_privacy_guards_add_a_lock_only_where_the_window_has_none(
    qtbot: QtBot, desk_session: MakeSession
) -> None:
    session = desk_session("desk", "METRO")
    bare = WorkScreen()
    qtbot.addWidget(bare)
    install_privacy_guards(bare, session)
    [lock] = bare.findChildren(IdleLock)
    assert [s.timer.isActive() for s in bare.findChildren(PrivacySchedule)] == [True]
    lock.uninstall()
    own = WorkScreen()
    qtbot.addWidget(own)
    own.idle_lock = IdleLock(own, session)  # type: ignore[attr-defined]
    install_privacy_guards(own, session)
    assert own.findChildren(IdleLock) == [own.idle_lock]  # type: ignore[attr-defined]
    for schedule in (*bare.findChildren(PrivacySchedule), *own.findChildren(PrivacySchedule)):
        schedule.stop()
