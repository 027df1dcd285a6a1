"""The ILL office's working lists and review logs, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select

from app.borrowing.office_list_print import PrintableList, office_list_pdf
from app.borrowing.office_lists import (
    close_discrepancy,
    discrepancies,
    hold_shelves,
    in_transit,
    not_found_scans,
    overdue_ill_loans,
    received_on,
    review_not_found,
)
from app.borrowing.receiving import ReceiveForm, receive_item
from app.desk.checkout import check_out
from app.library import library_settings
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.library.runtime import Runtime
from db.models import Branch, DueDateDiscrepancy, NotFoundScan, Staff
from tests.demo_items import held_item, set_lender_date
from tests.strap_pdf import all_text

ActorAt = Callable[[str, str], Actor]


def test_received_today_lists_only_todays_receipts(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    assert received_on(demo_rt, office) == []  # the demo received its items days ago
    receive_item(demo_rt, office, ReceiveForm("20261001", "OKT", date(2026, 12, 1)))
    (row,) = received_on(demo_rt, office)
    assert (row.request_number, row.destination, row.patron) == ("20261001", "METRO", "MÜLLER, R.")
    assert len(received_on(demo_rt, office, date(2026, 10, 28))) == 16


def test_in_transit_with_age_and_the_lost_in_the_mail_flag(
    demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock
) -> None:
    office = actor_at("office", "WS-ILL")
    rows = in_transit(demo_rt, office)
    assert len(rows) == 4
    assert {r.to_branch for r in rows} == {"SE", "WEST", "METRO", "WS-ILL"}
    assert all(r.age_days == 0 and not r.overdue for r in rows)
    clock.advance(days=7)
    assert not any(r.overdue for r in in_transit(demo_rt, office))  # 7 days is the limit
    clock.advance(days=1)
    assert all(r.overdue and r.age_days == 8 for r in in_transit(demo_rt, office))
    with demo_rt.db.transaction() as session:
        library_settings.save(session, transit_overdue_days=10)
    assert not any(r.overdue for r in in_transit(demo_rt, office))


def test_hold_shelves_by_branch_with_pickup_by(
    demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock
) -> None:
    office = actor_at("office", "WS-ILL")
    rows = hold_shelves(demo_rt, office)
    assert [r.branch for r in rows] == ["METRO", "METRO", "NEC", "WEST"]
    assert all(r.pickup_by == date(2026, 11, 10) and not r.expired for r in rows)
    assert [r.patron for r in hold_shelves(demo_rt, office, "nec")] == ["OKAFOR, J."]
    clock.advance(days=9)
    assert all(r.expired for r in hold_shelves(demo_rt, office))


def test_overdue_ill_loans(demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock) -> None:
    office = actor_at("office", "WS-ILL")
    (row,) = overdue_ill_loans(demo_rt, office)
    assert (row.barcode, row.days_overdue, row.patron_id) == ("ILL00000117", 9, "T00456789")
    clock.advance(days=3)
    assert [r.days_overdue for r in overdue_ill_loans(demo_rt, office)] == [12, 1]


def test_each_list_gives_its_first_rows_in_the_order_of_the_whole(
    demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock
) -> None:
    office = actor_at("office", "WS-ILL")
    clock.advance(days=3)  # two overdue loans
    for read in (
        lambda limit: in_transit(demo_rt, office, limit=limit),
        lambda limit: hold_shelves(demo_rt, office, limit=limit),
        lambda limit: overdue_ill_loans(demo_rt, office, limit=limit),
        lambda limit: received_on(demo_rt, office, date(2026, 10, 28), limit=limit),
    ):
        whole = read(None)
        assert len(whole) >= 2
        assert read(1) == whole[:1]
        assert read(len(whole) + 5) == whole


def test_a_multi_piece_item_shows_its_pieces_on_the_lists_it_waits_on(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    received = receive_item(
        demo_rt, office, ReceiveForm("20261001", "OKT", date(2026, 12, 1), pieces=2)
    )
    (today,) = received_on(demo_rt, office)
    assert today.pieces == 2
    mailed = {t.barcode: t.pieces for t in in_transit(demo_rt, office)}
    assert mailed.pop(received.strap_barcode) == 2
    assert sorted(mailed.values()) == [1, 1, 1, 2]  # the demo's book and CD for METRO
    assert {h.pieces for h in hold_shelves(demo_rt, office)} == {1}
    _, printed = office_list_pdf(demo_rt, office, PrintableList.TRANSIT, days=-1)
    assert "(2 pieces)" in all_text(printed)  # the printed list names them after the title


def _log_entries(rt: Runtime) -> tuple[int, int]:
    with rt.db.transaction() as session:
        metro = session.scalar(select(Branch).where(Branch.code == "METRO"))
        desk = session.scalar(select(Staff).where(Staff.username == "desk"))
        assert metro is not None and desk is not None
        entry = DueDateDiscrepancy(
            at=rt.clock.now(),
            patron_campus_id="T00123456",
            request_number="20261012",
            system_date=date(2026, 11, 30),
            strap_date=date(2026, 11, 23),
            staff_id=desk.id,
            branch_id=metro.id,
        )
        scan = NotFoundScan(
            at=rt.clock.now(), barcode="31999000000001", branch_id=metro.id, staff_id=desk.id
        )
        session.add_all([entry, scan])
        session.flush()
        return entry.id, scan.id


def test_discrepancy_log_review_and_close(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    entry_id, _ = _log_entries(demo_rt)
    (row,) = discrepancies(demo_rt, office)
    assert (row.patron_id, row.strap_date, row.system_date) == (
        "T00123456", date(2026, 11, 23), date(2026, 11, 30),
    )  # fmt: skip
    assert (row.staff, row.branch) == ("desk", "METRO")
    closed = close_discrepancy(demo_rt, office, entry_id, "Lender's date confirmed.")
    assert closed.closed and closed.review_note == "Lender's date confirmed."
    assert discrepancies(demo_rt, office) == []
    assert len(discrepancies(demo_rt, office, include_closed=True)) == 1
    with pytest.raises(Conflict, match="already closed"):
        close_discrepancy(demo_rt, office, entry_id)
    with pytest.raises(NotFound):
        close_discrepancy(demo_rt, office, entry_id + 100)
    with pytest.raises(InvalidInput, match="keep it under"):
        close_discrepancy(demo_rt, office, entry_id, "x" * 1001)


def test_discrepancy_list_says_why_the_due_date_moved(demo_rt: Runtime, actor_at: ActorAt) -> None:
    renee = "T00123456"
    barcode = held_item(demo_rt, renee)  # waits at METRO, closed on Saturdays
    set_lender_date(demo_rt, barcode, date(2026, 12, 2))
    check_out(demo_rt, actor_at("desk", "METRO"), renee, barcode, strap_due=date(2026, 12, 12))
    office = actor_at("office", "WS-ILL")
    (row,) = discrepancies(demo_rt, office)
    assert (row.system_date, row.strap_date, row.due_date) == (
        date(2026, 12, 2), date(2026, 12, 12), date(2026, 12, 11),
    )  # fmt: skip
    assert "Saturday" in row.adjustment_reason
    assert row.story.startswith(
        "System 2026-12-02, strap 2026-12-12: the strap won; due 2026-12-11, moved"
    )
    assert "Saturday" in row.story
    closed = close_discrepancy(demo_rt, office, row.id)
    assert closed.due_date == date(2026, 12, 11) and closed.story == row.story
    count, _ = office_list_pdf(demo_rt, office, PrintableList.DISCREPANCIES)
    assert count == 0  # closed entries leave the printed list


def test_discrepancy_list_on_paper_has_the_three_dates(demo_rt: Runtime, actor_at: ActorAt) -> None:
    renee = "T00123456"
    barcode = held_item(demo_rt, renee)
    set_lender_date(demo_rt, barcode, date(2026, 12, 2))
    check_out(demo_rt, actor_at("desk", "METRO"), renee, barcode, strap_due=date(2026, 12, 12))
    count, pdf = office_list_pdf(demo_rt, actor_at("office", "WS-ILL"), PrintableList.DISCREPANCIES)
    text = all_text(pdf)
    assert count == 1
    for shown in ("2026-12-02", "2026-12-12", "2026-12-11", "Why the due date moved"):
        assert shown in text


def test_not_found_scan_log_review(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    _, scan_id = _log_entries(demo_rt)
    (row,) = not_found_scans(demo_rt, office)
    assert (row.barcode, row.branch, row.reviewed) == ("31999000000001", "METRO", False)
    reviewed = review_not_found(demo_rt, office, scan_id, "Another system's book; sent home.")
    assert reviewed.reviewed
    assert not_found_scans(demo_rt, office) == []
    assert not_found_scans(demo_rt, office, include_reviewed=True)[0].review_note.startswith(
        "Another system"
    )
    with pytest.raises(Conflict):
        review_not_found(demo_rt, office, scan_id)


def test_desk_staff_cannot_see_office_lists(demo_rt: Runtime, actor_at: ActorAt) -> None:
    desk = actor_at("desk", "METRO")
    for listing in (received_on, in_transit, hold_shelves, overdue_ill_loans):
        with pytest.raises(PermissionDenied):
            listing(demo_rt, desk)  # type: ignore[operator]
