"""ILL Office > Lists: a long list shows its first screenful before the rest is read."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from app.library.actors import Actor
from app.library.runtime import Runtime
from tests.gui.waiting import settle
from ui.desk_session import DeskSession
from ui.screens import office_lists_tab
from ui.screens.office_list_rows import office_list_rows
from ui.screens.office_lists_tab import ListsTab

pytestmark = pytest.mark.gui

IN_TRANSIT = 1  # the demo library has four items in inter-campus mail


def test_the_first_rows_are_on_show_while_the_rest_is_read_and_stay_selected(
    qtbot: QtBot,
    desk_session: Callable[[str, str], DeskSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(office_lists_tab, "FIRST_ROWS", 2)
    asked: list[int | None] = []
    rest_may_come = threading.Event()

    def rows_when_let(
        rt: Runtime, actor: Actor, index: int, limit: int | None = None
    ) -> tuple[object, ...]:
        asked.append(limit)
        if limit is None:
            rest_may_come.wait(10)
        return office_list_rows(rt, actor, index, limit)

    monkeypatch.setattr(office_lists_tab, "office_list_rows", rows_when_let)
    tab = ListsTab(desk_session("office", "WS-ILL"))
    qtbot.addWidget(tab)
    tab.choice.setCurrentIndex(IN_TRANSIT)
    qtbot.waitUntil(lambda: tab.table.rowCount() == 2)
    assert "first 2 entries; reading the rest" in tab.message.text()
    first_two = [tab.table.text(r, 0) for r in range(2)]
    tab.table.selectRow(1)

    rest_may_come.set()
    settle(qtbot)
    assert asked == [2, None]
    assert tab.table.rowCount() == 4
    assert [tab.table.text(r, 0) for r in range(2)] == first_two
    assert tab.table.currentRow() == 1
    assert tab.message.text() == "4 entries."


def test_a_short_list_is_read_once(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int | None] = []

    def counted(
        rt: Runtime, actor: Actor, index: int, limit: int | None = None
    ) -> tuple[object, ...]:
        asked.append(limit)
        return office_list_rows(rt, actor, index, limit)

    monkeypatch.setattr(office_lists_tab, "office_list_rows", counted)
    tab = ListsTab(desk_session("office", "WS-ILL"))
    qtbot.addWidget(tab)
    tab.choice.setCurrentIndex(IN_TRANSIT)
    settle(qtbot)
    assert asked == [office_lists_tab.FIRST_ROWS]
    assert tab.table.rowCount() == 4 and tab.message.text() == "4 entries."
