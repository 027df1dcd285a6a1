"""Offline mode at the desk: scans journaled with a provisional banner, the status-bar
count, and the automatic replay when the database answers again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.desk.routing import Outcome
from app.library.errors import DatabaseUnavailable
from app.library.runtime import Runtime
from app.offline import snapshot
from app.offline.journal import OfflineJournal
from app.offline.provisional import OFFLINE_REASON
from app.offline.replay import EntryStatus, ReplayReport
from db.models import Item, ItemStatus
from ui.desk_session import DeskSession
from ui.offline_mode import OfflineMode
from ui.screens.check_in_screen import CheckInScreen
from ui.status_bar import DeskStatusBar

pytestmark = pytest.mark.gui

WAIT_MS = 10_000
IN_TRANSIT_TO_SE = "ILL00000018"


@pytest.fixture
def backend() -> str:
    return "sqlite"


def unreachable(*_args: object, **_kwargs: object) -> None:
    raise DatabaseUnavailable("The database cannot be reached (server closed).")


def desk_journal() -> OfflineJournal:
    return OfflineJournal()


def status_of(rt: Runtime, barcode: str) -> ItemStatus | None:
    with rt.db.reading() as session:
        return session.scalar(select(Item.status).where(Item.barcode == barcode))


def test_check_in_screen_journals_a_scan_and_shows_the_provisional_routing(
    qtbot: QtBot,
    desk_session: Callable[[str, str], DeskSession],
    demo_rt: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snapshot.refresh(demo_rt.db)  # taken while online
    screen = CheckInScreen(desk_session("desk", "SE"))
    qtbot.addWidget(screen)
    monkeypatch.setattr(demo_rt.db, "transaction", unreachable)  # the server has gone
    with qtbot.waitSignal(screen.scanProcessed, timeout=WAIT_MS) as blocker:
        qtbot.keyClicks(screen.scan_field, IN_TRANSIT_TO_SE)
        qtbot.keyClick(screen.scan_field, Qt.Key.Key_Return)
    result = blocker.args[0]
    assert result.reason == OFFLINE_REASON
    assert screen.banner.headline.text() == "Provisional: put on the hold shelf here"
    assert "Saved offline" in screen.banner.lines.text()
    entries = desk_journal().entries()
    assert [(e.barcode, e.branch, e.provisional) for e in entries] == [
        (IN_TRANSIT_TO_SE, "SE", "hold_shelf")
    ]
    assert status_of(demo_rt, IN_TRANSIT_TO_SE) is ItemStatus.IN_TRANSIT  # not yet applied

    with qtbot.waitSignal(screen.scanProcessed, timeout=WAIT_MS):
        qtbot.keyClicks(screen.scan_field, "31234099999999")
        qtbot.keyClick(screen.scan_field, Qt.Key.Key_Return)
    assert screen.banner.headline.text() == "Unknown: keep aside"
    assert len(desk_journal().entries()) == 2


def test_status_bar_counts_waiting_scans_and_replays_when_the_database_is_back(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession], demo_rt: Runtime
) -> None:
    session = desk_session("desk", "SE")
    down = {"now": True}

    def probe() -> None:
        if down["now"]:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("no route"))

    status = DeskStatusBar(session, None, probe)
    qtbot.addWidget(status)
    offline = OfflineMode(session, status, status)
    session.offline.check_in(session.actor, IN_TRANSIT_TO_SE, None)
    with qtbot.waitSignal(status.checked, timeout=WAIT_MS):
        status.check_now()
    qtbot.waitUntil(lambda: offline.label.text() == "offline: 1 scans waiting", timeout=WAIT_MS)
    assert not offline.label.isHidden()

    down["now"] = False
    with qtbot.waitSignal(offline.replayFinished, timeout=WAIT_MS) as blocker:
        status.check_now()
    report = blocker.args[0]
    assert isinstance(report, ReplayReport)
    assert [e.status for e in report.entries] == [EntryStatus.APPLIED]
    assert report.entries[0].outcome == Outcome.HOLD_SHELF.value
    assert status_of(demo_rt, IN_TRANSIT_TO_SE) is ItemStatus.ON_HOLD_SHELF
    assert offline.waiting == 0 and offline.label.isHidden()
    offline.stop()
    status.stop()


def test_another_desks_change_is_noticed_by_polling(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession], demo_rt: Runtime
) -> None:
    from app.desk.checkin import check_in

    session = desk_session("desk", "SE")
    status = DeskStatusBar(session, None, lambda: None)
    qtbot.addWidget(status)
    offline = OfflineMode(session, status, status)
    offline.feed.poll()  # the marker as this desk last saw it
    check_in(demo_rt, desk_session("desk", "METRO").actor, IN_TRANSIT_TO_SE)  # elsewhere
    with qtbot.waitSignal(offline.changedElsewhere, timeout=WAIT_MS):
        offline.poll_now()
    offline.stop()
    status.stop()


def test_conflicts_after_a_replay_are_named_in_the_status_bar(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession]
) -> None:
    session = desk_session("desk", "SE")
    status = DeskStatusBar(session, None, lambda: None)
    qtbot.addWidget(status)
    offline = OfflineMode(session, status, status)
    session.offline.check_in(session.actor, "31234099999999", None)  # unknown barcode
    with qtbot.waitSignal(offline.replayFinished, timeout=WAIT_MS):
        status.check_now()
    assert offline.label.text().startswith("offline replay: 1 conflicts")
    assert "item_unknown" in offline.label.toolTip()
    assert "illdesk offline replay" in offline.label.toolTip()
    offline.stop()
    status.stop()
