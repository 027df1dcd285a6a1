"""Multi-piece items and request citations at the window (pytest-qt), as staff meet them.

Check In says the pieces on the banner and offers "A piece is missing" without a dialog;
Check Out asks for every piece to be confirmed before the loan; the ILL office receives
with the piece count, sees and clears missing pieces, and enters volume, issue and pages.
The clock is the fixed test clock: Monday 2 November 2026.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.borrowing.missing_pieces import missing_pieces, report_missing_piece
from app.borrowing.receiving import ReceiveForm, receive_item
from app.desk.checkin import check_in
from app.library.runtime import Runtime
from app.people.staff import actor_for
from db.models import HoldShelfEntry, IllRequest, Item, Loan, MissingPiece
from tests.gui.waiting import settle
from ui.desk_session import DeskSession
from ui.screens.check_in_screen import CheckInScreen
from ui.screens.check_out_screen import CheckOutScreen
from ui.screens.ill_office_screen import IllOfficeScreen

pytestmark = pytest.mark.gui

SessionAt = Callable[[str, str], DeskSession]
TWO = "2 pieces: check that both are here."
WAIT_MS = 10_000


def _two_pieces(session: DeskSession, *, arrived: bool) -> str:
    """A two-piece item for Renée at METRO: in the mail, or on METRO's hold shelf."""
    rt = session.rt
    received = receive_item(
        rt,
        actor_for(rt, "office", "WS-ILL", "test-desk"),
        ReceiveForm("20261001", "OKT", date(2026, 12, 1), pieces=2),
    )
    if arrived:
        check_in(rt, actor_for(rt, "desk", "METRO", "test-desk"), received.strap_barcode)
    return received.strap_barcode


def _scan(qtbot: QtBot, screen: CheckInScreen, barcode: str) -> None:
    with qtbot.waitSignal(screen.scanProcessed, timeout=WAIT_MS):
        qtbot.keyClicks(screen.scan_field, barcode)
        qtbot.keyClick(screen.scan_field, Qt.Key.Key_Return)


def _flags(rt: Runtime) -> list[MissingPiece]:
    with rt.db.reading() as session:
        return list(session.scalars(select(MissingPiece)))


