"""Lending our items to other libraries, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.lending import pull_list, shipping
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.library.runtime import Runtime
from db.models import (
    Branch,
    IllRequest,
    Item,
    ItemStatus,
    Loan,
    Patron,
    RequestKind,
    RequestStatus,
    Transit,
    TransitReason,
)
from tests.signed_in import as_ctl, as_office

ActorAt = Callable[[str, str], Actor]


def _to_pull(rt: Runtime, branch: str) -> pull_list.LendingRequestView:
    (view,) = [v for v in pull_list.pull_list(rt, as_ctl(rt), branch) if v.kind is RequestKind.LOAN]
    return view


def _request(rt: Runtime, number: str) -> IllRequest:
    with rt.db.reading() as session:
        return session.scalars(select(IllRequest).where(IllRequest.request_number == number)).one()


def _item(rt: Runtime, barcode: str) -> Item:
    with rt.db.reading() as session:
        return session.scalars(select(Item).where(Item.barcode == barcode)).one()


def _open_loans(rt: Runtime, item_id: int) -> list[Loan]:
    with rt.db.reading() as session:
        return list(
            session.scalars(select(Loan).where(Loan.item_id == item_id, Loan.returned_at.is_(None)))
        )


def _open_transits(rt: Runtime, item_id: int) -> list[tuple[Transit, str]]:
    with rt.db.reading() as session:
        rows = session.execute(
            select(Transit, Branch.code)
            .join(Branch, Branch.id == Transit.to_branch_id)
            .where(Transit.item_id == item_id, Transit.received_at.is_(None))
        ).all()
        return [(t, code) for t, code in rows]


def test_whole_life_of_a_lent_item(demo_rt: Runtime, actor_at: ActorAt) -> None:
    ctl, office = actor_at("ctl", "METRO"), actor_at("office", "WS-ILL")
    today = demo_rt.clock.today()
    created = pull_list.create_lending_request(
        demo_rt,
        office,
        borrower_symbol="okt",
        partner_request_number="7700123",
        item="introduction to algorithms",
        pull_branch="METRO",
    )
    assert created.status is RequestStatus.TO_PULL
    assert created.borrower_symbol == "OKT"
    assert created.item_barcode is not None
    listed = pull_list.pull_list(demo_rt, as_ctl(demo_rt), "METRO")
    assert created.request_number in [v.request_number for v in listed]
    assert created.request_number not in [
        v.request_number for v in pull_list.pull_list(demo_rt, as_ctl(demo_rt), "WEST")
    ]

    pulled = pull_list.confirm_pulled(demo_rt, ctl, created.request_number)
    assert pulled.status is RequestStatus.PULLED
    assert "check it out to the ILL account" in pulled.next_step

    result = pull_list.checkout_to_ill(demo_rt, ctl, created.request_number, "ILL")
    assert "YELLOW FLAG" in result.reminder and "WS-ILL" in result.reminder
    assert result.destination == "WS-ILL"
    assert result.dummy_barcode == "777110346"
    item = _item(demo_rt, created.item_barcode)
    assert item.status is ItemStatus.IN_TRANSIT
    (loan,) = _open_loans(demo_rt, item.id)
    with demo_rt.db.reading() as session:
        assert session.get_one(Patron, loan.patron_id).is_ill_dummy
    ((transit, destination),) = _open_transits(demo_rt, item.id)
    assert destination == "WS-ILL" and transit.reason is TransitReason.TO_ILL_OFFICE
    # Checked out: off the campus's to-do list, on the office's.
    assert created.request_number not in [
        v.request_number for v in pull_list.pull_list(demo_rt, as_ctl(demo_rt), "METRO")
    ]

    due = today + timedelta(days=28)
    shipped = shipping.ship(demo_rt, office, created.request_number, due)
    assert shipped.status is RequestStatus.SHIPPED and shipped.lend_due_date == due
    item = _item(demo_rt, created.item_barcode)
    assert item.status is ItemStatus.LENT
    assert _open_transits(demo_rt, item.id) == []
    # The ILL-account loan covered the trip to the office; lent, the request holds the date.
    assert _open_loans(demo_rt, item.id) == []

    back = shipping.record_return(demo_rt, office, created.request_number)
    assert back.outcome is shipping.ReturnOutcome.TRANSIT and back.destination == "METRO"
    assert back.request.status is RequestStatus.CLOSED
    assert _open_loans(demo_rt, item.id) == []
    ((transit, destination),) = _open_transits(demo_rt, item.id)
    assert destination == "METRO" and transit.reason is TransitReason.TO_HOME
    assert _request(demo_rt, created.request_number).closed_at is not None


def test_demo_pull_lists_and_dummy_found_by_barcode(demo_rt: Runtime, actor_at: ActorAt) -> None:
    view = _to_pull(demo_rt, "WEST")
    assert view.borrower_symbol == "OKT"
    ctl = actor_at("ctl", "WEST")
    result = pull_list.checkout_to_ill(demo_rt, ctl, view.request_number, "777110346")
    assert result.request.status is RequestStatus.PULLED  # checking out implies it was pulled
    assert result.request.checked_out_to_ill


def test_item_coming_home_to_the_office_campus_is_reshelved(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    (lent,) = [
        v
        for v in pull_list.list_lending(
            demo_rt, as_office(demo_rt), statuses=(RequestStatus.SHIPPED,)
        )
        if v.borrower_symbol == "UIU"
    ]
    back = shipping.record_return(demo_rt, office, lent.request_number)
    assert back.outcome is shipping.ReturnOutcome.RESHELVE and back.destination == "NEC"
    assert _item(demo_rt, lent.item_barcode or "").status is ItemStatus.AVAILABLE


def test_return_already_routed_by_check_in_only_closes_the_request(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    (lent,) = [
        v
        for v in pull_list.list_lending(
            demo_rt, as_office(demo_rt), statuses=(RequestStatus.SHIPPED,)
        )
        if v.borrower_symbol == "ZCU"
    ]
    with demo_rt.db.transaction() as session:
        # As if check-in had received it and sent it home already.
        item = session.scalars(select(Item).where(Item.barcode == lent.item_barcode)).one()
        item.status = ItemStatus.IN_TRANSIT
    back = shipping.record_return(demo_rt, office, lent.request_number)
    assert back.outcome is shipping.ReturnOutcome.ALREADY_CHECKED_IN
    assert back.request.status is RequestStatus.CLOSED
    with pytest.raises(Conflict, match="closed"):
        shipping.record_return(demo_rt, office, lent.request_number)


def test_not_on_shelf_goes_back_to_the_office_with_the_reason(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    ctl, office = actor_at("ctl", "METRO"), actor_at("office", "WS-ILL")
    view = _to_pull(demo_rt, "METRO")
    with pytest.raises(InvalidInput, match="reason"):
        pull_list.report_not_on_shelf(demo_rt, ctl, view.request_number, "   ")
    missing = pull_list.report_not_on_shelf(
        demo_rt, ctl, view.request_number, "Not on shelf, checked twice"
    )
    assert missing.status is RequestStatus.NOT_ON_SHELF
    assert missing.status_note == "Not on shelf, checked twice"
    assert "ILL office" in missing.next_step
    assert pull_list.pull_list(demo_rt, as_ctl(demo_rt), "METRO") == []
    again = shipping.send_to_pull(demo_rt, office, view.request_number, "SE")
    assert again.status is RequestStatus.TO_PULL and again.pull_branch == "SE"
    assert [v.request_number for v in pull_list.pull_list(demo_rt, as_ctl(demo_rt), "SE")] == [
        view.request_number
    ]
    cancelled = shipping.cancel_lending(demo_rt, office, view.request_number, "Not found anywhere")
    assert cancelled.status is RequestStatus.CANCELLED


def test_copy_request_scan_made_and_sent(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office, ctl = actor_at("office", "WS-ILL"), actor_at("ctl", "METRO")
    created = pull_list.create_lending_request(
        demo_rt,
        office,
        borrower_symbol="TXA",
        partner_request_number="556677",
        item="Journal of Texas History, vol. 3, pp. 10-22",
        pull_branch="METRO",
        kind=RequestKind.COPY,
    )
    assert created.item_barcode is None and created.kind is RequestKind.COPY
    with pytest.raises(Conflict, match="copy"):
        pull_list.confirm_pulled(demo_rt, ctl, created.request_number)
    sent = pull_list.record_scan_sent(demo_rt, ctl, created.request_number)
    assert sent.status is RequestStatus.PULLED and "Scan made at METRO" in sent.status_note
    assert created.request_number not in [
        v.request_number for v in pull_list.pull_list(demo_rt, as_ctl(demo_rt), "METRO")
    ]
    done = shipping.ship(demo_rt, office, created.request_number)
    assert done.status is RequestStatus.CLOSED


def test_refusals_change_nothing(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    view = _to_pull(demo_rt, "METRO")
    with pytest.raises(PermissionDenied, match="ctl"):
        pull_list.confirm_pulled(demo_rt, actor_at("desk", "METRO"), view.request_number)
    with pytest.raises(Conflict, match="Do this at METRO"):
        pull_list.confirm_pulled(demo_rt, actor_at("ctl", "WEST"), view.request_number)
    with pytest.raises(PermissionDenied, match="ill_office"):
        pull_list.create_lending_request(
            demo_rt,
            actor_at("ctl", "METRO"),
            borrower_symbol="OKT",
            partner_request_number="1",
            item="x",
        )
    with pytest.raises(InvalidInput, match="OCLC symbol"):
        pull_list.create_lending_request(
            demo_rt,
            office,
            borrower_symbol="O K",
            partner_request_number="1",
            item="Campbell Biology",
        )
    with pytest.raises(InvalidInput, match="Several"):
        pull_list.create_lending_request(
            demo_rt,
            office,
            borrower_symbol="OKT",
            partner_request_number="1",
            item="Campbell Biology",
        )
    with pytest.raises(NotFound, match="No item of ours"):
        pull_list.create_lending_request(
            demo_rt,
            office,
            borrower_symbol="OKT",
            partner_request_number="1",
            item="A Book We Do Not Own",
        )
    with pytest.raises(Conflict, match="already on lending request"):
        pull_list.create_lending_request(
            demo_rt,
            office,
            borrower_symbol="OKT",
            partner_request_number="1",
            item=view.item_barcode or "",
        )
    ctl = actor_at("ctl", "METRO")
    with pytest.raises(InvalidInput, match="not the ILL account"):
        pull_list.checkout_to_ill(demo_rt, ctl, view.request_number, "T00123456")
    pull_list.confirm_pulled(demo_rt, ctl, view.request_number)
    with pytest.raises(Conflict, match="not checked out to the ILL account"):
        shipping.ship(
            demo_rt, office, view.request_number, demo_rt.clock.today() + timedelta(days=9)
        )
    assert _request(demo_rt, view.request_number).status is RequestStatus.PULLED
    pull_list.checkout_to_ill(demo_rt, ctl, view.request_number)
    with pytest.raises(InvalidInput, match="not after today"):
        shipping.ship(demo_rt, office, view.request_number, demo_rt.clock.today())
    with pytest.raises(Conflict, match="already checked out"):
        pull_list.checkout_to_ill(demo_rt, ctl, view.request_number)
    with pytest.raises(NotFound, match="no lending request"):
        pull_list.confirm_pulled(demo_rt, ctl, "99999")
    req = _request(demo_rt, view.request_number)
    assert req.status is RequestStatus.PULLED and req.lend_due_date is None
    assert len(_open_loans(demo_rt, req.item_id or 0)) == 1


def test_a_lent_item_scanned_at_check_in_goes_home_and_closes_the_request(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    from app.desk.checkin import check_in
    from app.desk.routing import Outcome

    ctl, office = actor_at("ctl", "METRO"), actor_at("office", "WS-ILL")
    view = _to_pull(demo_rt, "METRO")
    pull_list.checkout_to_ill(demo_rt, ctl, view.request_number)
    due = demo_rt.clock.today() + timedelta(days=21)
    shipping.ship(demo_rt, office, view.request_number, due)
    result = check_in(demo_rt, actor_at("desk", "NEC"), view.item_barcode or "")
    assert result.outcome is Outcome.TRANSIT and result.destination == "METRO"
    assert _request(demo_rt, view.request_number).status is RequestStatus.CLOSED
