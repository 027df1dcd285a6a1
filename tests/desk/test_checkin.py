"""Check in through the service on both databases: every outcome, and what each one writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from app.desk import checkin
from app.desk.checkin import check_in
from app.desk.routing import Outcome, SlipKind, Tone
from app.library import library_settings
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from db.models import (
    AuditEvent,
    Base,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    InHouseUse,
    Item,
    ItemStatus,
    Loan,
    NotFoundScan,
    Notice,
    RequestStatus,
    Transit,
    TransitReason,
)
from tests.signed_in import as_office

pytestmark = pytest.mark.through_pgbouncer

ActorAt = Callable[[str, str], Actor]

# Demo items (see app.demo): what each barcode is at the start of every test.
IN_TRANSIT_TO_SE = "ILL00000018"
IN_TRANSIT_TO_WEST = "ILL00000026"
ON_HOLD_AT_METRO = "ILL00000042"
IN_HOUSE_USE_AT_NEC = "ILL00000083"
CHECKED_OUT_AT_METRO = "ILL00000091"
CHECKED_OUT_AT_SE = "ILL00000109"
AT_ILL_OFFICE = "ILL00000141"
CLOSED = "ILL00000158"
LOST = "ILL00000166"
OWNED_METRO = "31234000000001"
WANTED_FOR_LENDING_METRO = "31234000000013"
LENT_FROM_SE = "31234000000015"
LENT_FROM_NEC = "31234000000016"


def item(rt: Runtime, barcode: str) -> Item:
    with rt.db.reading() as session:
        found = session.scalar(select(Item).where(Item.barcode == barcode))
        assert found is not None
        return found


def count(rt: Runtime, model: type[Base]) -> int:
    with rt.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def open_transit(rt: Runtime, barcode: str) -> Transit | None:
    with rt.db.reading() as session:
        return session.scalar(
            select(Transit)
            .join(Item, Item.id == Transit.item_id)
            .where(Item.barcode == barcode, Transit.received_at.is_(None))
        )


def branch_id(rt: Runtime, code: str) -> int:
    from app.library.branches import branch_by_code

    with rt.db.reading() as session:
        return branch_by_code(session, code).id


def test_arrival_at_pickup_branch_goes_on_hold_shelf_and_queues_notice(
    demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock
) -> None:
    result = check_in(demo_rt, actor_at("desk", "SE"), IN_TRANSIT_TO_SE)

    assert result.outcome is Outcome.HOLD_SHELF
    assert result.tone is Tone.GOOD
    assert result.destination == "SE"
    assert result.patron_id == "T00345678"
    assert result.patron_name == "NGUYEN, M."
    assert result.pickup_by == clock.today() + timedelta(days=10)
    assert result.slip_kind is SlipKind.HOLD
    assert any("hold shelf for NGUYEN, M." in line for line in result.instructions)
    assert item(demo_rt, IN_TRANSIT_TO_SE).status is ItemStatus.ON_HOLD_SHELF
    assert open_transit(demo_rt, IN_TRANSIT_TO_SE) is None
    with demo_rt.db.reading() as session:
        hold = session.scalar(select(HoldShelfEntry).where(HoldShelfEntry.status == "active"))
        holds = session.scalars(
            select(HoldShelfEntry).where(
                HoldShelfEntry.item_id == item(demo_rt, IN_TRANSIT_TO_SE).id
            )
        ).all()
        notices = session.scalars(select(Notice).where(Notice.kind == "ready_for_pickup")).all()
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "check_in")).all()
    assert hold is not None
    assert len(holds) == 1 and holds[0].branch_id == branch_id(demo_rt, "SE")
    assert holds[0].pickup_by == result.pickup_by
    assert len(notices) == 1 and notices[0].recipient == "mai.nguyen@example.edu"
    assert [a.detail for a in audit] == ["hold_shelf"]
    assert audit[0].branch_code == "SE" and audit[0].username == "desk"


def test_pickup_by_never_after_the_lenders_due_date(
    demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock
) -> None:
    with demo_rt.db.transaction() as session:
        library_settings.save(session, pickup_days=60)
    result = check_in(demo_rt, actor_at("desk", "SE"), IN_TRANSIT_TO_SE)
    assert result.pickup_by == item(demo_rt, IN_TRANSIT_TO_SE).lender_due_date
    assert result.pickup_by is not None and result.pickup_by < clock.today() + timedelta(days=60)


def test_second_scan_at_same_desk_says_already_checked_in_and_changes_nothing(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    actor = actor_at("desk", "SE")
    check_in(demo_rt, actor, IN_TRANSIT_TO_SE)
    events, notices = count(demo_rt, AuditEvent), count(demo_rt, Notice)

    again = check_in(demo_rt, actor, IN_TRANSIT_TO_SE)

    assert again.outcome is Outcome.ALREADY_CHECKED_IN
    assert again.routing is Outcome.HOLD_SHELF
    assert again.patron_id == "T00345678" and again.destination == "SE"
    assert again.changed is False
    assert "nothing changed" in again.instructions[0]
    assert (count(demo_rt, AuditEvent), count(demo_rt, Notice)) == (events, notices)


def test_ill_item_at_wrong_campus_is_routed_to_pickup_branch(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    result = check_in(demo_rt, actor_at("desk", "METRO"), IN_TRANSIT_TO_WEST)

    assert result.outcome is Outcome.TRANSIT
    assert result.tone is Tone.MOVE
    assert result.destination == "WEST"
    assert result.patron_id is None  # staff do not need the patron to route it
    assert result.slip_kind is SlipKind.TRANSIT
    transit = open_transit(demo_rt, IN_TRANSIT_TO_WEST)
    assert transit is not None
    assert transit.from_branch_id == branch_id(demo_rt, "METRO")
    assert transit.to_branch_id == branch_id(demo_rt, "WEST")
    assert transit.reason is TransitReason.WRONG_CAMPUS
    assert item(demo_rt, IN_TRANSIT_TO_WEST).current_branch_id == branch_id(demo_rt, "METRO")
    # Scanned again at METRO: nothing new; at WEST: the hold shelf.
    assert check_in(demo_rt, actor_at("desk", "METRO"), IN_TRANSIT_TO_WEST).outcome is (
        Outcome.ALREADY_CHECKED_IN
    )
    assert check_in(demo_rt, actor_at("desk", "WEST"), IN_TRANSIT_TO_WEST).outcome is (
        Outcome.HOLD_SHELF
    )
    assert open_transit(demo_rt, IN_TRANSIT_TO_WEST) is None


def test_patron_return_at_any_campus_ends_loan_and_goes_to_ill_office(
    demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock
) -> None:
    result = check_in(demo_rt, actor_at("desk", "SE"), CHECKED_OUT_AT_METRO, auto_print=["x"])

    assert result.outcome is Outcome.RETURN_TO_ILL_OFFICE
    assert result.destination == "WS-ILL"
    assert result.headline == "Return to WS-ILL"
    assert "the ILL office at NEC, with a yellow strap" in result.instructions[0]
    assert result.slip_kind is SlipKind.RETURN and result.print_slip is False
    with demo_rt.db.reading() as session:
        loan = session.scalar(
            select(Loan).where(Loan.item_id == item(demo_rt, CHECKED_OUT_AT_METRO).id)
        )
    assert loan is not None and loan.returned_at == clock.now()
    assert loan.returned_branch_id == branch_id(demo_rt, "SE")
    transit = open_transit(demo_rt, CHECKED_OUT_AT_METRO)
    assert transit is not None and transit.reason is TransitReason.TO_ILL_OFFICE
    assert transit.to_branch_id == branch_id(demo_rt, "WS-ILL")
    assert item(demo_rt, CHECKED_OUT_AT_METRO).status is ItemStatus.IN_TRANSIT


def test_return_at_the_ill_office_is_ready_for_the_lender(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    result = check_in(demo_rt, actor_at("office", "WS-ILL"), CHECKED_OUT_AT_SE)

    assert result.outcome is Outcome.RETURN_TO_LENDER
    assert result.destination == "WS-ILL"
    found = item(demo_rt, CHECKED_OUT_AT_SE)
    assert found.status is ItemStatus.AT_ILL_OFFICE
    with demo_rt.db.reading() as session:
        request = session.get(IllRequest, found.request_id)
        open_loans = session.scalar(
            select(func.count()).where(Loan.item_id == found.id, Loan.returned_at.is_(None))
        )
    assert request is not None and request.status is RequestStatus.RETURNED
    assert open_loans == 0


def test_item_back_at_office_scanned_again_is_already_checked_in(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    result = check_in(demo_rt, actor_at("office", "WS-ILL"), AT_ILL_OFFICE)
    assert result.outcome is Outcome.ALREADY_CHECKED_IN
    assert result.routing is Outcome.RETURN_TO_LENDER


def test_unclaimed_hold_past_pickup_by_goes_back_to_ill_office(
    demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock
) -> None:
    clock.advance(days=9)  # the demo's holds are to be picked up within 8 days
    result = check_in(demo_rt, actor_at("desk", "METRO"), ON_HOLD_AT_METRO)

    assert result.outcome is Outcome.RETURN_TO_ILL_OFFICE
    assert any("Not picked up by" in line for line in result.instructions)
    with demo_rt.db.reading() as session:
        hold = session.scalar(
            select(HoldShelfEntry).where(
                HoldShelfEntry.item_id == item(demo_rt, ON_HOLD_AT_METRO).id
            )
        )
    assert hold is not None and hold.status is HoldStatus.EXPIRED


def test_hold_scanned_before_pickup_by_is_already_on_the_shelf(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    result = check_in(demo_rt, actor_at("desk", "METRO"), ON_HOLD_AT_METRO)
    assert result.outcome is Outcome.ALREADY_CHECKED_IN
    assert result.routing is Outcome.HOLD_SHELF
    assert result.patron_id == "T00123456"


def test_item_on_hold_at_another_branch_is_its_own_outcome(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    events = count(demo_rt, AuditEvent)
    result = check_in(demo_rt, actor_at("desk", "SE"), ON_HOLD_AT_METRO)
    assert result.outcome is Outcome.ON_HOLD_ELSEWHERE
    assert result.tone is Tone.PROBLEM
    assert result.destination == "METRO"
    assert result.headline == "Send back to METRO: on hold there"
    assert item(demo_rt, ON_HOLD_AT_METRO).status is ItemStatus.ON_HOLD_SHELF
    assert count(demo_rt, AuditEvent) == events


def test_in_house_use_returned_goes_back_on_the_hold_shelf(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    result = check_in(demo_rt, actor_at("desk", "NEC"), IN_HOUSE_USE_AT_NEC)

    assert result.outcome is Outcome.IN_HOUSE_USE_RETURNED
    assert result.tone is Tone.GOOD
    assert result.patron_id == "T00567890"
    found = item(demo_rt, IN_HOUSE_USE_AT_NEC)
    assert found.status is ItemStatus.ON_HOLD_SHELF
    with demo_rt.db.reading() as session:
        use = session.scalar(select(InHouseUse).where(InHouseUse.item_id == found.id))
        holds = session.scalars(
            select(HoldShelfEntry).where(
                HoldShelfEntry.item_id == found.id, HoldShelfEntry.status == HoldStatus.ACTIVE
            )
        ).all()
    assert use is not None and use.ended_at is not None
    assert len(holds) == 1
    assert count(demo_rt, Notice) == 0  # the patron is standing at the desk


def test_owned_item_at_home_with_nothing_waiting_is_reshelved(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    events = count(demo_rt, AuditEvent)
    result = check_in(demo_rt, actor_at("desk", "METRO"), OWNED_METRO)
    assert result.outcome is Outcome.RESHELVE
    assert result.destination == "METRO"
    assert result.slip_kind is None
    assert count(demo_rt, AuditEvent) == events  # it was already on the shelf


def test_owned_item_away_from_home_goes_home(demo_rt: Runtime, actor_at: ActorAt) -> None:
    result = check_in(demo_rt, actor_at("desk", "SE"), OWNED_METRO)
    assert result.outcome is Outcome.TRANSIT
    assert result.destination == "METRO"
    transit = open_transit(demo_rt, OWNED_METRO)
    assert transit is not None and transit.reason is TransitReason.TO_HOME
    assert check_in(demo_rt, actor_at("desk", "METRO"), OWNED_METRO).outcome is Outcome.RESHELVE
    assert item(demo_rt, OWNED_METRO).status is ItemStatus.AVAILABLE
    assert open_transit(demo_rt, OWNED_METRO) is None


def test_lent_item_back_from_borrower_routes_home(demo_rt: Runtime, actor_at: ActorAt) -> None:
    away = check_in(demo_rt, actor_at("desk", "METRO"), LENT_FROM_SE)
    assert away.outcome is Outcome.TRANSIT and away.destination == "SE"
    assert any("Back from lending" in line for line in away.instructions)

    home = check_in(demo_rt, actor_at("desk", "NEC"), LENT_FROM_NEC)
    assert home.outcome is Outcome.RESHELVE
    assert item(demo_rt, LENT_FROM_NEC).status is ItemStatus.AVAILABLE
    with demo_rt.db.reading() as session:
        lending = session.scalar(
            select(IllRequest).where(IllRequest.item_id == item(demo_rt, LENT_FROM_NEC).id)
        )
    assert lending is not None and lending.status is RequestStatus.CLOSED


def test_item_wanted_for_lending_is_not_reshelved(demo_rt: Runtime, actor_at: ActorAt) -> None:
    result = check_in(demo_rt, actor_at("desk", "METRO"), WANTED_FOR_LENDING_METRO)
    assert result.outcome is Outcome.PULL_FOR_LENDING
    assert "do not reshelve" in result.instructions[0]


def test_unknown_barcode_is_not_found_and_logged_for_the_ill_office(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    result = check_in(demo_rt, actor_at("desk", "WEST"), "  39999999\r\n")

    assert result.outcome is Outcome.NOT_FOUND
    assert result.tone is Tone.PROBLEM
    assert result.barcode == "39999999"
    assert any("Barcode recovery" in line for line in result.instructions)
    assert any("yellow flag" in line.lower() for line in result.instructions)
    with demo_rt.db.reading() as session:
        logged = session.scalars(select(NotFoundScan)).all()
    assert [(s.barcode, s.branch_id) for s in logged] == [("39999999", branch_id(demo_rt, "WEST"))]


def test_lender_barcode_resolves_the_item_and_says_scan_the_strap(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    lender = item(demo_rt, IN_TRANSIT_TO_SE).lender_barcode
    assert lender is not None
    result = check_in(demo_rt, actor_at("desk", "SE"), lender)

    assert result.outcome is Outcome.LENDER_BARCODE
    assert result.routing is Outcome.HOLD_SHELF
    assert result.item_barcode == IN_TRANSIT_TO_SE
    assert result.patron_id == "T00345678"
    assert "TOP of the strap" in result.instructions[-1]
    assert item(demo_rt, IN_TRANSIT_TO_SE).status is ItemStatus.ON_HOLD_SHELF
    assert count(demo_rt, NotFoundScan) == 0


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "7" * 10_000, "\x00\x1b[2J\x07", "'; DROP TABLE items; --", "ILL00000019"],
    ids=["empty", "blank", "10000-chars", "control-chars", "sql", "bad-check-digit"],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(
    demo_rt: Runtime, actor_at: ActorAt, raw: str
) -> None:
    before = [count(demo_rt, m) for m in (AuditEvent, NotFoundScan, Transit, Item)]
    result = check_in(demo_rt, actor_at("desk", "METRO"), raw)
    assert result.outcome is Outcome.INVALID_SCAN
    assert result.reason and result.reason.endswith(".")
    assert len(result.barcode) <= 40
    assert [count(demo_rt, m) for m in (AuditEvent, NotFoundScan, Transit, Item)] == before


def test_cancelled_request_gets_its_own_outcome(demo_rt: Runtime, actor_at: ActorAt) -> None:
    with demo_rt.db.transaction() as session:
        request = session.get(IllRequest, item(demo_rt, IN_TRANSIT_TO_SE).request_id)
        assert request is not None
        request.status = RequestStatus.CANCELLED
        request.cancel_reason = "Duplicate request."
    result = check_in(demo_rt, actor_at("desk", "SE"), IN_TRANSIT_TO_SE)
    assert result.outcome is Outcome.REQUEST_CANCELLED
    assert "Duplicate request." in result.instructions[0]
    assert result.destination == "WS-ILL"
    assert item(demo_rt, IN_TRANSIT_TO_SE).status is ItemStatus.IN_TRANSIT


def test_closed_item_scanned_again_is_its_own_outcome(demo_rt: Runtime, actor_at: ActorAt) -> None:
    result = check_in(demo_rt, actor_at("desk", "NEC"), CLOSED)
    assert result.outcome is Outcome.ITEM_CLOSED
    assert item(demo_rt, CLOSED).status is ItemStatus.CLOSED


def test_lost_item_found_goes_to_ill_office_with_a_charges_note(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    result = check_in(demo_rt, actor_at("desk", "METRO"), LOST)
    assert result.outcome is Outcome.RETURN_TO_ILL_OFFICE
    assert any("charges" in line for line in result.instructions)


def test_auto_print_marks_the_slip_for_listed_outcomes(demo_rt: Runtime, actor_at: ActorAt) -> None:
    result = check_in(demo_rt, actor_at("desk", "SE"), IN_TRANSIT_TO_SE, auto_print=["hold_shelf"])
    assert result.print_slip is True
    repeat = check_in(demo_rt, actor_at("desk", "SE"), IN_TRANSIT_TO_SE, auto_print=["hold_shelf"])
    assert repeat.print_slip is False  # a repeat never prints a second slip


def test_a_race_lost_twice_becomes_a_clear_outcome(
    demo_rt: Runtime, actor_at: ActorAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def lose(*args: object, **kwargs: object) -> None:
        calls.append("try")
        raise StaleDataError("items row changed by another desk")

    monkeypatch.setattr(checkin, "_check_in", lose)
    result = check_in(demo_rt, actor_at("desk", "SE"), IN_TRANSIT_TO_SE)
    assert calls == ["try", "try"]
    assert result.outcome is Outcome.CHANGED_ELSEWHERE
    assert "scan it again" in result.instructions[0]


def test_a_race_lost_once_is_retried_with_the_new_state(
    demo_rt: Runtime, actor_at: ActorAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = checkin._check_in
    calls: list[str] = []

    def once(*args: object, **kwargs: object) -> object:
        calls.append("try")
        if len(calls) == 1:
            raise StaleDataError("items row changed by another desk")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(checkin, "_check_in", once)
    result = check_in(demo_rt, actor_at("desk", "SE"), IN_TRANSIT_TO_SE)
    assert result.outcome is Outcome.HOLD_SHELF
    assert len(calls) == 2


def test_check_in_within_the_callers_transaction_commits_with_it(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    actor = actor_at("desk", "SE")
    with demo_rt.db.transaction() as session:
        result = checkin.check_in_within(session, demo_rt, actor, IN_TRANSIT_TO_SE)
        refused = checkin.check_in_within(session, demo_rt, actor, "ILL00000019")
    assert result.outcome is Outcome.HOLD_SHELF
    assert refused.outcome is Outcome.INVALID_SCAN
    assert item(demo_rt, IN_TRANSIT_TO_SE).status is ItemStatus.ON_HOLD_SHELF

    with pytest.raises(RuntimeError), demo_rt.db.transaction() as session:
        checkin.check_in_within(session, demo_rt, actor, CHECKED_OUT_AT_METRO)
        raise RuntimeError("the caller's own step failed")
    assert item(demo_rt, CHECKED_OUT_AT_METRO).status is ItemStatus.CHECKED_OUT  # rolled back


def test_ready_for_pickup_notice_renders_with_the_pickup_branch_and_date(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    from app.notices.daily_run import prepare_outbox

    result = check_in(demo_rt, actor_at("desk", "SE"), IN_TRANSIT_TO_SE)
    assert (
        prepare_outbox(demo_rt, as_office(demo_rt)) == 0
    )  # nothing held: the template took every field
    with demo_rt.db.reading() as session:
        notice = session.scalar(select(Notice).where(Notice.kind == "ready_for_pickup"))
    assert notice is not None and notice.status.value == "queued"
    assert "Southeast Campus Library" in notice.subject
    assert result.title is not None and result.title in notice.body
    assert result.pickup_by is not None
    assert result.pickup_by.strftime("%B") in notice.body


def test_two_desks_scanning_one_item_at_once_both_get_a_clear_answer(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    import threading

    actors = [actor_at("desk", "SE"), actor_at("ctl", "SE")]
    results: list[Outcome] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def desk(actor: Actor) -> None:
        try:
            start.wait(timeout=10)
            results.append(check_in(demo_rt, actor, IN_TRANSIT_TO_SE).outcome)
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=desk, args=(a,)) for a in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(results) == sorted([Outcome.HOLD_SHELF, Outcome.ALREADY_CHECKED_IN])
    assert count(demo_rt, Notice) == 1
    with demo_rt.db.reading() as session:
        holds = session.scalar(select(func.count()).select_from(HoldShelfEntry))
    assert holds == 5  # the demo's four and this one
