"""A commit whose reply was lost: the desk says "not sure" and journals the scan under its
key, never "nothing was changed" (the replay finds out what really happened)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from app.desk import checkin, checkout
from app.library import library_settings
from app.library.errors import OutcomeUnknown
from app.library.runtime import Runtime
from app.offline import snapshot
from app.offline.journal import OfflineAction, OfflineJournal
from tests.gui.waiting import settle
from ui.desk_session import DeskSession
from ui.screens.check_in_screen import CheckInScreen
from ui.screens.check_out_screen import CheckOutScreen

pytestmark = pytest.mark.gui

SessionAt = Callable[[str, str], DeskSession]
WAIT_MS = 10_000
IN_TRANSIT_TO_SE = "ILL00000018"
ON_HOLD_AT_METRO = "ILL00000042"  # waiting on the METRO hold shelf for T00123456
PATRON = "T00123456"


@pytest.fixture
def backend() -> str:
    return "sqlite"


def test_check_in_whose_commit_reply_was_lost_says_not_sure_and_journals_the_key(
    qtbot: QtBot, desk_session: SessionAt, demo_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot.refresh(demo_rt.db)
    keys: list[str] = []

    def reply_lost(_rt: object, _actor: object, _barcode: str, _print: object, key: str,
                   _now: object) -> None:  # fmt: skip
        keys.append(key)
        raise OutcomeUnknown("check-in", key)

    monkeypatch.setattr(checkin, "_online", reply_lost)
    screen = CheckInScreen(desk_session("desk", "SE"))
    qtbot.addWidget(screen)
    with qtbot.waitSignal(screen.scanProcessed, timeout=WAIT_MS):
        qtbot.keyClicks(screen.scan_field, IN_TRANSIT_TO_SE)
        qtbot.keyClick(screen.scan_field, Qt.Key.Key_Return)
    settle(qtbot)
    assert screen.banner.headline.text().startswith("Not sure")
    assert screen.banner.look.key == "not_sure"  # its own colour, icon and sound
    assert screen.sounds.last_sound == "not_sure"
    lines = screen.banner.lines.text()
    assert "It will be checked when the database is back" in lines
    assert "Nothing was changed" not in lines and "nothing was" not in lines.lower()
    [entry] = OfflineJournal().entries()
    assert (entry.barcode, entry.key) == (IN_TRANSIT_TO_SE, keys[0])


def test_checkout_whose_commit_reply_was_lost_says_not_sure_and_journals_the_key(
    qtbot: QtBot, desk_session: SessionAt, demo_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo_rt.db.transaction() as session:
        library_settings.save(session, offline_checkouts_allowed=True)
    screen = CheckOutScreen(desk_session("desk", "METRO"))
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    settle(qtbot)
    for name, text in (("patronInput", PATRON), ("scanInput", ON_HOLD_AT_METRO)):
        field = screen.findChild(QLineEdit, name)
        assert field is not None
        qtbot.keyClicks(field, text)
        qtbot.keyClick(field, Qt.Key.Key_Return)
        settle(qtbot)
    keys: list[str] = []

    def reply_lost(*args: object) -> None:
        key = str(args[6])  # (rt, actor, patron, barcode, strap_due, override, key, pieces)
        keys.append(key)
        raise OutcomeUnknown("check-out", key)

    monkeypatch.setattr(checkout, "_check_out_online", reply_lost)
    screen.strap_date.setDate(QDate(2026, 11, 30))
    qtbot.keyClick(screen.strap_date, Qt.Key.Key_Return)
    settle(qtbot)
    assert screen.banner.headline.text() == "Not sure it was checked out"
    assert "It will be checked when the database is back" in screen.banner.lines.text()
    [entry] = OfflineJournal().entries()
    assert (entry.action, entry.barcode, entry.patron, entry.key) == (
        OfflineAction.CHECKOUT,
        ON_HOLD_AT_METRO,
        PATRON,
        keys[0],
    )
    assert entry.provisional == f"strap_due {date(2026, 11, 30).isoformat()}"
