"""The ILL Office screen driven as the office would: receive -> strap -> transit (pytest-qt).

The clock is the fixed test clock: Monday 2 November 2026.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, QMarginsF, QSizeF, Qt
from PySide6.QtGui import QPageSize
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.desk.checkout import check_out
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.printing.document import PrintDocument
from db.models import Item, ItemStatus, Transit
from tests.demo_items import held_item, set_lender_date
from tests.gui.waiting import settle
from tests.strap_pdf import all_text, barcode_bars, decode_code128, pages
from ui.desk_session import DeskSession
from ui.screens.ill_office_screen import IllOfficeScreen

pytestmark = pytest.mark.gui

SessionAt = Callable[[str, str], DeskSession]


@pytest.fixture
def screen(qtbot: QtBot, desk_session: SessionAt) -> Iterator[IllOfficeScreen]:
    widget = IllOfficeScreen(desk_session("office", "WS-ILL"))
    qtbot.addWidget(widget)
    widget.show()
    widget.activate()
    settle(qtbot)
    yield widget
    widget.printer.wait()
    settle(qtbot)


def test_receive_makes_the_strap_and_starts_the_transit(
    qtbot: QtBot, screen: IllOfficeScreen, tmp_path: Path
) -> None:
    tab = screen.receive_tab
    assert tab.request_input.hasFocus()
    qtbot.keyClicks(tab.request_input, "20261001")
    qtbot.keyClick(tab.request_input, Qt.Key.Key_Return)
    settle(qtbot)
    assert "The Structure of Scientific Revolutions" in tab.request_info.text()
    assert "METRO" in tab.request_info.text()
    assert tab.lender_input.hasFocus()
    assert tab.due_input.text() == ""  # no date nobody read
    qtbot.keyClicks(tab.lender_input, "okt")
    qtbot.keyClicks(tab.due_input, "2026-12-14")
    with (
        qtbot.waitSignal(tab.received, timeout=5000) as received,
        qtbot.waitSignal(tab.previewReady, timeout=10000),
    ):
        qtbot.mouseClick(tab.receive_button, Qt.MouseButton.LeftButton)
        settle(qtbot)
    result = received.args[0]
    assert result.destination == "METRO"
    assert result.strap_barcode in tab.message.text()
    assert "send it to METRO" in tab.message.text()
    assert tab.preview.pixmap() is not None and not tab.preview.pixmap().isNull()
    assert tab.request_input.hasFocus() and tab.request_input.text() == ""

    rt = screen.session.rt
    with rt.db.reading() as session:
        item = session.scalar(select(Item).where(Item.barcode == result.strap_barcode))
        assert item is not None and item.status is ItemStatus.IN_TRANSIT
        assert item.lender_due_date == date(2026, 12, 14)
        transit = session.scalar(select(Transit).where(Transit.item_id == item.id))
        assert transit is not None and transit.received_at is None

    saved = tmp_path / "strap.pdf"
    with qtbot.waitSignal(screen.printer.done, timeout=10000):
        tab.save_strap(saved)
    pdf = saved.read_bytes()
    assert [decode_code128(s) for s in barcode_bars(pdf)] == [result.strap_barcode]
    assert "METRO" in all_text(pdf) and "DEC 14, 2026" in all_text(pdf)
    assert "Saved" in screen.status.text()


def test_receive_starts_with_an_empty_due_date_and_enter_receives_when_complete(
    qtbot: QtBot, screen: IllOfficeScreen
) -> None:
    tab = screen.receive_tab
    for number, lender, due in (("20261001", "okt", "2026-12-14"), ("20261002", "txa", "20261221")):
        assert tab.due_input.text() == ""  # no date filled in, none kept from the last item
        qtbot.keyClicks(tab.request_input, number)
        qtbot.keyClick(tab.request_input, Qt.Key.Key_Return)
        settle(qtbot)
        assert tab.lender_input.hasFocus()
        tab.lender_input.clear()
        qtbot.keyClicks(tab.lender_input, lender)
        qtbot.keyClick(tab.lender_input, Qt.Key.Key_Return)  # the form is not complete yet
        settle(qtbot)
        assert "lender's due date" in tab.message.text() and tab.due_input.hasFocus()
        assert tab.last is None or tab.last.request_number != number  # nothing received
        qtbot.keyClicks(tab.due_input, due)
        with qtbot.waitSignal(tab.received, timeout=5000) as received:
            qtbot.keyClick(tab.due_input, Qt.Key.Key_Return)
        assert received.args[0].request_number == number
        settle(qtbot)
    with screen.session.rt.db.reading() as session:
        dates = session.scalars(select(Item.lender_due_date).order_by(Item.id.desc()).limit(2))
        assert sorted(dates) == [date(2026, 12, 14), date(2026, 12, 21)]
    qtbot.keyClicks(tab.request_input, "20261003")
    qtbot.keyClick(tab.request_input, Qt.Key.Key_Return)
    settle(qtbot)
    qtbot.keyClicks(tab.lender_input, "IXA")
    qtbot.keyClicks(tab.due_input, "14/12/26")
    qtbot.keyClick(tab.due_input, Qt.Key.Key_Return)
    settle(qtbot)
    assert "14/12/26 is not a date" in tab.message.text()
    assert tab.message.property("error") is True


def test_receiving_twice_says_why_without_a_dialog(qtbot: QtBot, screen: IllOfficeScreen) -> None:
    tab = screen.receive_tab
    for _ in range(2):
        tab.request_input.setText("20261001")
        tab.lender_input.setText("OKT")
        tab.due_input.setText("2026-12-14")
        qtbot.mouseClick(tab.receive_button, Qt.MouseButton.LeftButton)
        settle(qtbot)
    assert "already received" in tab.message.text()
    assert tab.message.property("error") is True
    tab.request_input.setText("12345678")
    qtbot.keyClick(tab.request_input, Qt.Key.Key_Return)
    settle(qtbot)
    assert "no ILL request 12345678" in tab.message.text()


def test_strap_prints_through_qt_off_the_gui_thread(
    qtbot: QtBot, screen: IllOfficeScreen, tmp_path: Path
) -> None:
    tab = screen.receive_tab
    tab.request_input.setText("20261002")
    tab.lender_input.setText("TXA")
    tab.due_input.setText("2026-12-14")
    tab.in_library_input.setChecked(True)
    with qtbot.waitSignal(tab.received, timeout=5000) as received:
        qtbot.mouseClick(tab.receive_button, Qt.MouseButton.LeftButton)
        settle(qtbot)
    assert received.args[0].destination == "NEC"  # the ILL office's campus: hold shelf
    release = threading.Event()
    painter_threads: list[threading.Thread] = []

    def slow_document() -> PrintDocument:
        painter_threads.append(threading.current_thread())
        release.wait(10)
        return tab._strap_document()

    target = tmp_path / "printed.pdf"
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(target))
    printer.setPageSize(QPageSize(QSizeF(612, 792), QPageSize.Unit.Point))
    printer.setPageMargins(QMarginsF(0, 0, 0, 0))
    screen.printer.print_to(slow_document, printer)
    assert not target.exists()  # the call returned while the job still waits: no freeze
    with qtbot.waitSignal(screen.printer.done, timeout=20000):
        release.set()
    assert painter_threads and painter_threads[0] is not threading.main_thread()
    assert len(pages(target.read_bytes())) == 2  # front and back
    assert "to " in screen.status.text()


def test_no_printer_is_a_message_not_a_crash(
    qtbot: QtBot, screen: IllOfficeScreen, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ui.printing.QPrinterInfo.availablePrinterNames", staticmethod(lambda: []))
    tab = screen.receive_tab
    tab.request_input.setText("20261003")
    tab.lender_input.setText("IXA")
    tab.due_input.setText("2026-12-14")
    qtbot.mouseClick(tab.receive_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    tab.print_strap(choose=False)
    settle(qtbot)
    assert "No printer" in screen.status.text()


def test_other_tabs_work_from_the_same_services(qtbot: QtBot, screen: IllOfficeScreen) -> None:
    titles = [screen.tabs.tabText(i) for i in range(screen.tabs.count())]
    assert titles == [
        "Receive", "Requests", "Renewals", "Ship back", "Lists", "Charges", "Notices", "NCIP",
    ]  # fmt: skip
    ship = screen.ship_back_tab
    screen.tabs.setCurrentWidget(ship)
    settle(qtbot)
    assert ship.table.rowCount() == 1
    qtbot.keyClicks(ship.scan_input, "ILL00000141")
    qtbot.keyClick(ship.scan_input, Qt.Key.Key_Return)
    settle(qtbot)
    assert "shipped to TXA" in ship.message.text()
    assert ship.table.rowCount() == 0

    renewals = screen.renewals_tab
    renewals.number_input.setText("20261012")
    renewals.due_input.setDate(QDate(2026, 12, 30))
    button = renewals.findChild(QPushButton, "recordRenewalButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "now due 2026-12-30" in renewals.message.text()

    requests = screen.requests_tab
    screen.tabs.setCurrentWidget(requests)
    settle(qtbot)
    requests.status_filter.setCurrentIndex(1)  # requested
    settle(qtbot)
    assert requests.table.rowCount() == 3
    requests.table.selectRow(0)
    requests.reason_input.setEditText("")
    requests.cancel()
    settle(qtbot)
    assert "needs a reason" in requests.message.text()
    requests.reason_input.setEditText("Duplicate request.")
    requests.cancel()
    settle(qtbot)
    assert "cancelled" in requests.message.text()
    assert requests.table.rowCount() == 2
    requests.reason_input.setEditText("Lender cannot supply in time.")
    qtbot.mouseClick(requests.findChild(QPushButton, "listReasonButton"), Qt.MouseButton.LeftButton)
    settle(qtbot)
    offered = [requests.reason_input.itemText(i) for i in range(requests.reason_input.count())]
    assert "Lender cannot supply in time." in offered

    lists = screen.lists_tab
    screen.tabs.setCurrentWidget(lists)
    settle(qtbot)
    lists.choice.setCurrentIndex(1)  # in transit
    settle(qtbot)
    assert lists.table.rowCount() == 4
    lists.choice.setCurrentIndex(2)  # hold shelves
    settle(qtbot)
    assert lists.table.rowCount() == 4


def test_a_strap_that_cannot_be_made_still_leaves_the_item_received(
    qtbot: QtBot, screen: IllOfficeScreen, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.library.errors import InvalidInput
    from app.printing import straps

    def refuse(*_args: object, **_kwargs: object) -> PrintDocument:
        raise InvalidInput("The strap colour setting 'teal-ish' is not a colour like #1f6f43.")

    monkeypatch.setattr(straps, "strap_document", refuse)
    tab = screen.receive_tab
    tab.request_input.setText("20261001")
    tab.lender_input.setText("OKT")
    tab.due_input.setText("2026-12-14")
    with qtbot.waitSignal(tab.received, timeout=5000) as received:
        qtbot.mouseClick(tab.receive_button, Qt.MouseButton.LeftButton)
    assert received.args[0].destination == "METRO"
    assert "send it to METRO" in tab.message.text() and "teal-ish" in tab.message.text()
    assert tab.message.property("error") is True
    assert not tab.print_button.isEnabled() and not tab.save_button.isEnabled()


def test_discrepancy_tab_shows_the_three_dates_and_why(
    qtbot: QtBot, screen: IllOfficeScreen, actor_at: Callable[[str, str], Actor]
) -> None:
    rt = screen.session.rt
    barcode = held_item(rt, "T00123456")  # waits at METRO, closed on Saturdays
    set_lender_date(rt, barcode, date(2026, 12, 2))
    check_out(rt, actor_at("desk", "METRO"), "T00123456", barcode, strap_due=date(2026, 12, 12))
    lists = screen.lists_tab
    screen.tabs.setCurrentWidget(lists)
    settle(qtbot)
    lists.choice.setCurrentIndex(4)  # due-date discrepancies
    settle(qtbot)
    table = lists.table
    assert table.rowCount() == 1
    row = {h: table.text(0, c) for c, h in enumerate(table.headers())}
    assert (row["System date"], row["Strap date"], row["Due date"]) == (
        "2026-12-02", "2026-12-12", "2026-12-11",
    )  # fmt: skip
    assert "moved" in row["Why"] and "Saturday" in row["Why"]


def test_hold_shelf_list_marks_holds_past_pickup_by(
    qtbot: QtBot, screen: IllOfficeScreen, clock: FixedClock
) -> None:
    clock.set_date(date(2026, 11, 11))  # the demo's holds waited until 10 November
    lists = screen.lists_tab
    screen.tabs.setCurrentWidget(lists)
    settle(qtbot)
    lists.choice.setCurrentIndex(2)  # hold shelves
    settle(qtbot)
    table = lists.table
    expired = table.headers().index("Expired")
    marks = {table.text(r, expired) for r in range(table.rowCount())}
    assert table.rowCount() == 4 and marks == {"(expired): pull it"}


def _pdf_printer(target: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(target))
    printer.setPageSize(QPageSize(QSizeF(612, 792), QPageSize.Unit.Point))
    printer.setPageMargins(QMarginsF(0, 0, 0, 0))
    return printer


def _waiting(screen: IllOfficeScreen) -> list[str]:
    from app.borrowing.strap_queue import waiting_straps

    return [w.strap_barcode for w in waiting_straps(screen.session.rt, screen.session.actor)]


def test_straps_to_print_lists_arrivals_and_prints_them_as_one_batch(
    qtbot: QtBot, screen: IllOfficeScreen, tmp_path: Path, actor_at: Callable[[str, str], Actor]
) -> None:
    from app.borrowing.receiving import ReceiveForm, receive_item

    tab = screen.receive_tab
    assert tab.queue_label.text() == "Straps to print (0)"
    assert "No straps waiting" in tab.queue_note.text()  # and why: it says what would wait
    assert not tab.queue_print_button.isEnabled() and not tab.queue_save_button.isEnabled()

    tab.request_input.setText("20261001")
    tab.lender_input.setText("OKT")
    tab.due_input.setText("2026-12-14")  # typed from the lender's paperwork
    with qtbot.waitSignal(tab.received, timeout=5000) as received:
        qtbot.mouseClick(tab.receive_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    here = received.args[0].strap_barcode
    assert tab.queue_label.text() == "Straps to print (1)"  # not printed yet: it waits
    # The ILL system receives one while the office is away (what AcceptItem does).
    away = receive_item(
        screen.session.rt,
        actor_at("office", "WS-ILL"),
        ReceiveForm("20261003", "IXA", date(2026, 12, 14)),
    ).strap_barcode
    screen.activate()
    settle(qtbot)
    assert tab.queue_label.text() == "Straps to print (2)"
    assert tab.queue_print_button.isEnabled()

    saved = tmp_path / "waiting.pdf"
    with qtbot.waitSignal(screen.printer.done, timeout=20000):
        tab.save_waiting(saved)
        settle(qtbot)
    settle(qtbot)
    assert [decode_code128(b) for b in barcode_bars(saved.read_bytes())] == [here, away]
    assert tab.queue_label.text() == "Straps to print (0)"
    assert "No straps waiting" in tab.queue_note.text()
    assert _waiting(screen) == []

    later = receive_item(
        screen.session.rt,
        actor_at("office", "WS-ILL"),
        ReceiveForm("20261002", "TXA", date(2026, 12, 14)),
    ).strap_barcode
    screen.activate()
    settle(qtbot)
    assert tab.queue_label.text() == "Straps to print (1)" and _waiting(screen) == [later]
    printed = tmp_path / "printed.pdf"
    with qtbot.waitSignal(screen.printer.done, timeout=20000):
        tab.print_waiting(_pdf_printer(printed))
        settle(qtbot)
    settle(qtbot)
    assert len(pages(printed.read_bytes())) == 2  # front and back, on the printer
    assert tab.queue_label.text() == "Straps to print (0)" and _waiting(screen) == []


def test_a_cancelled_print_leaves_the_strap_waiting_until_saved(
    qtbot: QtBot, screen: IllOfficeScreen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtPrintSupport import QPrintDialog, QPrinterInfo

    monkeypatch.setattr(
        "ui.printing.QPrinterInfo.availablePrinterNames", staticmethod(lambda: ["Office"])
    )
    monkeypatch.setattr(
        "ui.printing.QPrinterInfo.defaultPrinter", staticmethod(lambda: QPrinterInfo())
    )
    monkeypatch.setattr(QPrintDialog, "exec", lambda _self: QPrintDialog.DialogCode.Rejected)
    tab = screen.receive_tab
    tab.request_input.setText("20261001")
    tab.lender_input.setText("OKT")
    tab.due_input.setText("2026-12-14")  # typed from the lender's paperwork
    with qtbot.waitSignal(tab.received, timeout=5000) as received:
        qtbot.mouseClick(tab.receive_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    strap = received.args[0].strap_barcode
    tab.print_strap(choose=True)  # staff cancel the print dialog
    settle(qtbot)
    assert "not printed" in tab.message.text()
    assert tab.queue_label.text() == "Straps to print (1)" and _waiting(screen) == [strap]

    with qtbot.waitSignal(screen.printer.done, timeout=10000):
        tab.save_strap(tmp_path / "strap.pdf")
    settle(qtbot)
    assert tab.queue_label.text() == "Straps to print (0)" and _waiting(screen) == []
