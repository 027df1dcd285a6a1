"""ReShare and ILLiad on the lending side over HTTP: RequestItem puts our item on the pull
list, CheckOutItem lends it to the ILL account with the borrower's due date, CheckInItem
routes it home, CancelRequestItem withdraws a request; LookupUser answers what was asked."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from db.models import (
    Direction,
    IllRequest,
    Item,
    ItemKind,
    ItemStatus,
    Loan,
    Patron,
    RequestStatus,
    Transit,
)
from tests.ncip import initiator as ini
from tests.ncip.conftest import Responder


def _free_own_item(responder: Responder) -> Item:
    with responder.rt.db.reading() as session:
        lent = select(IllRequest.item_id).where(IllRequest.item_id.is_not(None))
        item = session.scalar(
            select(Item)
            .where(
                Item.kind == ItemKind.OWNED,
                Item.status == ItemStatus.AVAILABLE,
                Item.id.not_in(lent),
            )
            .order_by(Item.id)
            .limit(1)
        )
        assert item is not None
        return item


def test_request_item_puts_our_item_on_the_campus_pull_list(responder: Responder) -> None:
    item = _free_own_item(responder)
    reply = ini.post(responder.port, ini.tipasa(ini.request_item("RS-1001", item.barcode)))
    reply.assert_valid()
    assert reply.problem is None, reply.body.decode()
    with responder.rt.db.reading() as session:
        request = session.scalar(
            select(IllRequest).where(IllRequest.partner_request_number == "RS-1001")
        )
        assert request is not None
        assert request.direction is Direction.LENDING and request.status is RequestStatus.TO_PULL
        assert request.pull_branch_id == item.home_branch_id
        assert request.borrower_symbol == "OKT"
    again = ini.post(
        responder.port, ini.folio_pretty(ini.request_item("RS-1001", item.barcode))
    ).assert_valid()
    assert again.body == reply.body  # the same message: the same answer, nothing new


def test_check_out_to_the_pseudopatron_then_check_in_routes_it_home(
    responder: Responder,
) -> None:
    item = _free_own_item(responder)
    ini.post(responder.port, ini.illiad(ini.request_item("RS-1002", item.barcode))).assert_valid()
    out = ini.post(
        responder.port,
        ini.illiad(ini.check_out_item(item.barcode, "pseudopatron", due="2026-12-30T23:59:00")),
    ).assert_valid()
    assert out.problem is None, out.body.decode()
    assert (out.text("DateDue") or "").startswith("2026-12-30")
    with responder.rt.db.reading() as session:
        loan = session.scalar(select(Loan).where(Loan.item_id == item.id))
        assert loan is not None and loan.returned_at is None and loan.due_date == date(2026, 12, 30)
        dummy = session.get(Patron, loan.patron_id)
        assert dummy is not None and dummy.is_ill_dummy
        request = session.scalar(
            select(IllRequest).where(IllRequest.partner_request_number == "RS-1002")
        )
        assert request is not None and request.lend_due_date == date(2026, 12, 30)
        assert request.status is RequestStatus.PULLED
    back = ini.post(responder.port, ini.illiad(ini.check_in_item(item.barcode))).assert_valid()
    assert back.problem is None, back.body.decode()
    with responder.rt.db.reading() as session:
        loan = session.scalar(select(Loan).where(Loan.item_id == item.id))
        assert loan is not None and loan.returned_at is not None
        home = session.scalar(
            select(Transit).where(Transit.item_id == item.id, Transit.received_at.is_(None))
        )
        fresh = session.get(Item, item.id)
        assert fresh is not None
        assert home is not None or fresh.status is ItemStatus.AVAILABLE
    assert back.text("LocationNameValue") is not None


def test_own_item_only_to_the_ill_account(responder: Responder) -> None:
    item = _free_own_item(responder)
    ini.post(responder.port, ini.illiad(ini.request_item("RS-1003", item.barcode))).assert_valid()
    reply = ini.post(
        responder.port, ini.illiad(ini.check_out_item(item.barcode, "T00123456"))
    ).assert_valid()
    assert reply.problem == "Unknown User"


def test_cancel_request_item_withdraws_the_request(responder: Responder) -> None:
    item = _free_own_item(responder)
    ini.post(responder.port, ini.tipasa(ini.request_item("RS-1004", item.barcode))).assert_valid()
    reply = ini.post(responder.port, ini.tipasa(ini.cancel_request_item("RS-1004")))
    reply.assert_valid()
    assert reply.problem is None, reply.body.decode()
    with responder.rt.db.reading() as session:
        request = session.scalar(
            select(IllRequest).where(IllRequest.partner_request_number == "RS-1004")
        )
        assert request is not None and request.status is RequestStatus.CANCELLED
    unknown = ini.post(responder.port, ini.tipasa(ini.cancel_request_item("RS-9999")))
    assert unknown.assert_valid().problem == "Unknown Request"


def test_lookup_user_answers_what_the_element_types_ask(responder: Responder) -> None:
    full = ini.post(
        responder.port,
        ini.tipasa(
            ini.lookup_user(
                "21000123456",
                "Name Information",
                "User Address Information",
                "User Privilege",
                "Block Or Trap",
            )
        ),
    ).assert_valid()
    assert full.text("UserIdentifierValue") == "T00123456"
    assert full.text("Surname") == "Müller"
    assert full.text("ElectronicAddressData") == "renee.muller@example.edu"
    assert full.text("AgencyUserPrivilegeType") == "student"
    bare = ini.post(responder.port, ini.no_namespace(ini.lookup_user("T00123456"))).assert_valid()
    assert bare.text("Surname") is None and bare.text("UserIdentifierValue") == "T00123456"
    unknown = ini.post(responder.port, ini.illiad(ini.lookup_user("T99999999"))).assert_valid()
    assert unknown.problem == "Unknown User"


def test_lookup_user_by_authentication_input_as_reshare_sends_it(responder: Responder) -> None:
    by_barcode = ini.post(
        responder.port,
        ini.tipasa(
            ini.lookup_user_by_authentication(
                (("Barcode Id", "21000123456"),), "Name Information", "User Address Information"
            )
        ),
    ).assert_valid()
    assert by_barcode.problem is None, by_barcode.body.decode()
    assert by_barcode.text("UserIdentifierValue") == "T00123456"
    assert by_barcode.text("Surname") == "Müller"
    by_user_id = ini.post(
        responder.port,
        ini.no_namespace(ini.lookup_user_by_authentication((("User Id", "T00123456"),))),
    ).assert_valid()
    assert by_user_id.text("UserIdentifierValue") == "T00123456"
    with_pin = ini.post(
        responder.port,
        ini.tipasa(
            ini.lookup_user_by_authentication((("Barcode Id", "21000123456"), ("PIN", "1234")))
        ),
    ).assert_valid()
    assert with_pin.problem == "Unknown Value From Known Scheme"  # no PIN is ever "checked"
    assert with_pin.text("Surname") is None
    nothing = ini.post(
        responder.port, ini.tipasa(ini.lookup_user_by_authentication((("Email", "x@y"),)))
    ).assert_valid()
    assert nothing.problem == "Needed Data Missing"
