"""A desk holds at most two server connections, opens them when first needed and closes
them when idle: 500 desks must fit on one PostgreSQL server (or its pooler)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.borrowing.office_lists import in_transit
from app.desk.checkin import check_in
from app.desk.holds_to_pull import holds_to_pull
from app.library.runtime import Runtime
from app.people.staff import actor_for
from app.records.change_feed import ChangeFeed
from app.workstation.connection import ping
from db import engine as engine_module
from db.engine import Database
from tests.conftest import PG_SERVER_URL

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

SCANS = ("ILL00000018", "ILL00000042", "ILL00000091", "31234000000001", "NOT-A-BARCODE")


class ServerConnections:
    """Counts the server's connections that carry one application name, while work runs."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def now(self) -> int:
        with self._admin.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"),
                    {"n": self.name},
                ).scalar_one()
            )

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.most = max(self.most, self.now())
            time.sleep(0.005)

    def __enter__(self) -> ServerConnections:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.most = max(self.most, self.now())

    def close(self) -> None:
        self._admin.dispose()


@pytest.fixture
def desk(demo_rt: Runtime) -> Iterator[tuple[Runtime, ServerConnections]]:
    """The demo library opened as one desk does, under an application name of its own."""
    name = f"desk-{uuid.uuid4().hex[:8]}"
    url = make_url(demo_rt.db.url).update_query_dict({"application_name": name})
    database = Database(url.render_as_string(hide_password=False))
    counter = ServerConnections(name)
    try:
        yield Runtime(database, demo_rt.clock), counter
    finally:
        database.dispose()
        counter.close()


def _in_threads(*jobs: Callable[[], object], rounds: int) -> None:
    """Each job repeated `rounds` times on a thread of its own, all at once (a desk's
    worker, its status check, a print job and a report running side by side)."""
    failures: list[BaseException] = []

    def repeat(job: Callable[[], object]) -> None:
        try:
            for _ in range(rounds):
                job()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=repeat, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def test_a_desk_opens_no_connection_before_its_first_action(
    desk: tuple[Runtime, ServerConnections],
) -> None:
    rt, server = desk
    assert server.now() == 0
    ChangeFeed(rt.db).poll()
    assert server.now() == 1  # one action, one connection


def test_scans_lists_and_polls_at_once_use_at_most_two_server_connections(
    desk: tuple[Runtime, ServerConnections],
) -> None:
    rt, server = desk
    actor = actor_for(rt, "desk", "METRO", "test-desk")
    office = actor_for(rt, "office", "WS-ILL", "test-desk")
    feed = ChangeFeed(rt.db)
    barcodes = iter(SCANS * 10)

    def desk_worker() -> None:  # the desk's one runner: a scan, then a list, then a poll
        check_in(rt, actor, next(barcodes))
        holds_to_pull(rt, actor, "METRO")
        feed.poll()

    with server:
        _in_threads(
            desk_worker,
            lambda: ping(rt.db),
            lambda: in_transit(rt, office),
            lambda: feed.poll(),
            rounds=8,
        )
    assert 1 <= server.most <= 2  # the issue: at most two per desk


def test_connections_left_idle_are_closed_and_reopened_when_needed(
    desk: tuple[Runtime, ServerConnections], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "IDLE_CLOSE_SECONDS", 0.3)
    rt, server = desk
    feed = ChangeFeed(rt.db)
    _in_threads(lambda: feed.poll(), lambda: ping(rt.db), rounds=5)
    assert server.now() >= 1
    deadline = time.monotonic() + 5
    while server.now() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.now() == 0  # a quiet desk holds no server connection
    assert feed.poll() is False  # and the next action simply opens one again
    assert server.now() == 1
