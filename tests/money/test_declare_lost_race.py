"""Two offices declare the same item lost at the same moment: one charge pair, one refusal."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from app.library.actors import Actor
from app.library.errors import Conflict
from app.library.runtime import Runtime
from app.money import charge_views, charges
from db.engine import Database
from tests.money.test_charges import checked_out_barcode
from tests.signed_in import as_office

ActorAt = Callable[[str, str], Actor]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_concurrent_declare_lost_charges_once_and_refuses_the_other(
    demo_rt: Runtime, database_url: str, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    barcode = checked_out_barcode(demo_rt, "T00123456")
    for _round in range(5):  # the race is not won the same way every time
        gate = threading.Barrier(2)
        outcomes: list[object] = []

        def declare(gate: threading.Barrier, outcomes: list[object]) -> None:
            db = Database(database_url)
            try:
                gate.wait()
                outcomes.append(
                    charges.declare_lost(
                        Runtime(db, demo_rt.clock), office, barcode, replacement_cost="85.00"
                    )
                )
            except Exception as exc:  # what a desk would see
                outcomes.append(exc)
            finally:
                db.dispose()

        threads = [threading.Thread(target=declare, args=(gate, outcomes)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        refusals = [o for o in outcomes if isinstance(o, Exception)]
        if _round == 0:
            assert len(refusals) == 1, outcomes
        assert all(isinstance(o, Conflict) for o in refusals), refusals
        assert (
            len(charge_views.list_charges(demo_rt, as_office(demo_rt), patron_id="T00123456")) == 2
        )
