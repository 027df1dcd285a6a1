"""The Lending screen: a campus pulls and checks out to ILL; the office ships, chases, bills."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.lending import pull_list
from db.models import Item, ItemKind, RequestStatus
from tests.gui.scanner import scanner_scan
from tests.gui.waiting import settle
from tests.notices.test_notices_smtp import SmtpServer, free_port
from ui.desk_session import DeskSession
from ui.screens.lending_screen import LendingScreen

pytestmark = pytest.mark.gui

SessionAt = Callable[[str, str], DeskSession]


def _screen(qtbot: QtBot, session: DeskSession) -> LendingScreen:
    screen = LendingScreen(session)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    settle(qtbot)
    return screen


def test_campus_pulls_and_checks_out_with_the_yellow_flag_reminder(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("ctl", "METRO")
    screen = _screen(qtbot, session)
    assert screen.tabs.count() == 1  # no office tabs for a team lead
    pull = screen.pull
    assert pull is not None
    (number,) = pull.table.keys()
    assert pull.table.select_key(number)
    qtbot.mouseClick(pull.pulled_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "pulled" in pull.feedback.text()
    assert pull.table.keys() == [number]  # still to check out

    pull.account_input.setText("777110346")
    qtbot.mouseClick(pull.checkout_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert pull.flag_banner.isVisibleTo(screen)
    assert "YELLOW FLAG" in pull.flag_banner.text() and "WS-ILL" in pull.flag_banner.text()
    assert pull.table.keys() == []
    (view,) = [
        v for v in pull_list.list_lending(session.rt, session.actor) if v.request_number == number
    ]
    assert view.checked_out_to_ill


def test_not_on_shelf_needs_a_reason_shown_without_a_dialog(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    screen = _screen(qtbot, desk_session("ctl", "WEST"))
    pull = screen.pull
    assert pull is not None
    (number,) = pull.table.keys()
    pull.table.select_key(number)
    qtbot.mouseClick(pull.not_on_shelf_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert pull.feedback.property("tone") == "problem" and "reason" in pull.feedback.text()
    pull.reason_input.setText("Not on shelf; checked the sorting cart")
    qtbot.mouseClick(pull.not_on_shelf_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert pull.feedback.property("tone") == "good"
    assert pull.table.keys() == []


def test_office_creates_ships_and_sees_overdue_messages(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("office", "WS-ILL")
    screen = _screen(qtbot, session)
    assert screen.tabs.count() == 4 and screen.pull is None  # WS-ILL has no shelves
    requests = screen.requests
    assert requests is not None
    requests.borrower_input.setText("okt")
    requests.their_number_input.setText("660099")
    requests.item_input.setText("Principles of Economics")
    requests.pull_branch.setCurrentIndex(requests.pull_branch.findData("WEST"))
    qtbot.mouseClick(requests.create_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert requests.feedback.property("tone") == "good", requests.feedback.text()
    assert "WEST's pull list" in requests.feedback.text()

    # Shipping before the campus checked it out to ILL is refused, with what to do.
    number = requests.table.current_key()
    assert number is not None
    qtbot.mouseClick(requests.ship_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert requests.feedback.property("tone") == "problem"

    overdue = screen.overdue
    assert overdue is not None
    assert set(overdue.entries) == {
        v.request_number
        for v in pull_list.list_lending(session.rt, session.actor)
        if v.borrower_symbol in ("IXA", "UIU")
    }
    overdue.table.selectRow(0)
    body = overdue.body_edit.toPlainText()
    assert "overdue" in body.lower() or "LOST" in body
    overdue.subject_input.setText("Please return our book")
    qtbot.mouseClick(overdue.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert overdue.feedback.property("tone") == "good"
    qtbot.mouseClick(overdue.copy_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert QGuiApplication.clipboard().text().startswith("Please return our book")
    qtbot.mouseClick(overdue.sent_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert not overdue.sent_button.isEnabled()


def test_office_at_a_campus_desk_also_sees_that_campus_pull_list(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    screen = _screen(qtbot, desk_session("office", "METRO"))
    assert screen.tabs.count() == 5
    assert screen.pull is not None and len(screen.pull.table.keys()) == 1


def test_ifm_fields_ready_to_copy_and_the_ledger(qtbot: QtBot, desk_session: SessionAt) -> None:
    session = desk_session("office", "WS-ILL")
    screen = _screen(qtbot, session)  # opening the overdue list marks the 45-day item lost
    panel = screen.ifm
    assert panel is not None
    (lost,) = pull_list.list_lending(session.rt, session.actor, statuses=(RequestStatus.LOST,))
    panel.refresh()
    settle(qtbot)
    index = panel.lost_combo.findData(lost.request_number)
    assert index > 0  # the borrowed item our patron lost is listed too
    assert panel.lost_combo.count() == 3
    panel.lost_combo.setCurrentIndex(index)
    panel.lost_combo.activated.emit(index)
    settle(qtbot)
    assert panel.request_input.text() == lost.request_number
    # Before the fields are built each row says what it is, and there is nothing to copy.
    assert panel.field_labels["lenderString"].text() == "Lender string"
    assert not panel.findChild(QPushButton, "ifmCopy_title").isEnabled()
    panel.amount_input.setText("85.5.0")
    qtbot.mouseClick(panel.build_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "not an amount" in panel.feedback.text()
    panel.amount_input.setText("150")
    qtbot.mouseClick(panel.build_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    title = panel.findChild(QLineEdit, "ifmField_title")
    assert title.text() == f"{lost.title} (Replacement for request #{lost.partner_request_number})"
    assert panel.findChild(QLineEdit, "ifmField_lenderString").text() == "EXC"
    assert panel.findChild(QLineEdit, "ifmField_maxCost").text() == "150.00"
    qtbot.mouseClick(panel.findChild(QPushButton, "ifmCopy_title"), Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert QGuiApplication.clipboard().text() == title.text()

    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert panel.transactions.rowCount() == 1
    panel.dummy_input.setText("55501234")
    qtbot.mouseClick(panel.processed_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "is closed" in panel.feedback.text()
    assert panel.ledger_table.keys() == ["UIU"]
    assert "SETTLE" in panel.total_label.text() and "+150.00" in panel.total_label.text()

    # The partner's cheque: choosing UIU in the ledger fills in its whole balance.
    panel.ledger_table.select_key("UIU")
    assert (panel.settle_partner.text(), panel.settle_amount.text()) == ("UIU", "150.00")
    panel.settle_amount.setText("150.01")
    panel.settle_reference.setText("CHQ 004512")
    qtbot.mouseClick(panel.settle_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "more than the balance" in panel.feedback.text()
    assert panel.settlements_table.rowCount() == 0
    panel.settle_amount.setText("150")
    qtbot.mouseClick(panel.settle_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert "balance is now +0.00 USD" in panel.feedback.text()
    assert panel.settlements_table.rowCount() == 1
    assert panel.settlements_table.item(0, 5).text() == "CHQ 004512"
    assert panel.ledger_table.item(0, 3).text() == "+150.00"  # settled
    assert panel.ledger_table.item(0, 4).text() == "+0.00"  # balance
    assert "SETTLE" not in panel.total_label.text()


def test_partner_directory_then_the_lost_message_goes_by_e_mail(
    qtbot: QtBot, desk_session: SessionAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = SmtpServer(free_port())
    for name, value in (
        ("ILLDESK_SMTP_HOST", "127.0.0.1"),
        ("ILLDESK_SMTP_PORT", str(server.port)),
        ("ILLDESK_SMTP_STARTTLS", "0"),
        ("ILLDESK_SMTP_SENDER", "ill@example.edu"),
    ):
        monkeypatch.setenv(name, value)
    server.start()
    try:
        screen = _screen(qtbot, desk_session("office", "WS-ILL"))
        partners, overdue = screen.partners, screen.overdue
        assert partners is not None and overdue is not None
        partners.symbol_input.setText("uiu")
        partners.email_input.setText("not an address")
        qtbot.mouseClick(partners.save_button, Qt.MouseButton.LeftButton)
        settle(qtbot)
        assert "not an e-mail address" in partners.feedback.text()
        assert partners.table.rowCount() == 0
        partners.name_input.setText("University of Iowa")
        partners.email_input.setText("ill-lending@uiu.example.org")
        qtbot.mouseClick(partners.save_button, Qt.MouseButton.LeftButton)
        settle(qtbot)
        assert partners.table.keys() == ["UIU"]
        assert partners.table.item(0, 2).text() == "ill-lending@uiu.example.org"

        lost = next(k for k, e in overdue.entries.items() if e.request.borrower_symbol == "UIU")
        overdue.table.select_key(lost)
        settle(qtbot)
        assert "To UIU" in overdue.recipient_label.text()
        qtbot.mouseClick(overdue.email_button, Qt.MouseButton.LeftButton)
        settle(qtbot)
        assert overdue.feedback.text().endswith("Sent by e-mail to ill-lending@uiu.example.org.")
        [mail] = server.inbox.received
        assert mail.rcpt_tos == ["ill-lending@uiu.example.org"]
        assert str(mail.message["Subject"]) == overdue.subject_input.text()
        assert not overdue.email_button.isEnabled()  # sent: nothing left to send

        # The IFM note about the replacement goes the same way, from the IFM tab.
        panel = screen.ifm
        assert panel is not None
        panel.request_input.setText(lost)
        panel.amount_input.setText("85")
        qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
        settle(qtbot)
        panel.transactions.selectRow(0)
        qtbot.mouseClick(panel.note_button, Qt.MouseButton.LeftButton)
        settle(qtbot)
        assert panel.feedback.text().endswith(
            "IFM note sent by e-mail to ill-lending@uiu.example.org."
        )
        assert len(server.inbox.received) == 2 and "85.00" in server.inbox.received[1].body
    finally:
        server.stop()


def test_team_lead_scans_the_ill_account_then_each_item_and_strays_are_refused(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    session = desk_session("ctl", "METRO")
    screen = _screen(qtbot, session)
    screen.activateWindow()
    screen.activate()
    pull = screen.pull
    assert pull is not None
    (number,) = pull.table.keys()
    (view,) = [v for v in pull_list.pull_list(session.rt, session.actor, "METRO")]
    assert view.item_barcode is not None
    with session.rt.db.reading() as db:
        stray = db.scalar(
            select(Item.barcode).where(
                Item.kind == ItemKind.OWNED, Item.barcode != view.item_barcode
            )
        )
    assert stray is not None

    qtbot.waitUntil(pull.account_input.hasFocus)
    scanner_scan(qtbot, "ILL")  # typed or scanned: the ILL account, then Enter
    settle(qtbot)
    assert pull.feedback.property("tone") == "good" and "scan each item" in pull.feedback.text()

    scanner_scan(qtbot, stray)  # not asked for by any library
    settle(qtbot)
    assert pull.feedback.property("tone") == "problem"
    assert "not on the pull list" in pull.feedback.text()
    assert pull.flag_banner.isHidden()

    scanner_scan(qtbot, view.item_barcode)  # the item pulled, no row selected
    settle(qtbot)
    assert pull.flag_banner.isVisibleTo(screen) and "YELLOW FLAG" in pull.flag_banner.text()
    assert pull.table.keys() == []
    (after,) = [
        v for v in pull_list.list_lending(session.rt, session.actor) if v.request_number == number
    ]
    assert after.checked_out_to_ill

    qtbot.wait(1100)  # later than a scanner's double read
    scanner_scan(qtbot, view.item_barcode)  # scanned again: refused, with the reason
    settle(qtbot)
    assert pull.feedback.property("tone") == "problem"
    assert "already checked out to the ILL account" in pull.feedback.text()
