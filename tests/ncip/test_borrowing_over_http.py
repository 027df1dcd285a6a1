"""The ILL system drives borrowing over real HTTP: AcceptItem, CheckOutItem, CheckInItem,
RenewItem, DeleteItem, in the shapes ILLiad, Tipasa and FOLIO send; every answer validates
against the NCIP 2.02 schema and the database shows what the desk would have done."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from db.models import (
    AuditEvent,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    Item,
    ItemStatus,
    Loan,
    NcipMessage,
    RequestStatus,
    Transit,
)
from tests.ncip import initiator as ini
from tests.ncip.conftest import Responder, set_library

pytestmark = pytest.mark.through_pgbouncer


def _item(responder: Responder, barcode: str) -> Item:
    with responder.rt.db.reading() as session:
        item = session.scalar(select(Item).where(Item.barcode == barcode))
        assert item is not None
        return item


def test_illiad_accept_item_creates_the_request_receives_it_and_sends_it_to_pickup(
    responder: Responder,
) -> None:
    reply = ini.post(
        responder.port, ini.illiad(ini.accept_item("30001234", pickup="SE")), content_type=""
    ).assert_valid()
    assert reply.status == 200 and reply.problem is None
    strap = reply.text("ItemIdentifierValue")
    assert strap is not None and strap.startswith("ILL")
    assert reply.text("RequestIdentifierValue") == "30001234"
    item = _item(responder, strap)
    assert item.status is ItemStatus.IN_TRANSIT
    assert item.lender_due_date == date(2026, 12, 20)
    assert item.title == "Gödel, Escher, Bach"
    with responder.rt.db.reading() as session:
        request = session.scalar(select(IllRequest).where(IllRequest.request_number == "30001234"))
        assert request is not None and request.status is RequestStatus.RECEIVED
        transit = session.scalar(select(Transit).where(Transit.item_id == item.id))
        assert transit is not None and transit.received_at is None
        actors = set(session.scalars(select(AuditEvent.username)))
        assert "ncip:ILLIAD" in actors


def test_accept_item_to_the_office_campus_goes_on_the_hold_shelf(responder: Responder) -> None:
    reply = ini.post(
        responder.port, ini.tipasa(ini.accept_item("30001235", "T00234567", pickup="NEC"))
    ).assert_valid()
    item = _item(responder, reply.text("ItemIdentifierValue") or "")
    assert item.status is ItemStatus.ON_HOLD_SHELF
    with responder.rt.db.reading() as session:
        hold = session.scalar(select(HoldShelfEntry).where(HoldShelfEntry.item_id == item.id))
        assert hold is not None and hold.status is HoldStatus.ACTIVE


def test_the_same_message_twice_changes_nothing_and_gets_the_same_answer(
    responder: Responder,
) -> None:
    body = ini.illiad(ini.accept_item("30001236", pickup="WEST"))
    first = ini.post(responder.port, body).assert_valid()
    second = ini.post(responder.port, body).assert_valid()
    assert first.body == second.body
    with responder.rt.db.reading() as session:
        items = session.scalars(select(Item).where(Item.title == "Gödel, Escher, Bach")).all()
        assert len(items) == 1
        outcomes = [m.outcome for m in session.scalars(select(NcipMessage))]
        assert outcomes.count("ok") == 1 and outcomes.count("repeat") == 1


def test_library_use_only_from_the_restriction_or_the_configured_prefix(
    responder: Responder,
) -> None:
    set_library(responder.rt, ncip_library_use_prefixes=("LUO",))
    by_prefix = ini.post(
        responder.port, ini.illiad(ini.accept_item("LUO30001237", pickup="SE"))
    ).assert_valid()
    by_type = ini.post(
        responder.port,
        ini.folio_pretty(
            ini.accept_item("30001238", pickup="SE", restriction="In Library Use Only")
        ),
    ).assert_valid()
    for reply in (by_prefix, by_type):
        assert _item(responder, reply.text("ItemIdentifierValue") or "").in_library_use_only


def test_sent_item_id_policy_uses_the_ill_system_barcode(responder: Responder) -> None:
    set_library(responder.rt, ncip_item_id_policy="sent")
    reply = ini.post(
        responder.port, ini.illiad(ini.accept_item("30001239", item="TN555", pickup="SE"))
    ).assert_valid()
    assert reply.text("ItemIdentifierValue") == "TN555"
    assert _item(responder, "TN555").lender_due_date == date(2026, 12, 20)


def test_pickup_location_map_and_the_virtual_office_refused(responder: Responder) -> None:
    set_library(responder.rt, ncip_pickup_locations=("Southeast Campus=SE",))
    mapped = ini.post(
        responder.port, ini.illiad(ini.accept_item("30001240", pickup="Southeast Campus"))
    ).assert_valid()
    assert mapped.problem is None
    virtual = ini.post(
        responder.port, ini.illiad(ini.accept_item("30001241", pickup="WS-ILL"))
    ).assert_valid()
    assert virtual.problem == "Unknown Value From Known Scheme"
    assert virtual.text("ProblemElement") == "PickupLocation"


def test_accept_item_problems_name_the_element_and_value(responder: Responder) -> None:
    past = ini.post(
        responder.port, ini.illiad(ini.accept_item("30001242", due="2020-01-01T23:59:00"))
    ).assert_valid()
    assert past.problem == "Invalid Date" and past.text("ProblemElement") == "DateForReturn"
    bad_date = ini.post(
        responder.port, ini.illiad(ini.accept_item("30001243", due="next tuesday"))
    ).assert_valid()
    assert bad_date.problem == "Invalid Date" and bad_date.text("ProblemValue") == "next tuesday"
    nobody = ini.post(
        responder.port, ini.illiad(ini.accept_item("30001244", user="T99999999"))
    ).assert_valid()
    assert nobody.problem == "Unknown User" and nobody.text("ProblemValue") == "T99999999"
    action = ini.post(
        responder.port, ini.illiad(ini.accept_item("30001245", action="Ship It"))
    ).assert_valid()
    assert action.problem == "Unknown Value From Known Scheme"
    with responder.rt.db.reading() as session:
        assert (
            session.scalar(select(IllRequest).where(IllRequest.request_number == "30001244"))
            is None
        )


def test_number_of_pieces_comes_with_the_item_description(responder: Responder) -> None:
    two = ini.post(
        responder.port, ini.illiad(ini.accept_item("30001246", pickup="SE", pieces="2"))
    ).assert_valid()
    assert two.problem is None, two.body
    assert _item(responder, two.text("ItemIdentifierValue") or "").pieces == 2
    unsaid = ini.post(responder.port, ini.illiad(ini.accept_item("30001247", pickup="SE")))
    assert _item(responder, unsaid.assert_valid().text("ItemIdentifierValue") or "").pieces == 1
    bad = ini.post(
        responder.port, ini.illiad(ini.accept_item("30001248", pickup="SE", pieces="two"))
    ).assert_valid()
    assert bad.text("ProblemElement") == "NumberOfPieces" and bad.text("ProblemValue") == "two"
    with responder.rt.db.reading() as session:
        assert (
            session.scalar(select(IllRequest).where(IllRequest.request_number == "30001248"))
            is None
        )


def _accepted(responder: Responder, number: str, user: str, pickup: str) -> str:
    reply = ini.post(
        responder.port, ini.illiad(ini.accept_item(number, user, pickup=pickup))
    ).assert_valid()
    strap = reply.text("ItemIdentifierValue")
    assert strap is not None and reply.problem is None, reply.body
    return strap


def test_check_out_to_its_patron_then_check_in_ships_it_back_to_the_lender(
    responder: Responder,
) -> None:
    strap = _accepted(responder, "30001250", "T00234567", "NEC")  # on the NEC hold shelf
    out = ini.post(
        responder.port, ini.tipasa(ini.check_out_item(strap, "T00234567"))
    ).assert_valid()
    assert out.problem is None, out.body
    assert (out.text("DateDue") or "").startswith("2026-12-18")  # the 20th is a Sunday
    with responder.rt.db.reading() as session:
        loan = session.scalar(select(Loan).where(Loan.item_id == _item(responder, strap).id))
        assert loan is not None and loan.returned_at is None
    back = ini.post(
        responder.port, ini.illiad(ini.check_in_item("30001250", "30001250", "T00234567"))
    ).assert_valid()
    assert back.problem is None, back.body.decode()
    assert "lender" in (back.text("RoutingInstructions") or "").lower()
    item = _item(responder, strap)
    assert item.status is ItemStatus.CLOSED
    with responder.rt.db.reading() as session:
        loan = session.scalar(select(Loan).where(Loan.item_id == item.id))
        assert loan is not None and loan.returned_at is not None
        request = session.scalar(select(IllRequest).where(IllRequest.request_number == "30001250"))
        assert request is not None and request.status is RequestStatus.CLOSED
    again = ini.post(responder.port, ini.tipasa(ini.check_in_item(strap))).assert_valid()
    assert again.problem == "Item Not Checked Out"


def test_check_out_refusals_are_problems(responder: Responder) -> None:
    strap = _accepted(responder, "30001251", "T00234567", "NEC")
    wrong = ini.post(
        responder.port, ini.illiad(ini.check_out_item(strap, "T00123456"))
    ).assert_valid()
    assert wrong.problem is not None
    unknown = ini.post(
        responder.port, ini.illiad(ini.check_out_item("ILL99999999", "T00234567"))
    ).assert_valid()
    assert unknown.problem == "Unknown Item"
    ini.post(responder.port, ini.illiad(ini.check_out_item(strap, "T00234567"))).assert_valid()
    repeat = ini.post(
        responder.port, ini.tipasa(ini.check_out_item(strap, "T00234567"))
    ).assert_valid()
    assert repeat.problem is None  # the same message (spelled differently): the same answer
    other = ini.header("TIPASA", secret=None)
    twice = ini.post(
        responder.port, ini.tipasa(ini.check_out_item(strap, "T00234567", head=other))
    ).assert_valid()
    assert twice.problem == "Item Already Checked Out"


def test_renew_item_moves_the_due_date_and_delete_item_closes_the_item(
    responder: Responder,
) -> None:
    strap = _accepted(responder, "30001252", "T00234567", "NEC")
    ini.post(responder.port, ini.illiad(ini.check_out_item(strap, "T00234567"))).assert_valid()
    renewed = ini.post(
        responder.port, ini.illiad(ini.renew_item(strap, "2027-01-15T12:00:00Z"))
    ).assert_valid()
    assert renewed.problem is None, renewed.body
    assert _item(responder, strap).lender_due_date == date(2027, 1, 15)
    with responder.rt.db.reading() as session:
        loan = session.scalar(select(Loan).where(Loan.item_id == _item(responder, strap).id))
        assert loan is not None and loan.due_date == date(2027, 1, 15)
    still_out = ini.post(responder.port, ini.illiad(ini.delete_item(strap))).assert_valid()
    assert still_out.problem is not None
    ini.post(responder.port, ini.illiad(ini.check_in_item(strap))).assert_valid()
    deleted = ini.post(responder.port, ini.illiad(ini.delete_item(strap))).assert_valid()
    assert deleted.problem is None and _item(responder, strap).status is ItemStatus.CLOSED


def test_check_in_of_an_item_never_picked_up_sends_it_back_to_the_lender(
    responder: Responder,
) -> None:
    on_shelf = _accepted(responder, "30001260", "T00234567", "NEC")
    in_transit = _accepted(responder, "30001261", "T00123456", "SE")
    for strap in (on_shelf, in_transit):
        reply = ini.post(responder.port, ini.illiad(ini.check_in_item(strap))).assert_valid()
        assert reply.problem is None, reply.body.decode()
        item = _item(responder, strap)
        assert item.status is ItemStatus.CLOSED
        with responder.rt.db.reading() as session:
            holds = session.scalars(
                select(HoldShelfEntry).where(
                    HoldShelfEntry.item_id == item.id,
                    HoldShelfEntry.status == HoldStatus.ACTIVE,
                )
            ).all()
            transits = session.scalars(
                select(Transit).where(Transit.item_id == item.id, Transit.received_at.is_(None))
            ).all()
            assert holds == [] and transits == []
