"""An empty office or admin table says why it is empty and what to do, inside the grid."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.people.patrons import patron_view
from tests.gui.waiting import settle
from ui.admin.audit_tab import AuditTab
from ui.desk_session import DeskSession
from ui.screens.admin_screen import AdminScreen
from ui.screens.ill_office_screen import IllOfficeScreen
from ui.screens.lending_screen import LendingScreen
from ui.screens.patrons_screen import PatronsScreen
from ui.widgets.panel_parts import KeyedTable

pytestmark = pytest.mark.gui

SessionAt = Callable[[str, str], DeskSession]


def test_ship_back_says_nothing_waits_once_the_last_item_is_shipped(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    screen = IllOfficeScreen(desk_session("office", "WS-ILL"))
    qtbot.addWidget(screen)
    screen.show()
    ship = screen.ship_back_tab
    screen.tabs.setCurrentWidget(ship)
    settle(qtbot)
    assert ship.table.rowCount() == 1
    assert not ship.empty_note.isVisible()  # a row: no note over it
    qtbot.keyClicks(ship.scan_input, "ILL00000141")
    qtbot.keyClick(ship.scan_input, Qt.Key.Key_Return)
    settle(qtbot)
    assert ship.table.rowCount() == 0
    assert ship.empty_note.isVisible()
    assert "Nothing to ship back" in ship.empty_note.text()
    assert "checked in at the ILL office" in ship.empty_note.text()
    screen.printer.wait()
    settle(qtbot)


def test_the_office_lists_say_why_each_one_is_empty(qtbot: QtBot, desk_session: SessionAt) -> None:
    screen = IllOfficeScreen(desk_session("office", "WS-ILL"))
    qtbot.addWidget(screen)
    screen.show()
    lists = screen.lists_tab
    screen.tabs.setCurrentWidget(lists)
    settle(qtbot)
    lists.choice.setCurrentIndex(5)  # not-found scans: none in the demo
    settle(qtbot)
    assert lists.table.rowCount() == 0
    assert lists.empty_note.isVisible()
    assert "No not-found scan waits for review" in lists.empty_note.text()
    screen.printer.wait()
    settle(qtbot)


def test_the_pull_list_says_nothing_is_left_to_pull(qtbot: QtBot, desk_session: SessionAt) -> None:
    screen = LendingScreen(desk_session("ctl", "METRO"))
    qtbot.addWidget(screen)
    screen.show()
    settle(qtbot)
    pull = screen.pull
    assert pull is not None
    (number,) = pull.table.keys()
    assert not pull.table.empty_note.isVisible()
    pull.table.select_key(number)
    pull.account_input.setText("777110346")
    qtbot.mouseClick(pull.checkout_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert pull.table.keys() == []
    note = pull.table.empty_note
    assert note.isVisible()
    assert "Nothing to pull at METRO" in note.text()
    assert "Refresh" in note.text()


def test_audit_trail_asks_for_a_search_then_says_none_matched(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    screen = AdminScreen(desk_session("admin", "NEC"))
    qtbot.addWidget(screen)
    screen.show()
    tab = screen.show_tab("audit")
    settle(qtbot)
    assert isinstance(tab, AuditTab)
    note = tab.table.empty_note
    assert note.isVisible() and "Nothing searched yet" in note.text()
    tab.from_edit.setText("2001-01-01")
    tab.to_edit.setText("2001-01-02")
    qtbot.mouseClick(tab.search_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert tab.table.rowCount() == 0
    assert note.isVisible() and "No audit events match this search" in note.text()
    tab.clear()
    assert "Nothing searched yet" in note.text()


def test_a_patrons_notices_never_show_under_the_next_patron(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("office", "WS-ILL")
    screen = PatronsScreen(session)
    qtbot.addWidget(screen)
    screen.show()
    settle(qtbot)
    assert screen.notices.empty_note.isVisible()
    assert "Find a patron above" in screen.notices.empty_note.text()
    screen.notices.fill([("1", ("1", "2026-11-01 09:00", "Due soon", "sent", "", "x"))])
    view = patron_view(session.rt, session.actor, "T00123456")
    screen.load_notices = lambda: None  # type: ignore[method-assign]  # the read never answers
    screen._show_account(view)
    assert screen.notices.rowCount() == 0  # not the last patron's notice
    assert f"No notice to {view.name} yet" in screen.notices.empty_note.text()


def test_a_long_value_is_cut_to_fit_and_kept_whole_in_its_tooltip(
    qtbot: QtBot,
) -> None:
    table = KeyedTable("t", ("Setting", "Value", "Default"))
    qtbot.addWidget(table)
    table.resize(1200, 400)
    long = "Please keep this strap on the book until you return it. " * 4
    table.fill([("a", ("Strap messages", long, "short"))])
    widths = [table.columnWidth(c) for c in range(3)]
    assert sum(widths[:2]) < table.viewport().width()  # the Default column stays on screen
    assert table.item(0, 1).toolTip() == long
    assert not table.empty_note.isVisible()


def test_a_wide_list_is_cut_to_fit_its_window_rather_than_scroll(qtbot: QtBot) -> None:
    headers = (
        "Request",
        "Status",
        "Borrower",
        "Their #",
        "Barcode",
        "Pull",
        "Due",
        "Title",
        "Next",
    )
    table = KeyedTable("wide", headers)
    qtbot.addWidget(table)
    table.resize(900, 300)
    table.show()
    qtbot.waitExposed(table)
    title = "Handbook of Texas Music, second edition, revised and enlarged"
    after = "Lent to IXA, due back 2026-11-11; overdue message sent 2026-12-02"
    cells = ("20261024", "shipped", "IXA", "9100002", "31234000000015", "SE", "2026-11-11")
    table.fill([("20261024", (*cells, title, after))])
    widths = [table.columnWidth(c) for c in range(table.columnCount())]
    assert sum(widths[:-1]) < table.viewport().width()  # the last column starts on screen
    assert widths[0] == table.sizeHintForColumn(0)  # short columns keep their width
    assert table.item(0, 7).toolTip() == title  # the cut title is whole in its tooltip
    table.resize(1900, 300)
    qtbot.waitUntil(lambda: table.columnWidth(7) > widths[7])  # room again: less is cut


def test_office_lists_fit_and_a_reload_leaves_nothing_selected(qtbot: QtBot) -> None:
    from ui.screens.ill_office_tabs import _table, fill_table

    table = _table(None, "requestsTable")
    qtbot.addWidget(table)
    table.resize(700, 300)
    table.show()
    headers = ("Request", "Kind", "Status", "Title", "Patron", "Pickup", "Strap", "Copy left")
    long = "Braiding Sweetgrass: Indigenous Wisdom, Scientific Knowledge and the Teachings"
    rows = [("20261017", "loan", "returned", long, "T00123456", "METRO", "ILL00000141", "")]
    fill_table(table, headers, rows * 2)
    table.selectRow(0)
    widths = [table.columnWidth(c) for c in range(table.columnCount())]
    assert sum(widths[:-1]) < table.viewport().width()  # Patron, Pickup, Strap on screen
    fill_table(table, headers, rows)  # after cancelling the selected request
    assert table.currentRow() == -1  # never silently the next request in its place


def test_the_last_column_reaches_the_edge_of_the_list(qtbot: QtBot) -> None:
    table = KeyedTable("notices", ("ID", "Created", "Notice", "Subject"))
    qtbot.addWidget(table)
    table.resize(900, 300)
    table.show()
    qtbot.waitExposed(table)
    table.fill([("5", ("5", "2026-12-06 20:57", "Request received", "Request received"))])
    assert table.horizontalHeader().length() == table.viewport().width()


def test_the_words_in_the_last_column_keep_room_on_a_crowded_list(qtbot: QtBot) -> None:
    from ui.widgets.column_fit import LAST_COLUMN_ROOM

    headers = ("When", "Staff", "Branch", "Workstation", "Action", "Item", "Patron", "Details")
    table = KeyedTable("audit", headers)
    qtbot.addWidget(table)
    table.resize(930, 300)
    table.show()
    qtbot.waitExposed(table)
    details = "status: on_loan → in_transit; branch: NEC → METRO; destination: NEC; route_home"
    cells = ("2026-12-06 20:57:33", "Olivia Office (office)", "METRO", "WS-ILL-01")
    more = ("lending.checkout_to_ill", "31234000000013", "T00123456", details)
    table.fill([("0", (*cells, *more))])
    assert table.columnWidth(7) >= LAST_COLUMN_ROOM - 2  # the details are not cut to a sliver


def test_reports_say_what_to_do_before_the_first_report(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    from ui.screens.reports_screen import ReportsScreen

    screen = ReportsScreen(desk_session("office", "WS-ILL"))
    qtbot.addWidget(screen)
    screen.show()
    assert "press Show" in screen.figures.empty_note.text()
    assert screen.figures.empty_note.isVisible()
    assert "Double-click a counted figure" in screen.behind.empty_note.text()
    settle(qtbot)
