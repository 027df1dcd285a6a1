"""Multi-piece items (a book with a CD, a two-volume set), on SQLite and PostgreSQL.

Received with their piece count, said on the strap, at check-in and at check-out; a piece
missing at check-in is flagged for the ILL office, which clears the flag when it turns up.
The clock is the fixed test clock: Monday 2 November 2026.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select

from app.borrowing.missing_pieces import (
    clear_missing_piece,
    missing_pieces,
    report_missing_piece,
)
from app.borrowing.receiving import ReceiveForm, receive_item
from app.borrowing.ship_back import items_to_ship, ship_back
from app.borrowing.strap_data import strap_pdf
from app.desk.checkin import check_in
from app.desk.checkout import check_out, preview_checkout
from app.desk.checkout_results import Outcome as CheckoutOutcome
from app.desk.routing import Outcome
from app.library.actors import Actor
from app.library.errors import InvalidInput, NotFound, PermissionDenied
from app.library.runtime import Runtime
from db.models import AuditEvent, Item, Loan, MissingPiece
from tests.demo_items import held_item
from tests.strap_pdf import all_text

ActorAt = Callable[[str, str], Actor]
METRO_REQUEST, NEC_REQUEST = "20261001", "20261002"
RENEE = "T00123456"  # the patron of METRO_REQUEST
TWO = "2 pieces: check that both are here."


def _receive(rt: Runtime, actor_at: ActorAt, number: str = METRO_REQUEST, pieces: int = 2) -> str:
    form = ReceiveForm(number, "OKT", date(2026, 12, 1), pieces=pieces)
    return receive_item(rt, actor_at("office", "WS-ILL"), form).strap_barcode


def _at_metro(rt: Runtime, actor_at: ActorAt, pieces: int = 2) -> str:
    """A multi-piece item received, sent to METRO and checked in onto its hold shelf."""
    barcode = _receive(rt, actor_at, pieces=pieces)
    arrived = check_in(rt, actor_at("desk", "METRO"), barcode)
    assert arrived.outcome is Outcome.HOLD_SHELF
    return barcode


def _actions(rt: Runtime, action: str) -> list[AuditEvent]:
    with rt.db.reading() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_receiving_records_the_pieces_and_the_strap_says_them(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    form = ReceiveForm(METRO_REQUEST, "OKT", date(2026, 12, 1), pieces=2)
    result = receive_item(demo_rt, office, form)
    assert result.pieces == 2 and TWO in result.instruction
    with demo_rt.db.reading() as session:
        item = session.scalar(select(Item).where(Item.barcode == result.strap_barcode))
        assert item is not None and item.pieces == 2
    [event] = _actions(demo_rt, "ill.receive")
    assert event.after is not None and event.after["pieces"] == 2
    assert "2 PIECES" in all_text(strap_pdf(demo_rt, office, [result.strap_barcode]))
    single = receive_item(demo_rt, office, ReceiveForm(NEC_REQUEST, "OKT", date(2026, 12, 1)))
    assert single.pieces == 1 and "pieces" not in single.instruction
    assert "PIECES" not in all_text(strap_pdf(demo_rt, office, [single.strap_barcode]))


@pytest.mark.parametrize("pieces", [0, -1, 51])
def test_a_piece_count_that_cannot_be_is_refused(
    demo_rt: Runtime, actor_at: ActorAt, pieces: int
) -> None:
    with demo_rt.db.reading() as session:
        before = session.scalar(select(func.count()).select_from(Item))
    with pytest.raises(InvalidInput, match="number of pieces"):
        _receive(demo_rt, actor_at, pieces=pieces)
    with demo_rt.db.reading() as session:  # nothing received
        assert session.scalar(select(func.count()).select_from(Item)) == before


def test_check_in_says_the_pieces_first_and_only_for_several(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    barcode = _receive(demo_rt, actor_at)
    desk = actor_at("desk", "METRO")
    arrived = check_in(demo_rt, desk, barcode)
    assert arrived.pieces == 2 and arrived.instructions[0] == TWO
    assert arrived.headline.startswith("Put on hold shelf")  # the routing itself unchanged
    three = _receive(demo_rt, actor_at, NEC_REQUEST, pieces=3)
    back = check_in(demo_rt, actor_at("desk", "NEC"), three)  # on NEC's hold shelf already
    assert back.instructions[0] == "3 pieces: check that all 3 are here."
    single = check_in(demo_rt, desk, _held_single(demo_rt))
    assert single.pieces == 1 and not any("pieces" in line for line in single.instructions)


def _held_single(rt: Runtime) -> str:
    with rt.db.reading() as session:
        barcode = session.scalar(
            select(Item.barcode).where(Item.pieces == 1, Item.request_id.is_not(None))
        )
        assert barcode is not None
        return barcode


def test_a_missing_piece_is_flagged_for_the_office_which_clears_it(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    barcode = _at_metro(demo_rt, actor_at)
    desk, office = actor_at("desk", "METRO"), actor_at("office", "WS-ILL")
    flag = report_missing_piece(demo_rt, desk, barcode, "the CD")
    assert (flag.barcode, flag.pieces, flag.branch, flag.staff) == (barcode, 2, "METRO", "desk")
    assert (flag.note, flag.patron_id, flag.request_number) == ("the CD", RENEE, METRO_REQUEST)
    again = report_missing_piece(demo_rt, desk, barcode)  # a second click changes nothing
    assert again.id == flag.id
    assert [f.id for f in missing_pieces(demo_rt, office)] == [flag.id]
    assert len(_actions(demo_rt, "item.piece_missing")) == 1
    with pytest.raises(PermissionDenied):
        missing_pieces(demo_rt, desk)
    with pytest.raises(PermissionDenied):
        clear_missing_piece(demo_rt, desk, flag.id, "found it")
    with pytest.raises(InvalidInput, match="Say what happened"):
        clear_missing_piece(demo_rt, office, flag.id, "  ")
    cleared = clear_missing_piece(demo_rt, office, flag.id, "CD found in the book drop")
    assert cleared.cleared and cleared.clear_note == "CD found in the book drop"
    assert missing_pieces(demo_rt, office) == []
    assert [f.cleared for f in missing_pieces(demo_rt, office, include_cleared=True)] == [True]
    [event] = _actions(demo_rt, "item.piece_missing_cleared")
    assert event.username == "office" and event.detail == "CD found in the book drop"
    # Missing again later: a new flag, the old one kept.
    assert report_missing_piece(demo_rt, desk, barcode).id != flag.id
    with demo_rt.db.reading() as session:
        assert len(session.scalars(select(MissingPiece)).all()) == 2


def test_only_an_item_of_several_pieces_can_miss_one(demo_rt: Runtime, actor_at: ActorAt) -> None:
    desk = actor_at("desk", "METRO")
    with pytest.raises(InvalidInput, match="received as one piece"):
        report_missing_piece(demo_rt, desk, _held_single(demo_rt))
    with pytest.raises(NotFound):
        report_missing_piece(demo_rt, desk, "ILL99999997")


def test_check_out_waits_for_every_piece_to_be_confirmed(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    desk = actor_at("desk", "METRO")
    single = held_item(demo_rt, RENEE)  # the demo's own: one piece, no confirmation asked
    assert check_out(demo_rt, desk, RENEE, single).outcome is CheckoutOutcome.CHECKED_OUT
    barcode = _at_metro(demo_rt, actor_at)
    proposal = preview_checkout(demo_rt, desk, RENEE, barcode)
    assert proposal.outcome is CheckoutOutcome.CHECKED_OUT and proposal.pieces == 2
    assert proposal.message.startswith(TWO)
    refused = check_out(demo_rt, desk, RENEE, barcode)
    assert refused.outcome is CheckoutOutcome.REFUSED_PIECES_NOT_CHECKED
    assert TWO in refused.message
    assert _open_loan(demo_rt, barcode) is None
    done = check_out(demo_rt, desk, RENEE, barcode, pieces_checked=True)
    assert done.outcome is CheckoutOutcome.CHECKED_OUT and done.pieces == 2
    assert _open_loan(demo_rt, barcode) is not None


def _open_loan(rt: Runtime, barcode: str) -> Loan | None:
    with rt.db.reading() as session:
        return session.scalar(
            select(Loan)
            .join(Item, Item.id == Loan.item_id)
            .where(Item.barcode == barcode, Loan.returned_at.is_(None))
        )


def test_ship_back_reminds_the_office_of_the_pieces_and_a_missing_one(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    barcode = _at_metro(demo_rt, actor_at)
    desk, office = actor_at("desk", "METRO"), actor_at("office", "WS-ILL")
    check_out(demo_rt, desk, RENEE, barcode, pieces_checked=True)
    back = check_in(demo_rt, desk, barcode)  # returned: to the ILL office
    assert back.instructions[0] == TWO
    report_missing_piece(demo_rt, desk, barcode, "volume 2")
    check_in(demo_rt, office, barcode)  # at the ILL office: ready to ship
    [row] = [r for r in items_to_ship(demo_rt, office) if r.barcode == barcode]
    assert (row.pieces, row.piece_missing) == (2, True)
    shipped = ship_back(demo_rt, office, barcode)
    assert shipped.pieces == 2
    assert "2 pieces: pack both together." in shipped.reminder
    assert "reported missing" in shipped.reminder


def test_the_patrons_notices_say_how_many_pieces_to_bring_back(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    from app.library import library_settings
    from app.notices.notice_content import notice_context
    from app.notices.templates import render
    from db.models import Notice

    _receive(demo_rt, actor_at, NEC_REQUEST, pieces=2)  # straight onto NEC's hold shelf
    with demo_rt.db.reading() as session:
        [ready] = session.scalars(select(Notice).where(Notice.kind == "ready_for_pickup"))
        context = notice_context(session, ready, library_settings.load(session), date(2026, 11, 2))
        body = render(session, "ready_for_pickup", context).body
        assert context["pieces"] == 2
        assert "It comes in 2 pieces" in body
        for_one = render(session, "ready_for_pickup", {**context, "pieces": 1}).body
        assert "pieces" not in for_one
        due = render(session, "due_soon", {**context, "due_date": date(2026, 12, 1)}).body
        assert "It came in 2 pieces: please return all of them together." in due
