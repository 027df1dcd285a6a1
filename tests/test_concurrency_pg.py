"""Two desks on one PostgreSQL server, with real parallel connections (threads).

The race is made deterministic: desk A's transaction is paused right after it took its row
lock (a cursor hook waits on an event), desk B starts and is seen waiting on that lock in
pg_stat_activity, then A is let go. B must then answer with the item's new state, never
a traceback and never a hang; held past the 2 s lock timeout, B gets "scan again".
"""

from __future__ import annotations

import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from psycopg import pq
from sqlalchemy import Engine, event, func, select, text

from app.borrowing.receiving import ReceiveForm, receive_item
from app.desk.checkin import CheckInResult, check_in
from app.desk.checkout import check_out
from app.desk.checkout_results import Outcome as CheckoutOutcome
from app.desk.routing import Outcome
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.errors import Conflict, ServiceError
from app.library.runtime import Runtime
from db.engine import create_database_engine
from db.models import (
    AppliedScan,
    AuditEvent,
    HoldShelfEntry,
    HoldStatus,
    Item,
    ItemStatus,
    Loan,
    Notice,
    Transit,
)

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

ActorAt = Callable[[str, str], Actor]
IN_TRANSIT_TO_SE = "ILL00000018"
ON_HOLD_AT_METRO = "ILL00000042"  # waiting for T00123456, pickup by today + 8 days
METRO_REQUEST = "20261001"
JOIN_SECONDS = 10  # a thread still running after this is a hang


@dataclass(eq=False)
class Pause:
    """Holds one thread's transaction right after a statement matching `pattern` ran."""

    thread_name: str
    pattern: re.Pattern[str]
    locked: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread().name == self.thread_name and self.pattern.search(statement):
            self.locked.set()
            self.release.wait(JOIN_SECONDS)


@contextmanager
def paused(rt: Runtime, thread_name: str, pattern: str) -> Iterator[Pause]:
    pause = Pause(thread_name, re.compile(pattern, re.IGNORECASE | re.DOTALL))
    event.listen(rt.db.engine, "after_cursor_execute", pause)
    try:
        yield pause
    finally:
        pause.release.set()
        event.remove(rt.db.engine, "after_cursor_execute", pause)


class Desk(threading.Thread):
    """One desk's action on its own thread; keeps the result, the refusal, or the crash."""

    def __init__(self, name: str, action: Callable[[], object]) -> None:
        super().__init__(name=name, daemon=True)
        self.action = action
        self.result: object = None
        self.error: BaseException | None = None
        self.seconds = 0.0

    def run(self) -> None:
        started = time.monotonic()
        try:
            self.result = self.action()
        except BaseException as exc:  # kept for the assertions
            self.error = exc
        self.seconds = time.monotonic() - started

    def finish(self) -> None:
        self.join(JOIN_SECONDS)
        assert not self.is_alive(), f"{self.name} hung"


def wait_until_blocked(rt: Runtime) -> None:
    """Until another connection of this test waits on a row lock (bounded, no fixed sleep)."""
    deadline = time.monotonic() + JOIN_SECONDS
    # The two desks hold the runtime's two connections (a desk's most): watch from outside.
    watcher = create_database_engine(rt.db.url, pool_size=1)
    try:
        _watch_for_a_lock_wait(watcher, deadline)
    finally:
        watcher.dispose()


def _watch_for_a_lock_wait(watcher: Engine, deadline: float) -> None:
    with watcher.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            ).scalar()
            conn.commit()
            if waiting:
                return
            time.sleep(0.005)
    raise AssertionError("the second desk never reached the row lock")


def race(
    rt: Runtime,
    first: Callable[[], object],
    second: Callable[[], object],
    lock_statement: str,
) -> tuple[Desk, Desk]:
    """`first` takes its lock and pauses; `second` queues behind it; then `first` goes on."""
    with paused(rt, "desk-A", lock_statement) as pause:
        a = Desk("desk-A", first)
        a.start()
        assert pause.locked.wait(JOIN_SECONDS), "desk A never took its lock"
        b = Desk("desk-B", second)
        b.start()
        wait_until_blocked(rt)
        pause.release.set()
        a.finish()
        b.finish()
    return a, b


def count_open(rt: Runtime, model: Any, barcode: str, open_clause: Any) -> int:
    with rt.db.reading() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(model)
                .join(Item, Item.id == model.item_id)
                .where(Item.barcode == barcode, open_clause)
            )
            or 0
        )


