"""Check Out while the shared database cannot be reached: journaled when the library allows
it (and checked out by the replay), refused in plain words when it does not.

The clock is the fixed test clock: Monday 2 November 2026.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.desk import checkout
from app.desk.offline_fallback import OFFLINE_NOT_ALLOWED
from app.library import library_settings
from app.library.errors import DatabaseUnavailable
from app.library.runtime import Runtime
from app.offline.journal import OfflineAction, OfflineJournal
from app.offline.replay import EntryStatus, replay_file, replay_journal
from db.models import Item, ItemStatus, Loan, Patron
from tests.gui.waiting import settle
from tests.signed_in import as_desk
from ui.desk_session import DeskSession
from ui.offline_mode import OfflineMode
from ui.screens import check_out_screen, patrons_screen
from ui.screens.check_out_screen import CheckOutScreen
from ui.status_bar import DeskStatusBar

pytestmark = pytest.mark.gui

SessionAt = Callable[[str, str], DeskSession]
WAIT_MS = 10_000
ON_HOLD_AT_METRO = "ILL00000042"  # waiting on the METRO hold shelf for T00123456
PATRON = "T00123456"
SAVED = (
    "Saved offline: checked out when the database is back; due date is provisional: "
    "the lender's date on the strap, Monday 30 November 2026."
)


@pytest.fixture
def backend() -> str:
    return "sqlite"


def unreachable(*_args: object, **_kwargs: object) -> None:
    raise DatabaseUnavailable("The database cannot be reached (server closed).")


def desk_journal() -> OfflineJournal:
    return OfflineJournal()


@contextmanager
def database_away() -> Iterator[None]:
    """Inside, every read and write the screen makes fails as if the server had gone."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(patrons_screen, "find_patrons", unreachable)
        patch.setattr(check_out_screen, "patron_view", unreachable)
        patch.setattr(check_out_screen, "preview_checkout", unreachable)
        # The service itself decides to journal: only its database part is taken away.
        patch.setattr(checkout, "_check_out_online", unreachable)
        yield


def allow_offline_checkouts(rt: Runtime) -> None:
    with rt.db.transaction() as session:
        library_settings.save(session, offline_checkouts_allowed=True)


def open_screen(qtbot: QtBot, session: DeskSession) -> CheckOutScreen:
    screen = CheckOutScreen(session)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activate()
    settle(qtbot)
    return screen


def type_into(qtbot: QtBot, screen: CheckOutScreen, name: str, text: str) -> None:
    field = screen.findChild(QLineEdit, name)
    assert field is not None
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    settle(qtbot)


def loan_holder(rt: Runtime, barcode: str) -> str | None:
    with rt.db.reading() as session:
        return session.scalar(
            select(Patron.patron_id)
            .join(Loan, Loan.patron_id == Patron.id)
            .join(Item, Item.id == Loan.item_id)
            .where(Item.barcode == barcode, Loan.returned_at.is_(None))
        )


def status_of(rt: Runtime, barcode: str) -> ItemStatus | None:
    with rt.db.reading() as session:
        return session.scalar(select(Item.status).where(Item.barcode == barcode))


def test_allowed_checkout_is_journaled_counted_and_replayed_when_the_database_is_back(
    qtbot: QtBot, desk_session: SessionAt, demo_rt: Runtime
) -> None:
    allow_offline_checkouts(demo_rt)
    session = desk_session("desk", "METRO")
    down = {"now": True}

    def probe() -> None:
        if down["now"]:
            unreachable()

    status = DeskStatusBar(session, None, probe)
    qtbot.addWidget(status)
    offline = OfflineMode(session, status, status)
    screen = open_screen(qtbot, session)
    with database_away():
        type_into(qtbot, screen, "patronInput", PATRON.lower())
        assert screen.banner.headline.text() == f"Offline: checking out to {PATRON}"
        type_into(qtbot, screen, "scanInput", ON_HOLD_AT_METRO)
        assert not screen.confirm_box.isHidden()
        assert "offline" in screen.confirm_title.text()
        screen.strap_date.setDate(QDate(2026, 11, 30))  # the lender's date read on the strap
        settle(qtbot)
        type_into(qtbot, screen, "scanInput", "")  # Enter on the empty scan field confirms

        assert screen.banner.headline.text() == f"Saved offline: {ON_HOLD_AT_METRO} for {PATRON}"
        assert screen.banner.lines.text() == SAVED
        assert screen.confirm_box.isHidden()
        [entry] = desk_journal().entries()
        assert (entry.action, entry.patron, entry.barcode, entry.branch, entry.staff) == (
            OfflineAction.CHECKOUT,
            PATRON,
            ON_HOLD_AT_METRO,
            "METRO",
            "desk",
        )
        # The journaled checkout makes the status bar check the connection at once.
        qtbot.waitUntil(lambda: status.reachable is False, timeout=WAIT_MS)
        assert offline.label.text() == "offline: 1 scans waiting"
    assert status_of(demo_rt, ON_HOLD_AT_METRO) is ItemStatus.ON_HOLD_SHELF  # not yet

    down["now"] = False
    with qtbot.waitSignal(offline.replayFinished, timeout=WAIT_MS) as blocker:
        status.check_now()
    report = blocker.args[0]
    assert [e.status for e in report.entries] == [EntryStatus.APPLIED]
    assert status_of(demo_rt, ON_HOLD_AT_METRO) is ItemStatus.CHECKED_OUT
    assert loan_holder(demo_rt, ON_HOLD_AT_METRO) == PATRON
    assert offline.waiting == 0
    again = replay_file(
        demo_rt, as_desk(demo_rt), Path(report.archived)
    )  # the same journal twice: nothing new
    assert [e.status for e in again.entries] == [EntryStatus.ALREADY_APPLIED]
    offline.stop()
    status.stop()


