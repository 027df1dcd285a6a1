"""The ILL office's print queue: a received item's strap waits until it is printed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select

from app.borrowing.receiving import ReceiveForm, receive_item
from app.borrowing.strap_queue import mark_straps_printed, waiting_count, waiting_straps
from app.library.actors import Actor
from app.library.errors import PermissionDenied
from app.library.runtime import Runtime
from db.models import AuditEvent, IllRequest, Notice


def test_a_received_strap_waits_until_printed_once(
    demo_rt: Runtime, actor_at: Callable[[str, str], Actor]
) -> None:
    office = actor_at("office", "WS-ILL")
    assert waiting_straps(demo_rt, office) == []  # the demo's straps were printed long ago
    received = receive_item(demo_rt, office, ReceiveForm("20261001", "OKT", date(2026, 12, 14)))
    (waiting,) = waiting_straps(demo_rt, office)
    assert (waiting.strap_barcode, waiting.request_number, waiting.destination) == (
        received.strap_barcode, "20261001", "METRO",
    )  # fmt: skip
    assert mark_straps_printed(demo_rt, office, [received.strap_barcode], "test") == [
        received.strap_barcode
    ]
    assert waiting_count(demo_rt, office) == 0
    assert mark_straps_printed(demo_rt, office, [received.strap_barcode], "again") == []
    with demo_rt.db.reading() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "ill.strap_printed")
        ).all()
        assert [e.detail for e in events] == ["test"]  # a reprint is not a second event
    with pytest.raises(PermissionDenied):
        waiting_straps(demo_rt, actor_at("desk", "METRO"))


def test_a_request_the_ill_system_notifies_gets_no_notice_at_the_office_campus(
    demo_rt: Runtime, actor_at: Callable[[str, str], Actor]
) -> None:
    office = actor_at("office", "WS-ILL")
    with demo_rt.db.transaction() as session:
        request = session.scalar(select(IllRequest).where(IllRequest.request_number == "20261002"))
        assert request is not None and request.notify_patron  # the desk's rule by default
        request.notify_patron = False
    received = receive_item(demo_rt, office, ReceiveForm("20261002", "TXA", date(2026, 12, 14)))
    assert received.outcome.value == "hold_shelf"  # NEC: the ILL office's campus
    with demo_rt.db.reading() as session:
        kinds = session.scalars(select(Notice.kind).where(Notice.request_id == request.id)).all()
        assert "ready_for_pickup" not in kinds