def test_check_in_at_two_campuses_at_once(demo_rt: Runtime, actor_at: ActorAt) -> None:
    se, metro = actor_at("desk", "SE"), actor_at("desk", "METRO")
    a, b = race(
        demo_rt,
        lambda: check_in(demo_rt, se, IN_TRANSIT_TO_SE),
        lambda: check_in(demo_rt, metro, IN_TRANSIT_TO_SE),
        r"FOR UPDATE",
    )
    assert a.error is None and b.error is None
    assert isinstance(a.result, CheckInResult) and isinstance(b.result, CheckInResult)
    assert a.result.outcome is Outcome.HOLD_SHELF and a.result.changed
    # B saw the state A left: on the hold shelf at SE, so METRO must send it there.
    assert b.result.outcome is Outcome.ON_HOLD_ELSEWHERE
    assert b.result.destination == "SE"
    assert not b.result.changed
    assert (
        count_open(demo_rt, HoldShelfEntry, IN_TRANSIT_TO_SE, HoldShelfEntry.status == "active")
        == 1
    )
    assert count_open(demo_rt, Transit, IN_TRANSIT_TO_SE, Transit.received_at.is_(None)) == 0


def test_a_lock_held_past_the_timeout_gives_scan_again_not_a_hang(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    se, metro = actor_at("desk", "SE"), actor_at("desk", "METRO")
    with paused(demo_rt, "desk-A", r"FOR UPDATE") as pause:
        a = Desk("desk-A", lambda: check_in(demo_rt, se, IN_TRANSIT_TO_SE))
        a.start()
        assert pause.locked.wait(JOIN_SECONDS)
        b = Desk("desk-B", lambda: check_in(demo_rt, metro, IN_TRANSIT_TO_SE))
        b.start()
        b.finish()  # A still holds the lock: B gives up after the server's lock timeout
        pause.release.set()
        a.finish()
    assert b.error is None and isinstance(b.result, CheckInResult)
    assert b.result.outcome is Outcome.CHANGED_ELSEWHERE
    assert "scan it again" in " ".join(b.result.instructions)
    assert b.seconds < 2.0 + 1.5  # the 2 s lock timeout, plus a generous margin
    assert isinstance(a.result, CheckInResult) and a.result.outcome is Outcome.HOLD_SHELF


def test_check_in_racing_check_out(demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock) -> None:
    clock.advance(days=9)  # the pickup-by date passed: check-in sends it back to the office
    desk = actor_at("desk", "METRO")
    a, b = race(
        demo_rt,
        lambda: check_in(demo_rt, desk, ON_HOLD_AT_METRO),
        lambda: check_out(demo_rt, desk, "T00123456", ON_HOLD_AT_METRO),
        r"FOR UPDATE",
    )
    assert a.error is None and isinstance(a.result, CheckInResult)
    assert a.result.outcome is Outcome.RETURN_TO_ILL_OFFICE
    # The checkout either saw the new state or lost the race: refused, with where it is now.
    if b.error is not None:
        assert isinstance(b.error, Conflict)
        message = b.error.message
    else:
        assert b.result is not None
        assert b.result.outcome is not CheckoutOutcome.CHECKED_OUT  # type: ignore[attr-defined]
        message = b.result.message  # type: ignore[attr-defined]
    assert "inter-campus mail to WS-ILL" in message
    assert count_open(demo_rt, Loan, ON_HOLD_AT_METRO, Loan.returned_at.is_(None)) == 0
    with demo_rt.db.reading() as session:
        status = session.scalar(select(Item.status).where(Item.barcode == ON_HOLD_AT_METRO))
        hold = session.scalar(
            select(HoldShelfEntry.status)
            .join(Item, Item.id == HoldShelfEntry.item_id)
            .where(Item.barcode == ON_HOLD_AT_METRO)
        )
    assert status is ItemStatus.IN_TRANSIT
    assert hold is HoldStatus.EXPIRED


def test_two_ill_office_staff_receive_the_same_request(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    form = ReceiveForm(METRO_REQUEST, "OKT", date(2026, 11, 2) + timedelta(days=28))
    a, b = race(
        demo_rt,
        lambda: receive_item(demo_rt, office, form),
        lambda: receive_item(demo_rt, office, form),
        r"FROM ill_requests.*FOR UPDATE",
    )
    assert a.error is None
    strap = a.result.strap_barcode  # type: ignore[attr-defined]
    assert isinstance(b.error, ServiceError) and not isinstance(b.error, AssertionError)
    assert "already received" in b.error.message and strap in b.error.message
    with demo_rt.db.reading() as session:
        items = session.scalar(
            select(func.count())
            .select_from(Item)
            .where(Item.title_key != "", Item.barcode == strap)
        )
    assert items == 1


class RoundTrips:
    """Round trips on the wire: each time the desk sends and then waits for the server.

    libpq's protocol trace of the desk's connection, from the transaction's start until the
    connection goes back to the pool (so BEGIN, COMMIT and any reset are counted; the pool's
    liveness check before the transaction is not). Statements sent together (psycopg's
    pipeline mode) cost one round trip; each statement sent alone costs one.
    """

    def __init__(self, trace_file: Any) -> None:
        self.trace_file = trace_file
        self.batches: list[list[str]] = []

    def read(self) -> None:
        self.trace_file.seek(0)
        sending = False
        for line in self.trace_file.read().splitlines():
            direction, _, rest = line.partition("\t")
            if direction == "F":
                if not sending:
                    self.batches.append([])
                    sending = True
                message = rest.split("\t", 1)[-1]
                match = re.match(r'(?:Parse\s+"[^"]*"|Query)\s+"(\w+)', message)
                if match:
                    self.batches[-1].append(match.group(1).upper())
            elif direction == "B":
                sending = False

    @property
    def count(self) -> int:
        return len(self.batches)


@contextmanager
def counting(rt: Runtime) -> Iterator[RoundTrips]:
    engine = rt.db.engine
    with tempfile.TemporaryFile("w+") as trace_file:
        trips = RoundTrips(trace_file)
        traced: list[Any] = []

        def begin(conn: Any) -> None:
            if not traced:
                pgconn = conn.connection.driver_connection.pgconn
                pgconn.trace(trace_file.fileno())
                pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
                traced.append(pgconn)

        def checkin(*_args: Any) -> None:
            if traced and traced[0] is not None:
                traced[0].untrace()
                traced[0] = None

        event.listen(engine, "begin", begin)
        event.listen(engine.pool, "checkin", checkin)
        try:
            yield trips
        finally:
            event.remove(engine, "begin", begin)
            event.remove(engine.pool, "checkin", checkin)
            checkin()
        trips.read()


def audits_of(rt: Runtime, barcode: str) -> int:
    with rt.db.reading() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .join(Item, Item.id == AuditEvent.item_id)
                .where(Item.barcode == barcode)
            )
            or 0
        )