def test_database_lost_between_scan_and_confirm_journals_the_proposed_checkout(
    qtbot: QtBot, desk_session: SessionAt, demo_rt: Runtime
) -> None:
    allow_offline_checkouts(demo_rt)
    screen = open_screen(qtbot, desk_session("desk", "METRO"))
    type_into(qtbot, screen, "patronInput", PATRON)
    type_into(qtbot, screen, "scanInput", ON_HOLD_AT_METRO)  # previewed online
    screen.strap_date.setDate(QDate(2026, 11, 30))
    settle(qtbot)
    with database_away():
        qtbot.keyClick(screen.strap_date, Qt.Key.Key_Return)
        settle(qtbot)
    assert screen.banner.lines.text() == SAVED
    assert [(e.patron, e.barcode) for e in desk_journal().entries()] == [(PATRON, ON_HOLD_AT_METRO)]
    report = replay_journal(demo_rt, as_desk(demo_rt), desk_journal())
    assert [e.status for e in report.entries] == [EntryStatus.APPLIED]
    assert loan_holder(demo_rt, ON_HOLD_AT_METRO) == PATRON


def test_offline_input_is_checked_before_anything_is_saved(
    qtbot: QtBot, desk_session: SessionAt, demo_rt: Runtime
) -> None:
    allow_offline_checkouts(demo_rt)
    screen = open_screen(qtbot, desk_session("desk", "METRO"))
    with database_away():
        type_into(qtbot, screen, "patronInput", "muller")  # a name needs the database
        assert "campus ID (like T00123456)" in screen.banner.lines.text()
        assert screen.offline_patron is None

        type_into(qtbot, screen, "patronInput", PATRON)
        type_into(qtbot, screen, "scanInput", ON_HOLD_AT_METRO)
        type_into(qtbot, screen, "scanInput", "")  # the strap date was not typed (still today)
        assert screen.banner.headline.text() == "Enter the strap date"
        assert not screen.confirm_box.isHidden()
    assert desk_journal().entries() == []


def test_not_allowed_says_keep_it_on_the_shelf_and_journals_nothing(
    qtbot: QtBot, desk_session: SessionAt, demo_rt: Runtime
) -> None:
    screen = open_screen(qtbot, desk_session("desk", "METRO"))  # the library default: no
    type_into(qtbot, screen, "patronInput", PATRON)
    with database_away():
        type_into(qtbot, screen, "scanInput", ON_HOLD_AT_METRO)  # the preview cannot be made
        assert screen.banner.headline.text() == "Database unavailable"
        assert screen.banner.lines.text() == OFFLINE_NOT_ALLOWED
        assert screen.confirm_box.isHidden()

        type_into(qtbot, screen, "patronInput", PATRON)  # nor can the lookup
        assert screen.banner.lines.text() == OFFLINE_NOT_ALLOWED
        type_into(qtbot, screen, "scanInput", "")
    assert not desk_journal().path.exists()
    assert status_of(demo_rt, ON_HOLD_AT_METRO) is ItemStatus.ON_HOLD_SHELF


def test_setting_that_cannot_be_read_means_not_allowed(
    qtbot: QtBot, desk_session: SessionAt, demo_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_offline_checkouts(demo_rt)
    monkeypatch.setattr(library_settings, "load", unreachable)
    screen = open_screen(qtbot, desk_session("desk", "METRO"))
    with database_away():
        type_into(qtbot, screen, "patronInput", PATRON)
    assert screen.banner.lines.text() == OFFLINE_NOT_ALLOWED
    assert not desk_journal().path.exists()
