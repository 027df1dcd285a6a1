"""Two AcceptItems for one request at the same moment on PostgreSQL: one wins; the other
gets the same answer (the same message) or a Problem (another message); nothing doubles."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from db.models import IllRequest, Item, NcipMessage, Transit
from tests.ncip import initiator as ini
from tests.ncip.conftest import Responder


def _race(bodies: list[bytes], port: int) -> list[ini.Reply]:
    barrier = threading.Barrier(len(bodies))
    replies: list[ini.Reply | None] = [None] * len(bodies)

    def send(index: int) -> Callable[[], None]:
        def run() -> None:
            barrier.wait()
            replies[index] = ini.post(port, bodies[index])

        return run

    threads = [threading.Thread(target=send(i)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(r is not None for r in replies)
    return [r for r in replies if r is not None]


def _one_item(responder: Responder, number: str) -> None:
    with responder.rt.db.reading() as session:
        request = session.scalar(select(IllRequest).where(IllRequest.request_number == number))
        assert request is not None
        items = session.scalar(
            select(func.count()).select_from(Item).where(Item.request_id == request.id)
        )
        transits = session.scalar(
            select(func.count())
            .select_from(Transit)
            .join(Item, Item.id == Transit.item_id)
            .where(Item.request_id == request.id)
        )
        requests = session.scalar(
            select(func.count()).select_from(IllRequest).where(IllRequest.request_number == number)
        )
    assert (items, transits, requests) == (1, 1, 1)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("rounds", [range(5)])
def test_the_same_accept_item_twice_at_once(responder: Responder, rounds: range) -> None:
    for n in rounds:
        number = f"3000{5000 + n}"
        body = ini.illiad(ini.accept_item(number, pickup="SE"))
        first, second = _race([body, body], responder.port)
        for reply in (first, second):
            reply.assert_valid()
            assert reply.status == 200
        assert first.body == second.body  # one won; the other got its answer
        _one_item(responder, number)
    with responder.rt.db.reading() as session:
        outcomes = sorted(m.outcome for m in session.scalars(select(NcipMessage)))
    assert outcomes.count("ok") == 5 and outcomes.count("repeat") == 5


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_different_accept_items_for_one_request_at_once(responder: Responder) -> None:
    number = "30006000"
    illiad = ini.illiad(ini.accept_item(number, pickup="SE"))
    tipasa = ini.tipasa(
        ini.accept_item(number, pickup="SE", head=ini.header("TIPASA", secret=None))
    )
    replies = _race([illiad, tipasa], responder.port)
    for reply in replies:
        reply.assert_valid()
    problems = sorted(r.problem or "" for r in replies)
    assert problems[0] == "" and problems[1] in ("Duplicate Item", "Duplicate Request")
    _one_item(responder, number)
