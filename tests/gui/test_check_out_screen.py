"""Check Out, Patrons and the closures tab, driven like a desk worker would (pytest-qt).

The clock is the fixed test clock: Monday 2 November 2026.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QLineEdit, QTableWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from db.models import (
    Direction,
    DueDateDiscrepancy,
    IllRequest,
    Item,
    RequestStatus,
)
from tests.demo_items import held_item as held
from tests.demo_items import set_lender_date
from tests.gui.waiting import settle
from ui.admin.closures_tab import ClosuresTab
from ui.desk_session import DeskSession
from ui.screens.check_out_screen import CheckOutScreen
from ui.screens.patrons_screen import PatronsScreen

pytestmark = pytest.mark.gui

SessionAt = Callable[[str, str], DeskSession]
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def rows(table: QTableWidget) -> list[list[str]]:
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def open_screen(qtbot: QtBot, session: DeskSession) -> CheckOutScreen:
    screen = CheckOutScreen(session)
    qtbot.addWidget(screen)
    settle(qtbot)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activate()
    settle(qtbot)
    return screen


def find_patron(qtbot: QtBot, screen: CheckOutScreen, text: str) -> None:
    field = screen.findChild(QLineEdit, "patronInput")
    assert field is not None
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    settle(qtbot)


def scan(qtbot: QtBot, screen: CheckOutScreen, barcode: str) -> None:
    field = screen.findChild(QLineEdit, "scanInput")
    assert field is not None
    qtbot.keyClicks(field, barcode)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    settle(qtbot)


def test_find_patron_scan_confirm_and_see_the_checkout(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("desk", "METRO")
    barcode = held(session.rt, "T00123456")
    set_lender_date(session.rt, barcode, date(2026, 11, 14))  # a Saturday
    screen = open_screen(qtbot, session)

    find_patron(qtbot, screen, "muller")
    assert screen.account.header.text() == "Renée Müller  ·  T00123456"
    assert barcode in [r[0] for r in rows(screen.account.waiting)]
    before = len(rows(screen.account.checkouts))

    scan(qtbot, screen, barcode)
    assert not screen.confirm_box.isHidden()
    assert screen.strap_date.text() == ""  # read the strap first: nothing to Enter past
    assert "2026-11-14" in screen.confirm_box.same_date_button.text()

    qtbot.keyClick(screen, Qt.Key.Key_D, CTRL_SHIFT)  # it matches
    settle(qtbot)
    assert screen.strap_date.date() == QDate(2026, 11, 14)
    assert screen.due_label.text() == "Friday 13 November 2026"
    assert "closed that day" in screen.sentence.text()
    assert screen.discrepancy.text() == ""

    qtbot.keyClick(screen.strap_date, Qt.Key.Key_Return)  # confirm
    settle(qtbot)
    assert screen.confirm_box.isHidden()
    assert screen.banner.headline.text() == "Due Friday 13 November 2026"
    assert screen.banner.look.key == "good"
    checked_out = rows(screen.account.checkouts)
    assert len(checked_out) == before + 1
    [line] = [r for r in checked_out if r[0] == barcode]
    assert line[2] == "2026-11-13" and line[3] == "2026-11-14"
    assert barcode not in [r[0] for r in rows(screen.account.waiting)]


def test_enter_without_the_strap_date_checks_nothing_out_and_says_what_to_do(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("desk", "METRO")
    barcode = held(session.rt, "T00123456")
    set_lender_date(session.rt, barcode, date(2026, 11, 14))
    screen = open_screen(qtbot, session)
    find_patron(qtbot, screen, "T00123456")
    before = len(rows(screen.account.checkouts))
    scan(qtbot, screen, barcode)
    assert screen.strap_date.text() == "" and screen.due_label.text() == ""
    assert not screen.confirm_button.isEnabled()

    scan(qtbot, screen, "")  # a reflex Enter on the scan field
    assert not screen.confirm_box.isHidden() and screen.pending is not None
    assert len(rows(screen.account.checkouts)) == before
    assert "Type the date printed on the strap" in screen.banner.lines.text()
    assert "Ctrl+Shift+D" in screen.banner.lines.text()
    qtbot.waitUntil(screen.strap_date.hasFocus)

    qtbot.keyClicks(screen.strap_date, "2026-11-14")  # typed off the strap
    settle(qtbot)
    assert screen.due_label.text() == "Friday 13 November 2026"
    qtbot.keyClick(screen.strap_date, Qt.Key.Key_Return)
    settle(qtbot)
    assert screen.banner.headline.text() == "Due Friday 13 November 2026"
    assert len(rows(screen.account.checkouts)) == before + 1


def test_change_due_date_shows_no_date_before_a_patron_is_chosen(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    screen = open_screen(qtbot, desk_session("desk", "METRO"))
    assert screen.new_due.text() == ""
    assert not screen.new_due.isEnabled() and not screen.change_due_button.isEnabled()
    find_patron(qtbot, screen, "T00123456")
    assert screen.new_due.isEnabled() and screen.new_due.date() == QDate(2026, 11, 2)


def test_a_different_strap_date_wins_and_is_logged(qtbot: QtBot, desk_session: SessionAt) -> None:
    session = desk_session("desk", "METRO")
    barcode = held(session.rt, "T00123456")
    set_lender_date(session.rt, barcode, date(2026, 12, 2))
    screen = open_screen(qtbot, session)
    find_patron(qtbot, screen, "T00123456")
    scan(qtbot, screen, barcode)
    screen.strap_date.setDate(QDate(2026, 12, 9))
    settle(qtbot)
    assert "strap wins" in screen.discrepancy.text()
    assert screen.due_label.text() == "Wednesday 9 December 2026"
    qtbot.mouseClick(screen.confirm_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "logged for the ILL office" in screen.banner.lines.text()
    [line] = [r for r in rows(screen.account.checkouts) if r[0] == barcode]
    assert line[2] == "2026-12-09"
    with session.rt.db.reading() as db:
        assert db.scalar(select(func.count()).select_from(DueDateDiscrepancy)) == 1


def test_in_library_use_refused_then_recorded(qtbot: QtBot, desk_session: SessionAt) -> None:
    session = desk_session("desk", "METRO")
    barcode = held(session.rt, "T00678901", in_library_use=True)
    screen = open_screen(qtbot, session)
    find_patron(qtbot, screen, "larsen")
    scan(qtbot, screen, barcode)
    assert screen.confirm_box.isHidden()
    assert screen.banner.headline.text() == "Record an in-library use: no checkout"
    assert screen.banner.look.key == "refused"
    assert not screen.record_use_button.isHidden()
    assert screen.override_button.isHidden()  # desk staff cannot override
    qtbot.mouseClick(screen.record_use_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert screen.banner.headline.text() == "In-library use recorded"
    [line] = rows(screen.account.in_house)
    assert line[0] == barcode and line[4].startswith("since")


def test_refusal_for_another_patrons_item_and_scan_before_patron(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("desk", "METRO")
    screen = open_screen(qtbot, session)
    scan(qtbot, screen, held(session.rt, "T00123456"))
    assert screen.banner.headline.text() == "Find the patron first"
    find_patron(qtbot, screen, "T00123456")
    scan(qtbot, screen, held(session.rt, "T00678901", in_library_use=True))
    # The patron at the desk sees where the item goes back, never who else it waits for.
    assert screen.banner.headline.text() == "Back to hold shelf at METRO"
    assert "Held for another patron, at METRO's hold shelf" in screen.banner.lines.text()
    shown = [screen.banner.headline, screen.banner.target, screen.banner.lines]
    for words in [*(label.text() for label in shown), screen.banner.accessibleDescription()]:
        assert "Larsen" not in words and "Björn" not in words and "T00678901" not in words
    scan(qtbot, screen, "ILL00000001")  # wrong check digit
    assert screen.banner.headline.text() == "Scan again: not readable"


def test_renew_explains_and_due_date_change_needs_a_reason(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("desk", "METRO")
    screen = open_screen(qtbot, session)
    find_patron(qtbot, screen, "T00123456")
    assert rows(screen.account.checkouts)  # the demo loan due in three weeks
    qtbot.mouseClick(screen.renew_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert screen.banner.headline.text() == "Select a checkout"
    screen.account.checkouts.selectRow(0)
    qtbot.mouseClick(screen.renew_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert screen.banner.headline.text() == "Not renewed at the desk"
    assert "only the lending library grants renewals" in screen.banner.lines.text()

    screen.new_due.setDate(QDate(2027, 1, 15))
    qtbot.mouseClick(screen.change_due_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert screen.banner.headline.text() == "Due date not changed"
    assert "Say why" in screen.banner.lines.text()
    qtbot.keyClicks(screen.due_reason, "Lender renewed")
    qtbot.mouseClick(screen.change_due_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert screen.banner.headline.text() == "Due Friday 15 January 2027"
    assert rows(screen.account.checkouts)[0][2] == "2027-01-15"


def test_patrons_screen_lists_matches_then_the_account(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    screen = PatronsScreen(desk_session("desk", "SE"))
    qtbot.addWidget(screen)
    settle(qtbot)
    screen.show()
    qtbot.keyClicks(screen.lookup.input, "o")
    qtbot.keyClick(screen.lookup.input, Qt.Key.Key_Return)
    settle(qtbot)
    assert screen.lookup.matches.count() == 2 and not screen.lookup.matches.isHidden()
    item = screen.lookup.matches.item(1)
    assert "Jamal Okafor" in item.text()
    screen.lookup.matches.itemActivated.emit(item)
    settle(qtbot)
    assert screen.account.header.text() == "Jamal Okafor  ·  T00234567"
    assert rows(screen.account.in_house)  # his in-library-use item waits at NEC
    screen.lookup.input.setText("nobody-like-this")
    qtbot.keyClick(screen.lookup.input, Qt.Key.Key_Return)
    settle(qtbot)
    assert "No patron matches" in screen.message.text()


def test_patrons_screen_shows_charges_with_bursar_note(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    screen = PatronsScreen(desk_session("desk", "SE"))
    qtbot.addWidget(screen)
    settle(qtbot)
    screen.show_patron("T00890123")
    settle(qtbot)
    charges = rows(screen.account.charges)
    assert len(charges) == 2
    assert all(r[4] == "Not reported to the bursar" for r in charges)
    assert any("processing fee" in r[2] for r in charges)


def test_closures_tab_fills_holidays_and_edits(qtbot: QtBot, desk_session: SessionAt) -> None:
    tab = ClosuresTab(desk_session("admin", "METRO"))
    qtbot.addWidget(tab)
    settle(qtbot)
    assert tab.holidays_button.text() == "Add public holidays for 2026"
    qtbot.mouseClick(tab.holidays_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    filled = rows(tab.table)
    assert any(r[1] == "2026-11-26" and "Thanksgiving" in r[3] for r in filled)
    assert "Added" in tab.message.text()

    qtbot.mouseClick(tab.add_button, Qt.MouseButton.LeftButton)  # no reason typed
    settle(qtbot)
    assert "reason" in tab.message.text()
    assert len(rows(tab.table)) == len(filled)
    tab.where.setCurrentIndex(tab.where.findData("METRO"))
    settle(qtbot)
    tab.start.setDate(QDate(2026, 12, 19))
    tab.end.setDate(QDate(2027, 1, 3))
    qtbot.keyClicks(tab.reason, "Winter break")
    qtbot.mouseClick(tab.add_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    [winter] = [r for r in rows(tab.table) if r[3] == "Winter break"]
    assert winter[:3] == ["METRO", "2026-12-19", "2027-01-03"]

    tab.table.selectRow([r[3] for r in rows(tab.table)].index("Winter break"))
    qtbot.mouseClick(tab.remove_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "Winter break" not in [r[3] for r in rows(tab.table)]

    tab.week_branch.setCurrentIndex(tab.week_branch.findData("WEST"))
    settle(qtbot)
    assert tab.day_boxes[5].isChecked() and tab.day_boxes[6].isChecked()
    tab.day_boxes[5].setChecked(False)
    qtbot.mouseClick(tab.save_week_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert tab.message.text() == "WEST is closed: Sunday."


def test_own_item_to_the_ill_account_shows_the_yellow_flag(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("ctl", "METRO")
    with session.rt.db.reading() as db:
        barcode = db.scalar(
            select(Item.barcode)
            .join(IllRequest, IllRequest.item_id == Item.id)
            .where(
                IllRequest.direction == Direction.LENDING,
                IllRequest.status == RequestStatus.TO_PULL,
                IllRequest.pull_branch_id == Item.home_branch_id,
            )
            .order_by(IllRequest.request_number)
        )
    assert barcode is not None
    screen = open_screen(qtbot, session)
    find_patron(qtbot, screen, "ILL")
    assert screen.account.header.text().startswith("ILL")
    scan(qtbot, screen, barcode)
    assert not screen.strap_date.isEnabled()  # own items have no strap date
    assert "lending request" in screen.sentence.text()
    qtbot.mouseClick(screen.confirm_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert screen.banner.look.key == "good"
    assert "YELLOW FLAG" in screen.banner.lines.text()
    assert barcode in [r[0] for r in rows(screen.account.checkouts)]


def test_enter_on_the_empty_scan_field_confirms_and_focus_never_leaves_it(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("desk", "METRO")
    barcode = held(session.rt, "T00123456")
    set_lender_date(session.rt, barcode, date(2026, 12, 2))
    screen = open_screen(qtbot, session)
    find_patron(qtbot, screen, "T00123456")
    scan(qtbot, screen, barcode)
    assert screen.focusWidget() is screen.scan
    qtbot.keyClick(screen.scan, Qt.Key.Key_D, CTRL_SHIFT)  # it matches
    settle(qtbot)
    assert screen.focusWidget() is screen.scan
    scan(qtbot, screen, "")  # the desk worker checked the strap and pressed Enter
    assert screen.confirm_box.isHidden()
    assert screen.banner.headline.text() == "Due Wednesday 2 December 2026"
    assert barcode in [r[0] for r in rows(screen.account.checkouts)]


def test_a_second_strap_scanned_before_confirming_never_changes_the_first_date(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("desk", "METRO")
    first = held(session.rt, "T00123456")
    set_lender_date(session.rt, first, date(2026, 12, 2))
    screen = open_screen(qtbot, session)
    find_patron(qtbot, screen, "T00123456")
    scan(qtbot, screen, first)
    scan(qtbot, screen, "31234000000001")  # the next item, before confirming the first
    assert f"{first} was NOT checked out" in screen.banner.lines.text()
    with session.rt.db.reading() as db:
        assert not db.scalar(select(func.count()).select_from(DueDateDiscrepancy))
    assert first not in [r[0] for r in rows(screen.account.checkouts)]
