"""Holds to Pull (F9) as a campus desk worker meets it (pytest-qt).

The demo's hold-shelf items wait until Tuesday 10 November 2026; the test clock starts on
Monday 2 November. From the 11th they are past pickup-by and the campus pulls them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from app.desk.checkin import check_in
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from db.models import Item
from tests.demo_items import held_item
from tests.gui.waiting import settle
from ui.desk_session import DeskSession
from ui.main_window import MainWindow
from ui.screens.holds_to_pull_screen import HoldsToPullScreen

pytestmark = pytest.mark.gui

SessionAt = Callable[[str, str], DeskSession]
RENEE, BJORN = "T00123456", "T00678901"  # both wait at METRO; Björn's is in-library use


def _cells(screen: HoldsToPullScreen, column: int) -> list[str]:
    table = screen.table
    return [table.item(row, column).text() for row in range(table.rowCount())]


def test_reachable_from_the_main_window_with_f9_and_empty_says_why(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    window = MainWindow(desk_session("desk", "METRO"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    titles = [window.nav.item(row).text() for row in range(window.nav.count())]
    assert "Holds to Pull" in titles  # a desk worker sees it in the sidebar
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F9)
    screen = window.current_page()
    assert isinstance(screen, HoldsToPullScreen)
    settle(qtbot, window.session.ops)
    assert screen.heading.text() == "Holds to pull (0)"
    assert screen.empty.isVisible() and screen.table.rowCount() == 0
    assert "Nothing to pull at METRO today" in screen.empty.text()
    assert "past its pickup-by date" in screen.empty.text()


def test_lists_the_campus_holds_past_pickup_by_and_drops_a_pulled_one(
    qtbot: QtBot,
    desk_session: SessionAt,
    demo_rt: Runtime,
    actor_at: Callable[[str, str], Actor],
    clock: FixedClock,
) -> None:
    renee, bjorn = held_item(demo_rt, RENEE), held_item(demo_rt, BJORN, in_library_use=True)
    with demo_rt.db.transaction() as session:  # came as a book and its CD
        session.execute(update(Item).where(Item.barcode == bjorn).values(pieces=2))
    screen = HoldsToPullScreen(desk_session("desk", "METRO"))
    qtbot.addWidget(screen)
    screen.show()
    clock.set_date(date(2026, 11, 10))  # the pickup-by day itself: still waiting
    screen.activate()
    settle(qtbot, screen.ops)
    assert screen.heading.text() == "Holds to pull (0)"

    clock.set_date(date(2026, 11, 12))
    screen.activate()  # shown again the next morning: read afresh
    settle(qtbot, screen.ops)
    assert screen.heading.text() == "Holds to pull (2)"
    assert screen.table.isVisible() and not screen.empty.isVisible()
    assert sorted(_cells(screen, 0)) == sorted([renee, bjorn])  # only METRO's shelf
    row = screen.table.keys().index(bjorn)
    assert screen.table.item(row, 2).text() == "LARSEN, B."
    assert screen.table.item(row, 3).text() == "2026-11-10"
    assert screen.table.item(row, 4).text() == "2"
    assert screen.table.item(row, 5).text() == "2 pieces: pull them all; in library use only"
    assert screen.table.item(screen.table.keys().index(renee), 5).text() == ""

    check_in(demo_rt, actor_at("desk", "METRO"), renee)  # pulled: back to the ILL office
    qtbot.mouseClick(screen.refresh_button, Qt.MouseButton.LeftButton)
    settle(qtbot, screen.ops)
    assert screen.heading.text() == "Holds to pull (1)"
    assert screen.table.keys() == [bjorn]


def test_a_refusal_is_said_and_no_old_count_stays(
    qtbot: QtBot, desk_session: SessionAt, demo_rt: Runtime, clock: FixedClock
) -> None:
    clock.set_date(date(2026, 11, 12))
    screen = HoldsToPullScreen(desk_session("desk", "METRO"))
    qtbot.addWidget(screen)
    screen.show()
    screen.activate()
    settle(qtbot, screen.ops)
    assert screen.heading.text() == "Holds to pull (2)"
    # The desk's branch was removed from the library meanwhile: the list cannot be read.
    screen.branch = "GONE"
    screen.session.actor = replace(screen.session.actor, branch_code="GONE")
    screen.refresh()
    settle(qtbot, screen.ops)
    assert screen.heading.text() == "Holds to pull"
    assert "GONE" in screen.feedback.text()
