"""What RequestedActionType says about telling the patron, and the straps the ILL system's
AcceptItems leave in the ILL office's print queue, over real HTTP (answers validated
against the NCIP 2.02 schema).

"Hold For Pickup And Notify" (ILLiad's default): ILL Desk tells the patron the item is
ready. "Hold For Pickup" (as Tipasa sends it when it mails the patron itself): ILL Desk
queues no ready-for-pickup notice, neither at receipt nor at the pickup campus's check-in.
"""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from app.cli.main import parse, run
from app.cli.staff_password import PASSWORD_ENV
from app.demo import DEMO_PASSWORD
from app.desk.checkin import check_in
from app.people.staff import actor_for
from db.models import AuditEvent, IllRequest, ItemStatus, Notice, StrapPrint
from tests.ncip import initiator as ini
from tests.ncip.conftest import Responder
from tests.strap_pdf import barcode_bars, decode_code128

TIPASA = ini.header("TIPASA", secret=None)


def _accept(responder: Responder, body: bytes) -> str:
    reply = ini.post(responder.port, body).assert_valid()
    assert reply.status == 200 and reply.problem is None, reply.body.decode()
    strap = reply.text("ItemIdentifierValue")
    assert strap is not None
    return strap


def _ready_notices(responder: Responder, number: str) -> list[Notice]:
    with responder.rt.db.reading() as session:
        request = session.scalar(select(IllRequest).where(IllRequest.request_number == number))
        assert request is not None
        return list(
            session.scalars(
                select(Notice).where(
                    Notice.request_id == request.id, Notice.kind == "ready_for_pickup"
                )
            )
        )


def test_notify_at_receipt_on_the_office_campus_only_when_asked(responder: Responder) -> None:
    told = _accept(
        responder,
        ini.illiad(ini.accept_item("30002001", pickup="NEC", action="Hold For Pickup And Notify")),
    )
    not_told = _accept(
        responder,
        ini.tipasa(
            ini.accept_item(
                "30002002", "T00234567", pickup="NEC", action="Hold For Pickup", head=TIPASA
            )
        ),
    )
    assert told != not_told
    assert len(_ready_notices(responder, "30002001")) == 1
    assert _ready_notices(responder, "30002002") == []  # Tipasa tells the patron itself
    with responder.rt.db.reading() as session:
        flags = dict(
            session.execute(
                select(IllRequest.request_number, IllRequest.notify_patron).where(
                    IllRequest.request_number.in_(["30002001", "30002002"])
                )
            ).all()
        )
    assert flags == {"30002001": True, "30002002": False}


@pytest.mark.parametrize(
    ("action", "told"),
    [
        ("Hold For Pickup And Notify", True),
        ("Hold For Pickup", False),
        ("Circulate And Notify", True),
        ("Circulate", False),
    ],
)
def test_notify_at_the_pickup_campus_check_in_follows_the_action(
    responder: Responder, action: str, told: bool
) -> None:
    body = ini.accept_item("30002010", "T00234567", pickup="SE", action=action, head=TIPASA)
    strap = _accept(responder, ini.tipasa(body))
    assert _ready_notices(responder, "30002010") == []  # in transit: nothing yet
    desk = actor_for(responder.rt, "desk", "SE", "test-desk")
    result = check_in(responder.rt, desk, strap)
    assert result.outcome.value == "hold_shelf"
    assert len(_ready_notices(responder, "30002010")) == (1 if told else 0)


def test_illiad_and_notify_is_told_at_the_pickup_campus(responder: Responder) -> None:
    strap = _accept(responder, ini.illiad(ini.accept_item("30002020", pickup="SE")))
    result = check_in(responder.rt, actor_for(responder.rt, "desk", "SE", "t"), strap)
    assert result.outcome.value == "hold_shelf"
    (notice,) = _ready_notices(responder, "30002020")
    assert strap in notice.context


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


def test_accepted_items_wait_in_the_print_queue_until_printed(
    responder: Responder, database_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    office = ("--db", database_url, "--json")
    code, out, err = _cli(*office, "straps", "waiting", "--staff", "office")
    assert code == 0 and out == "" and "No straps waiting" in err
    first = _accept(responder, ini.illiad(ini.accept_item("30002030", pickup="SE")))
    second = _accept(
        responder,
        ini.tipasa(ini.accept_item("30002031", "T00234567", pickup="NEC", head=TIPASA)),
    )
    code, out, _ = _cli(*office, "straps", "waiting", "--staff", "office")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["strap_barcode"] for r in rows] == [first, second]  # oldest first
    assert rows[0] == {
        "strap_barcode": first,
        "request_number": "30002030",
        "title": "Gödel, Escher, Bach",
        "destination": "SE",
        "in_library_use_only": False,
        "queued_at": rows[0]["queued_at"],
    }
    assert rows[1]["destination"] == "NEC"

    pdf = tmp_path / "waiting.pdf"
    code, out, _ = _cli(
        *office, "straps", "print", "--waiting", "--out", str(pdf), "--staff", "office"
    )
    assert code == 0
    record = json.loads(out)
    assert record["straps"] == [first, second] and record["marked_printed"] == [first, second]
    assert [decode_code128(b) for b in barcode_bars(pdf.read_bytes())] == [first, second]
    code, out, err = _cli(*office, "straps", "waiting", "--staff", "office")
    assert out == "" and "No straps waiting" in err
    again = tmp_path / "again.pdf"
    code, out, _ = _cli(
        *office, "strap", "print", "--waiting", "--out", str(again), "--staff", "office"
    )
    assert code == 0 and json.loads(out)["straps"] == [] and not again.exists()
    with responder.rt.db.reading() as session:
        printed = session.scalars(select(StrapPrint)).all()
        assert len(printed) == 2 and all(p.printed_at and p.printed_by for p in printed)
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "ill.strap_printed")
        ).all()
        assert len(events) == 2 and {e.username for e in events} == {"office"}


def test_a_strap_of_an_item_gone_back_no_longer_waits(responder: Responder) -> None:
    from app.borrowing.strap_queue import waiting_straps

    strap = _accept(responder, ini.illiad(ini.accept_item("30002040", pickup="NEC")))
    office = actor_for(responder.rt, "office", "WS-ILL", "t")
    assert [w.strap_barcode for w in waiting_straps(responder.rt, office)] == [strap]
    ini.post(responder.port, ini.illiad(ini.check_in_item(strap))).assert_valid()
    with responder.rt.db.reading() as session:
        from db.models import Item

        item = session.scalar(select(Item).where(Item.barcode == strap))
        assert item is not None and item.status is ItemStatus.CLOSED
    assert waiting_straps(responder.rt, office) == []
