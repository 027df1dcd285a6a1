"""Receiving borrowed items at the ILL office, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.borrowing import receiving
from app.borrowing.receiving import ReceiveForm, ReceiveOutcome, receive_item
from app.borrowing.requests import RequestForm, place_request
from app.borrowing.strap_data import received_today_pdf, strap_pdf, strap_style, straps_for
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ServiceError
from app.library.runtime import Runtime
from app.library.scanning import normalize_scan, strap_barcode
from db.models import (
    AuditEvent,
    Branch,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    Item,
    ItemKind,
    ItemStatus,
    Notice,
    RequestKind,
    RequestStatus,
    Transit,
)
from tests.strap_pdf import all_text, barcode_bars, decode_code128

pytestmark = pytest.mark.through_pgbouncer

ActorAt = Callable[[str, str], Actor]
METRO_REQUEST, NEC_REQUEST, SE_REQUEST = "20261001", "20261002", "20261003"
DEMO_TEMPORARY_ITEMS = 16


def form(number: str = METRO_REQUEST, due_in: int = 28, **changes: object) -> ReceiveForm:
    values: dict[str, object] = {
        "request_number": number,
        "lender_symbol": "okt",
        "lender_due_date": date(2026, 11, 2) + timedelta(days=due_in),
    }
    values.update(changes)
    return ReceiveForm(**values)  # type: ignore[arg-type]


def count(rt: Runtime, model: type) -> int:
    with rt.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_receive_starts_the_transit_to_the_pickup_branch(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    result = receive_item(demo_rt, actor_at("office", "WS-ILL"), form(lender_barcode="39000777"))
    assert result.outcome is ReceiveOutcome.TRANSIT
    assert result.destination == "METRO"
    assert result.strap_barcode == strap_barcode(DEMO_TEMPORARY_ITEMS + 1)
    assert normalize_scan(result.strap_barcode).barcode == result.strap_barcode  # type: ignore[union-attr]
    with demo_rt.db.reading() as session:
        item = session.scalar(select(Item).where(Item.barcode == result.strap_barcode))
        assert item is not None
        assert item.status is ItemStatus.IN_TRANSIT
        assert item.lender_barcode == "39000777"
        assert item.lender_due_date == date(2026, 11, 30)
        request = session.scalar(
            select(IllRequest).where(IllRequest.request_number == METRO_REQUEST)
        )
        assert request is not None and request.status is RequestStatus.RECEIVED
        assert request.lender_symbol == "OKT" and request.item_id == item.id
        transit = session.scalar(select(Transit).where(Transit.item_id == item.id))
        assert transit is not None and transit.received_at is None
        audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "ill.receive"))
        assert audit is not None and audit.after is not None
        assert audit.after["strap_barcode"] == result.strap_barcode
        assert audit.username == "office"


def test_receive_hands_back_what_the_strap_prints(demo_rt: Runtime, actor_at: ActorAt) -> None:
    """The office builds the strap from the answer, without reading the item again."""
    office = actor_at("office", "WS-ILL")
    result = receive_item(demo_rt, office, form(in_library_use_only=True))
    assert result.strap == straps_for(demo_rt, office, [result.strap_barcode])[0]
    assert result.strap is not None and result.strap.lender_symbol == "OKT"
    assert result.strap.in_library_use_only and result.strap.received_on == date(2026, 11, 2)
    assert result.strap_style == strap_style(demo_rt, office)


def test_pickup_at_the_ill_office_campus_goes_straight_to_the_hold_shelf(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    result = receive_item(
        demo_rt, actor_at("office", "WS-ILL"), form(NEC_REQUEST, due_in=5, in_library_use_only=True)
    )
    assert result.outcome is ReceiveOutcome.HOLD_SHELF
    assert result.destination == "NEC"
    assert result.pickup_by == date(2026, 11, 7)  # never after the lender's due date
    with demo_rt.db.reading() as session:
        item = session.scalar(select(Item).where(Item.barcode == result.strap_barcode))
        assert item is not None and item.status is ItemStatus.ON_HOLD_SHELF
        assert item.in_library_use_only
        entry = session.scalar(select(HoldShelfEntry).where(HoldShelfEntry.item_id == item.id))
        assert entry is not None and entry.status is HoldStatus.ACTIVE
        assert session.scalar(select(Transit).where(Transit.item_id == item.id)) is None
        notice = session.scalar(select(Notice).where(Notice.kind == "ready_for_pickup"))
        assert notice is not None and notice.recipient == "jamal.okafor@example.edu"


def test_receiving_the_same_request_twice_is_refused(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    first = receive_item(demo_rt, office, form())
    items = count(demo_rt, Item)
    with pytest.raises(Conflict, match=f"already received .* {first.strap_barcode}"):
        receive_item(demo_rt, office, form())
    assert count(demo_rt, Item) == items


@pytest.mark.parametrize(
    ("number", "error", "message"),
    [
        ("20269999", NotFound, "no ILL request 20269999"),
        ("20261020", InvalidInput, "copy"),  # a copy (article) request
        ("20261022", InvalidInput, "lending request"),
        ("20261019", Conflict, "cancelled"),
        ("20261004", Conflict, "already received"),
        ("2026-1001", InvalidInput, "not an ILL request number"),
    ],
)
def test_requests_that_cannot_be_received(
    demo_rt: Runtime, actor_at: ActorAt, number: str, error: type[ServiceError], message: str
) -> None:
    items = count(demo_rt, Item)
    with pytest.raises(error, match=message):
        receive_item(demo_rt, actor_at("office", "WS-ILL"), form(number))
    assert count(demo_rt, Item) == items


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lender_symbol": "O!"}, "OCLC symbol"),
        ({"lender_symbol": ""}, "OCLC symbol"),
        ({"due_in": -1}, "in the past"),
        ({"due_in": 800}, "more than two years"),
        ({"lender_barcode": "39 000"}, "Lender's barcode"),
        ({"lender_barcode": "ILL00000018"}, "strap barcodes"),
        ({"note": "x" * 1001}, "keep it under"),
    ],
)
def test_bad_form_input_is_refused_and_writes_nothing(
    demo_rt: Runtime, actor_at: ActorAt, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        receive_item(demo_rt, actor_at("office", "WS-ILL"), form(**changes))  # type: ignore[arg-type]
    with demo_rt.db.reading() as session:
        request = session.scalar(
            select(IllRequest).where(IllRequest.request_number == METRO_REQUEST)
        )
        assert request is not None and request.status is RequestStatus.REQUESTED


def test_desk_staff_cannot_receive(demo_rt: Runtime, actor_at: ActorAt) -> None:
    with pytest.raises(PermissionDenied, match="ill_office"):
        receive_item(demo_rt, actor_at("desk", "NEC"), form())


def test_a_strap_barcode_taken_meanwhile_gives_a_clear_conflict(
    demo_rt: Runtime, actor_at: ActorAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receiving, "next_strap_serial", lambda session: 1)  # always taken
    items = count(demo_rt, Item)
    with pytest.raises(Conflict, match="Another desk"):
        receive_item(demo_rt, actor_at("office", "WS-ILL"), form())
    assert count(demo_rt, Item) == items
    with demo_rt.db.reading() as session:
        request = session.scalar(
            select(IllRequest).where(IllRequest.request_number == METRO_REQUEST)
        )
        assert request is not None and request.status is RequestStatus.REQUESTED


def _race(targets: list[Callable[[], object]]) -> list[object]:
    results: list[object] = [None] * len(targets)
    barrier = threading.Barrier(len(targets))

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = targets[index]()
        except ServiceError as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_desks_receiving_at_once_get_different_straps(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    results = _race(
        [
            lambda: receive_item(demo_rt, office, form(METRO_REQUEST)),
            lambda: receive_item(demo_rt, office, form(SE_REQUEST)),
        ]
    )
    barcodes = {r.strap_barcode for r in results if isinstance(r, receiving.Received)}
    assert len(barcodes) == 2, results


def test_the_same_request_received_at_two_desks_at_once_is_received_once(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    results = _race([lambda: receive_item(demo_rt, office, form()) for _ in range(2)])
    assert sum(isinstance(r, receiving.Received) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert count(demo_rt, Item) == 33 + 1


def test_strap_and_todays_batch_print_what_was_received(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    first = receive_item(demo_rt, office, form())
    second = receive_item(demo_rt, office, form(NEC_REQUEST, in_library_use_only=True))
    one = strap_pdf(demo_rt, office, [METRO_REQUEST])
    assert [decode_code128(s) for s in barcode_bars(one)] == [first.strap_barcode]
    assert "METRO" in all_text(one) and "MÜLLER, R." in all_text(one)
    batch = received_today_pdf(demo_rt, office)
    decoded = [decode_code128(s) for s in barcode_bars(batch)]
    assert decoded == [first.strap_barcode, second.strap_barcode]
    assert "LIBRARY USE ONLY" in all_text(batch)


def test_strap_for_something_not_received_is_refused(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    with pytest.raises(InvalidInput, match="not been received"):
        strap_pdf(demo_rt, office, [METRO_REQUEST])
    with pytest.raises(InvalidInput, match="check digit"):
        strap_pdf(demo_rt, office, ["ILL00000019"])
    with pytest.raises(NotFound, match="today"):
        received_today_pdf(demo_rt, office)


def test_next_strap_serial_skips_barcodes_that_only_look_alike(demo_rt: Runtime) -> None:
    with demo_rt.db.transaction() as session:
        for odd in ("ILLUMINATED", "ILL99999999", "ILM00000001"):
            session.add(
                Item(barcode=odd, kind=ItemKind.OWNED, status=ItemStatus.AVAILABLE, title="x",
                     home_branch_id=1)
            )  # fmt: skip
        session.flush()
        assert receiving.next_strap_serial(session) == DEMO_TEMPORARY_ITEMS + 1


def test_a_strap_that_came_in_another_way_is_counted_past(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    first = receive_item(demo_rt, office, form(METRO_REQUEST))
    assert first.strap_barcode == strap_barcode(DEMO_TEMPORARY_ITEMS + 1)
    with demo_rt.db.transaction() as session:  # an import, say, with straps of its own
        session.add(
            Item(barcode=strap_barcode(500), kind=ItemKind.TEMPORARY,
                 status=ItemStatus.IN_TRANSIT, title="x", home_branch_id=1)
        )  # fmt: skip
    second = receive_item(demo_rt, office, form(NEC_REQUEST))
    third = receive_item(demo_rt, office, form(SE_REQUEST))
    assert (second.strap_barcode, third.strap_barcode) == (strap_barcode(501), strap_barcode(502))


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_receipts_at_once_each_get_their_own_strap_without_a_retry(
    demo_rt: Runtime, actor_at: ActorAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    office = actor_at("office", "WS-ILL")
    numbers = [f"2026{9100 + n}" for n in range(16)]
    for number in numbers:
        place_request(demo_rt, office, RequestForm(
            patron="21000123456", kind=RequestKind.LOAN, title=f"Book {number}",
            pickup_branch="SE", request_number=number))  # fmt: skip
    attempts: list[int] = []
    taking = receiving.next_strap_serial
    monkeypatch.setattr(receiving, "next_strap_serial", lambda s: attempts.append(1) or taking(s))

    def receive_at_once(batch: list[str]) -> list[int]:
        results = _race([lambda n=n: receive_item(demo_rt, office, form(n)) for n in batch])
        straps = [r.strap_barcode for r in results if isinstance(r, receiving.Received)]
        assert len(straps) == len(batch), results
        return sorted(int(strap[3:-1]) for strap in straps)

    # The demo's straps came in another way: the first receipts move the sequence past them.
    first = receive_at_once(numbers[:8])
    assert len(set(first)) == 8 and min(first) > DEMO_TEMPORARY_ITEMS
    # From then on, receipts at once take the next serials in turn.
    assert receive_at_once(numbers[8:]) == list(range(max(first) + 1, max(first) + 9))
    assert len(attempts) == 16  # no receipt had to try a number another one took


def test_desk_staff_cannot_print_straps(demo_rt: Runtime, actor_at: ActorAt) -> None:
    with pytest.raises(PermissionDenied):
        strap_pdf(demo_rt, actor_at("desk", "METRO"), ["20261004"])


def test_a_request_with_the_office_as_pickup_is_not_received(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    with demo_rt.db.transaction() as session:  # as an older import could leave it
        office = session.scalar(select(Branch).where(Branch.code == "WS-ILL"))
        request = session.scalar(
            select(IllRequest).where(IllRequest.request_number == METRO_REQUEST)
        )
        assert office is not None and request is not None
        request.pickup_branch_id = office.id
    items, notices = count(demo_rt, Item), count(demo_rt, Notice)
    with pytest.raises(InvalidInput, match=r"WS-ILL.*not a campus"):
        receive_item(demo_rt, actor_at("office", "WS-ILL"), form())
    assert (count(demo_rt, Item), count(demo_rt, Notice)) == (items, notices)
    with demo_rt.db.reading() as session:
        status = session.scalar(
            select(IllRequest.status).where(IllRequest.request_number == METRO_REQUEST)
        )
    assert status is RequestStatus.REQUESTED


def test_a_lenders_date_beyond_two_years_is_taken_from_the_office_with_a_reason(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    with pytest.raises(InvalidInput, match="write why in the Note"):
        receive_item(demo_rt, office, form(due_in=800))
    result = receive_item(
        demo_rt, office, form(due_in=800, override_reason="Lender: loan for the whole project")
    )
    assert result.lender_due_date == date(2026, 11, 2) + timedelta(days=800)
    with demo_rt.db.reading() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "ill.receive"))
        assert event is not None
        assert event.detail == "due date beyond two years: Lender: loan for the whole project"