@pytest.mark.parametrize("key", [None, "desk-key-1"], ids=["no_key", "idempotency_key"])
@pytest.mark.parametrize(
    ("barcode", "branch", "outcome"),
    [
        (IN_TRANSIT_TO_SE, "SE", Outcome.HOLD_SHELF),
        (IN_TRANSIT_TO_SE, "METRO", Outcome.TRANSIT),
        ("ILL00000091", "METRO", Outcome.RETURN_TO_ILL_OFFICE),
        ("31234000000001", "METRO", Outcome.RESHELVE),
    ],
)
def test_a_check_in_costs_two_round_trips(
    demo_rt: Runtime,
    actor_at: ActorAt,
    barcode: str,
    branch: str,
    outcome: Outcome,
    key: str | None,
) -> None:
    desk = actor_at("desk", branch)
    check_in(demo_rt, desk, "31234000000002")  # warm the pool
    audits_before = audits_of(demo_rt, barcode)
    with counting(demo_rt) as trips:
        result = check_in(demo_rt, desk, barcode, idempotency_key=key)
    assert result.outcome is outcome
    # BEGIN goes with the locking read; every write goes with COMMIT.
    assert trips.count == 2, trips.batches
    read, write = trips.batches
    assert read == ["BEGIN", "SELECT"]
    assert write[-1] == "COMMIT" and "SELECT" not in write
    inserts = int(result.changed) + 1  # the audit event, the scan's key (made when not given)
    assert write.count("INSERT") >= inserts
    assert audits_of(demo_rt, barcode) == audits_before + int(result.changed)  # committed
    with demo_rt.db.reading() as session:
        applied = session.scalar(select(func.count()).select_from(AppliedScan))
    assert applied == 2  # the warm-up scan's and this one's: a lost COMMIT reply can be settled


def test_a_write_refused_in_the_batch_leaves_nothing_written(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    """The last write of a hold-shelf arrival (the desk's key) is refused: hold entry, notice,
    transit and item changes queued before it in the same batch are not kept either."""
    check_in(demo_rt, actor_at("desk", "METRO"), "31234000000002", idempotency_key="used")
    before = (
        count_open(demo_rt, HoldShelfEntry, IN_TRANSIT_TO_SE, HoldShelfEntry.status == "active"),
        count_open(demo_rt, Transit, IN_TRANSIT_TO_SE, Transit.received_at.is_(None)),
        audits_of(demo_rt, IN_TRANSIT_TO_SE),
    )
    desk = actor_at("desk", "SE")
    refused = check_in(demo_rt, desk, IN_TRANSIT_TO_SE, idempotency_key="used")
    assert refused.outcome is Outcome.CHANGED_ELSEWHERE and not refused.changed
    after = (
        count_open(demo_rt, HoldShelfEntry, IN_TRANSIT_TO_SE, HoldShelfEntry.status == "active"),
        count_open(demo_rt, Transit, IN_TRANSIT_TO_SE, Transit.received_at.is_(None)),
        audits_of(demo_rt, IN_TRANSIT_TO_SE),
    )
    assert after == before == (0, 1, before[2])
    with demo_rt.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 0
        status = session.scalar(select(Item.status).where(Item.barcode == IN_TRANSIT_TO_SE))
    assert status is ItemStatus.IN_TRANSIT
    assert check_in(demo_rt, desk, IN_TRANSIT_TO_SE, idempotency_key="new").outcome is (
        Outcome.HOLD_SHELF
    )
