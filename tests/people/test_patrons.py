"""Patron lookup and the patron account, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.library.actors import Actor
from app.library.errors import InvalidInput, NotFound
from app.library.library_settings import save as save_settings
from app.library.runtime import Runtime
from app.people.patrons import BlockKind, find_patrons, patron_view
from db.models import AuditEvent, Charge, Patron, PatronType, RequestStatus
from tests.signed_in import as_desk

Make = Callable[[str, str], Actor]


@pytest.mark.parametrize(
    "query",
    ["T00123456", "t00123456", " 21000123456 ", "muller", "Müller", "MÜLLER, Renée", "renee mul"],
)
def test_lookup_by_id_barcode_or_name_without_accents(demo_rt: Runtime, query: str) -> None:
    found = find_patrons(demo_rt, as_desk(demo_rt), query)
    assert [p.patron_id for p in found] == ["T00123456"]
    assert found[0].name == "Renée Müller" and found[0].home_branch == "METRO"


def test_name_prefix_lists_everyone_matching_in_name_order(demo_rt: Runtime) -> None:
    assert [p.name for p in find_patrons(demo_rt, as_desk(demo_rt), "o")] == [
        "Grace O'Neil",
        "Jamal Okafor",
    ]
    assert find_patrons(demo_rt, as_desk(demo_rt), "zz") == []
    assert (
        find_patrons(demo_rt, as_desk(demo_rt), "%") == []
    )  # a wildcard is a character, not "everyone"
    assert find_patrons(demo_rt, as_desk(demo_rt), "_") == []


def test_the_ill_dummy_account_by_name_or_barcode(demo_rt: Runtime) -> None:
    for query in ("ILL", "ill", "777110346"):
        [dummy] = find_patrons(demo_rt, as_desk(demo_rt), query)
        assert dummy.is_ill_dummy and dummy.patron_type is PatronType.ILL_ACCOUNT


def test_bad_lookups_say_what_to_do(demo_rt: Runtime, actor_at: Make) -> None:
    with pytest.raises(InvalidInput, match="campus ID"):
        find_patrons(demo_rt, as_desk(demo_rt), "  \t ")
    with pytest.raises(InvalidInput, match="Clear the field"):
        find_patrons(demo_rt, as_desk(demo_rt), "x" * 500)
    with pytest.raises(NotFound, match="search by name"):
        patron_view(demo_rt, actor_at("desk", "METRO"), "T99999999")


def test_account_shows_waiting_checkouts_and_requests(demo_rt: Runtime, actor_at: Make) -> None:
    view = patron_view(demo_rt, actor_at("desk", "METRO"), "T00123456")
    assert view.email == "renee.muller@example.edu"
    assert view.patron_type is PatronType.STUDENT and view.home_branch == "METRO"
    [waiting] = view.waiting
    assert waiting.branch_code == "METRO" and waiting.pickup_by == date(2026, 11, 10)
    assert waiting.request_number is not None
    [loan] = view.checkouts
    assert loan.due_date == date(2026, 11, 23) and loan.is_ill and not loan.overdue
    statuses = {r.status for r in view.requests}
    assert RequestStatus.REQUESTED in statuses and RequestStatus.RECEIVED in statuses
    assert view.charges == () and view.blocks == () and view.in_house == ()


def test_account_shows_in_house_use_items(demo_rt: Runtime, actor_at: Make) -> None:
    desk = actor_at("desk", "NEC")
    faculty = patron_view(demo_rt, desk, "T00234567")
    [held] = faculty.in_house
    assert held.branch_code == "NEC" and held.in_use_since is None and held.uses == 0
    assert faculty.waiting == ()  # in-library-use items are listed apart
    staff = patron_view(demo_rt, desk, "T00567890")
    [in_hand] = staff.in_house
    assert in_hand.in_use_since is not None and in_hand.uses == 1


def test_charges_show_reasons_and_bursar_notes_and_block(demo_rt: Runtime, actor_at: Make) -> None:
    desk = actor_at("desk", "SE")
    before = patron_view(demo_rt, desk, "T00890123")
    assert {c.kind for c in before.charges} == {"replacement", "processing_fee"}
    assert all(c.bursar_note == "Not reported to the bursar" for c in before.charges)
    assert any("processing fee" in c.reason for c in before.charges)
    overdue = [b for b in before.blocks if b.kind is BlockKind.OVERDUE_ILL]
    assert before.blocks == () or overdue  # the demo patron has no overdue loan
    with demo_rt.db.transaction() as session:
        patron = session.scalar(select(Patron).where(Patron.patron_id == "T00890123"))
        assert patron is not None
        for charge in session.scalars(select(Charge).where(Charge.patron_id == patron.id)):
            charge.reported_at = datetime(2026, 10, 28, 9, tzinfo=UTC)
            charge.transcript_hold = True
        save_settings(session, block_checkout_on_bursar_charges=True)
    after = patron_view(demo_rt, desk, "T00890123")
    assert all(
        c.bursar_note == "Reported to the bursar on 2026-10-28 (transcript hold)"
        for c in after.charges
    )
    [block] = [b for b in after.blocks if b.kind is BlockKind.BURSAR_CHARGES]
    assert block.stops_checkout and "$115.00" in block.message and "2026-10-28" in block.message
    assert after.checkout_blocked


def test_overdue_ill_block_follows_its_setting(demo_rt: Runtime, actor_at: Make) -> None:
    desk = actor_at("desk", "WEST")
    view = patron_view(demo_rt, desk, "T00456789")  # demo loan overdue by 9 days
    [block] = view.blocks
    assert block.kind is BlockKind.OVERDUE_ILL and not block.stops_checkout
    assert [c.overdue for c in view.checkouts] == [True]
    with demo_rt.db.transaction() as session:
        save_settings(session, block_checkout_on_overdue_ill=True)
    assert patron_view(demo_rt, desk, "T00456789").checkout_blocked


def test_looking_at_an_account_is_audited(demo_rt: Runtime, actor_at: Make) -> None:
    patron_view(demo_rt, actor_at("desk", "METRO"), "21000123456")
    with demo_rt.db.reading() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "patron.view"))
    assert event is not None and event.username == "desk" and event.patron_id is not None