def test_check_in_says_the_pieces_and_flags_a_missing_one_without_a_dialog(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("desk", "METRO")
    barcode = _two_pieces(session, arrived=False)
    screen = CheckInScreen(session)
    qtbot.addWidget(screen)
    screen.resize(1100, 800)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    screen.activate()
    qtbot.waitUntil(screen.scan_field.hasFocus, timeout=WAIT_MS)
    _scan(qtbot, screen, barcode)
    assert screen.banner.lines.text().splitlines()[0] == TWO
    assert screen.missing_piece_button.isVisible()
    assert QApplication.activeModalWidget() is None
    qtbot.mouseClick(screen.missing_piece_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "flagged for the ILL office" in screen.note.text()
    [flag] = _flags(session.rt)
    assert flag.branch_id is not None and flag.cleared_at is None
    assert QApplication.activeModalWidget() is None
    # The next scan goes on as always; a single-piece answer takes the button away.
    qtbot.waitUntil(screen.scan_field.hasFocus, timeout=WAIT_MS)
    _scan(qtbot, screen, "NOSUCH0001")
    assert not screen.missing_piece_button.isVisible()


def test_check_out_waits_for_the_pieces_to_be_ticked(qtbot: QtBot, desk_session: SessionAt) -> None:
    session = desk_session("desk", "METRO")
    barcode = _two_pieces(session, arrived=True)
    screen = CheckOutScreen(session)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activate()
    settle(qtbot)
    patron = screen.findChild(QLineEdit, "patronInput")
    scan = screen.findChild(QLineEdit, "scanInput")
    assert patron is not None and scan is not None
    qtbot.keyClicks(patron, "T00123456")
    qtbot.keyClick(patron, Qt.Key.Key_Return)
    settle(qtbot)
    qtbot.keyClicks(scan, barcode)
    qtbot.keyClick(scan, Qt.Key.Key_Return)
    settle(qtbot)
    assert screen.pending is not None and screen.pieces_confirm.isVisible()
    shown = screen.pieces_confirm.text().replace("&", "")
    assert shown == "2 pieces: check that both are here"
    screen.confirm_box.use_recorded()  # the strap shows the date on record
    qtbot.keyClick(scan, Qt.Key.Key_Return)  # Enter without ticking: no loan yet
    settle(qtbot)
    assert _loan(session.rt, barcode) is None
    assert screen.banner.headline.text().startswith(TWO)  # said, and nothing written
    assert screen.pending is not None  # still waiting for the confirmation
    screen.pieces_confirm.setChecked(True)
    qtbot.keyClick(scan, Qt.Key.Key_Return)
    settle(qtbot)
    assert _loan(session.rt, barcode) is not None
    assert not screen.pieces_confirm.isVisible()


def _loan(rt: Runtime, barcode: str) -> Loan | None:
    with rt.db.reading() as session:
        return session.scalar(
            select(Loan)
            .join(Item, Item.id == Loan.item_id)
            .where(Item.barcode == barcode, Loan.returned_at.is_(None))
        )


@pytest.fixture
def office(qtbot: QtBot, desk_session: SessionAt) -> IllOfficeScreen:
    widget = IllOfficeScreen(desk_session("office", "WS-ILL"))
    qtbot.addWidget(widget)
    widget.show()
    widget.activate()
    settle(qtbot)
    return widget


def test_the_office_receives_with_the_piece_count_and_clears_a_missing_piece(
    qtbot: QtBot, office: IllOfficeScreen
) -> None:
    tab = office.receive_tab
    qtbot.keyClicks(tab.request_input, "20261001")
    qtbot.keyClick(tab.request_input, Qt.Key.Key_Return)
    settle(qtbot)
    qtbot.keyClicks(tab.lender_input, "okt")
    qtbot.keyClicks(tab.due_input, "2026-12-14")
    tab.pieces_input.setValue(2)
    with qtbot.waitSignal(tab.received, timeout=WAIT_MS) as received:
        qtbot.mouseClick(tab.receive_button, Qt.MouseButton.LeftButton)
        settle(qtbot)
    result = received.args[0]
    assert result.pieces == 2 and TWO in tab.message.text()
    assert tab.pieces_input.value() == 1  # nothing kept for the next parcel
    rt = office.session.rt
    desk = actor_for(rt, "desk", "METRO", "test-desk")
    check_in(rt, desk, result.strap_barcode)
    report_missing_piece(rt, desk, result.strap_barcode, "the CD")
    lists = office.lists_tab
    lists.choice.setCurrentIndex(lists.LISTS.index("Missing pieces"))
    settle(qtbot)
    assert lists.table.rowCount() == 1
    assert lists.table.text(0, 1) == result.strap_barcode
    assert lists.table.text(0, 4) == "the CD"
    lists.table.selectRow(0)
    qtbot.keyClicks(lists.note_input, "CD found in the box")
    qtbot.mouseClick(lists.review_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert lists.table.rowCount() == 0
    assert missing_pieces(rt, office.session.actor) == []


def test_the_request_form_takes_volume_issue_and_pages(
    qtbot: QtBot, office: IllOfficeScreen
) -> None:
    tab = office.requests_tab
    qtbot.keyClicks(tab.patron_input, "T00123456")
    qtbot.keyClicks(tab.title_input, "Collected Papers")
    qtbot.keyClicks(tab.volume_input, "2")
    qtbot.keyClicks(tab.issue_input, "4")
    qtbot.keyClicks(tab.pages_input, "112-140")
    qtbot.keyClicks(tab.pickup_input, "METRO")
    tab.place()
    settle(qtbot)
    assert "placed" in tab.message.text()
    with office.session.rt.db.reading() as session:
        placed = session.scalar(select(IllRequest).where(IllRequest.title == "Collected Papers"))
        assert placed is not None and (placed.volume, placed.issue) == ("2", "4")
    titles = [tab.table.text(r, 3) for r in range(tab.table.rowCount())]
    assert "Collected Papers (v. 2, no. 4, pp. 112-140)" in titles
    assert tab.volume_input.text() == ""  # cleared for the next request


def test_the_renewals_tab_records_a_recall_and_the_pickup_by_date_follows(
    qtbot: QtBot, office: IllOfficeScreen
) -> None:
    rt = office.session.rt
    received = receive_item(
        rt,
        actor_for(rt, "office", "WS-ILL", "test-desk"),
        ReceiveForm("20261002", "OKT", date(2026, 12, 1)),  # onto NEC's hold shelf
    )
    tab = office.renewals_tab
    qtbot.keyClicks(tab.number_input, "20261002")
    tab.recall.setChecked(True)
    assert tab.due_input.isEnabled()
    tab.due_input.setDate(QDate(2026, 11, 4))
    tab.record()
    settle(qtbot)
    assert f"Recalled: {received.strap_barcode} now due 2026-11-04" in tab.message.text()
    assert "Pick up by 2026-11-04 now; the patron will be told." in tab.message.text()
    with rt.db.reading() as session:
        pickup = session.scalar(
            select(HoldShelfEntry.pickup_by)
            .join(Item, Item.id == HoldShelfEntry.item_id)
            .where(Item.barcode == received.strap_barcode)
        )
    assert pickup == date(2026, 11, 4)
