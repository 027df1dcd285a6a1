"""Check-in and check-out decide online or provisional themselves: with the desk's offline
fallback, a database that cannot be reached gives a journaled, provisional answer (no Qt)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from app.desk.checkin import CheckInResult, check_in
from app.desk.checkout import check_out
from app.desk.checkout_results import CheckoutResult
from app.desk.offline_fallback import (
    OFFLINE_NOT_ALLOWED,
    ONLINE_ONLY,
    ProvisionalCheckout,
    journal_checkout,
)
from app.desk.routing import Outcome, Tone
from app.library.actors import Actor
from app.library.errors import DatabaseUnavailable, InvalidInput
from app.library.runtime import Runtime
from app.offline import snapshot
from app.offline.journal import OfflineAction, OfflineJournal
from app.offline.provisional import OFFLINE_REASON, ProvisionalDesk
from db.engine import Database
from db.models import Item, ItemStatus

ActorAt = Callable[[str, str], Actor]
IN_TRANSIT_TO_SE = "ILL00000018"
UNKNOWN = "31234099999999"
KEY = "5f0c2a4e-8f53-4d43-9a55-0c7e1f3b2d10"


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def away(demo_rt: Runtime, tmp_path: Path) -> Iterator[Runtime]:
    """The desk's runtime after its database became unreachable (the snapshot taken before)."""
    snapshot.refresh(demo_rt.db)
    path = tmp_path / "gone.db"
    database = Database(f"sqlite:///{path}")
    path.unlink()
    path.mkdir()  # SQLite cannot open a folder: every connection is refused
    try:
        yield Runtime(database, demo_rt.clock)
    finally:
        database.dispose()


def status_of(rt: Runtime, barcode: str) -> ItemStatus | None:
    with rt.db.reading() as session:
        return session.scalar(select(Item.status).where(Item.barcode == barcode))


def test_an_unreachable_database_gives_the_journaled_provisional_answer(
    demo_rt: Runtime, away: Runtime, actor_at: ActorAt
) -> None:
    told: list[str] = []
    desk = ProvisionalDesk(OfflineJournal(), away.clock, on_journaled=lambda: told.append("x"))
    result = check_in(
        away, actor_at("desk", "SE"), f" {IN_TRANSIT_TO_SE}\n", idempotency_key=KEY, offline=desk
    )
    assert result.reason == OFFLINE_REASON
    assert result.outcome is Outcome.HOLD_SHELF and result.tone is Tone.GOOD
    assert result.headline == "Provisional: put on the hold shelf here"
    assert result.destination == "SE"
    assert result.instructions == (
        "Likely destination: SE.",
        "Saved offline: it is checked in when the database is back.",
        "Provisional: check the result when the scans are replayed.",
    )
    [entry] = OfflineJournal().entries()
    assert (entry.key, entry.barcode, entry.branch, entry.action, entry.provisional) == (
        KEY,
        IN_TRANSIT_TO_SE,
        "SE",
        OfflineAction.CHECKIN,
        "hold_shelf",
    )
    assert told == ["x"] and desk.waiting() == 1
    assert status_of(demo_rt, IN_TRANSIT_TO_SE) is ItemStatus.IN_TRANSIT  # not applied yet


def test_a_barcode_the_snapshot_does_not_know_is_kept_aside(
    away: Runtime, actor_at: ActorAt
) -> None:
    desk = ProvisionalDesk(OfflineJournal(), away.clock)
    result = check_in(away, actor_at("desk", "METRO"), UNKNOWN, offline=desk)
    assert (result.outcome, result.headline) == (Outcome.NOT_FOUND, "Unknown: keep aside")
    assert result.instructions[-1].startswith("Saved offline")
    assert [e.provisional for e in OfflineJournal().entries()] == ["unknown"]


def test_without_a_fallback_the_desk_is_told_the_database_is_unavailable(
    away: Runtime, actor_at: ActorAt
) -> None:
    with pytest.raises(DatabaseUnavailable, match="cannot be reached"):
        check_in(away, actor_at("desk", "SE"), IN_TRANSIT_TO_SE)
    assert OfflineJournal().entries() == []


class Recorder:
    """A fallback of our own: what check-in hands over, and when."""

    checkouts_allowed = False

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def check_in(self, actor: Actor, barcode: str, key: str | None) -> CheckInResult:
        self.calls.append((barcode, key))
        raise AssertionError("the test reads the call, not the answer")

    def check_out(
        self, actor: Actor, patron: str, barcode: str, strap_due: date, *, key: str | None = None
    ) -> ProvisionalCheckout:
        raise AssertionError("not a checkout")


def test_the_fallback_gets_the_cleaned_barcode_and_the_key_and_only_when_offline(
    demo_rt: Runtime, away: Runtime, actor_at: ActorAt
) -> None:
    recorder = Recorder()
    actor = actor_at("desk", "SE")
    online = check_in(demo_rt, actor, IN_TRANSIT_TO_SE, idempotency_key=KEY, offline=recorder)
    assert online.outcome is Outcome.HOLD_SHELF and online.reason is None
    refused = check_in(away, actor, "\x1b", offline=recorder)  # no barcode: refused, not saved
    assert refused.outcome is Outcome.INVALID_SCAN
    assert recorder.calls == []
    with pytest.raises(AssertionError):
        check_in(away, actor, f"{IN_TRANSIT_TO_SE} ", idempotency_key=KEY, offline=recorder)
    assert recorder.calls == [(IN_TRANSIT_TO_SE, KEY)]


def test_a_checkout_saved_offline_is_journaled_with_the_strap_date(
    away: Runtime, actor_at: ActorAt
) -> None:
    desk = ProvisionalDesk(OfflineJournal(), away.clock)
    saved = desk.check_out(
        actor_at("desk", "METRO"), "T00123456", "ILL00000042", date(2026, 11, 30)
    )
    assert saved.headline == "Saved offline: ILL00000042 for T00123456"
    assert "Monday 30 November 2026" in saved.instructions[0]
    [entry] = OfflineJournal().entries()
    assert (entry.action, entry.patron, entry.provisional) == (
        OfflineAction.CHECKOUT,
        "T00123456",
        "strap_due 2026-11-30",
    )


ON_HOLD_AT_METRO = "ILL00000042"  # waiting on the METRO hold shelf for T00123456
PATRON = "T00123456"
STRAP = date(2026, 11, 30)


def offline_desk(rt: Runtime, *, allowed: bool) -> ProvisionalDesk:
    desk = ProvisionalDesk(OfflineJournal(), rt.clock)
    desk.checkouts_allowed = allowed
    return desk


def test_a_checkout_that_finds_the_database_away_is_journaled_due_by_the_strap(
    away: Runtime, actor_at: ActorAt
) -> None:
    desk = offline_desk(away, allowed=True)
    saved = check_out(
        away, actor_at("desk", "METRO"), PATRON, ON_HOLD_AT_METRO, strap_due=STRAP, offline=desk
    )
    assert isinstance(saved, ProvisionalCheckout)
    assert saved.headline == f"Saved offline: {ON_HOLD_AT_METRO} for {PATRON}"
    [entry] = OfflineJournal().entries()
    assert (entry.action, entry.patron, entry.barcode, entry.provisional) == (
        OfflineAction.CHECKOUT,
        PATRON,
        ON_HOLD_AT_METRO,
        "strap_due 2026-11-30",
    )


def test_online_the_fallback_is_not_used(demo_rt: Runtime, actor_at: ActorAt) -> None:
    desk = offline_desk(demo_rt, allowed=True)
    done = check_out(
        demo_rt, actor_at("desk", "METRO"), PATRON, ON_HOLD_AT_METRO, strap_due=STRAP, offline=desk
    )
    assert isinstance(done, CheckoutResult) and not done.outcome.refused
    assert status_of(demo_rt, ON_HOLD_AT_METRO) is ItemStatus.CHECKED_OUT
    assert OfflineJournal().entries() == []


@pytest.mark.parametrize(
    ("allowed", "strap", "override", "told"),
    [
        (False, STRAP, False, OFFLINE_NOT_ALLOWED),  # the library's setting says no
        (True, None, False, ONLINE_ONLY),  # no strap date: not an ILL item, online only
        (True, STRAP, True, ONLINE_ONLY),  # an office override needs the record
    ],
)
def test_a_checkout_the_library_does_not_take_offline_says_why_and_journals_nothing(
    away: Runtime,
    actor_at: ActorAt,
    allowed: bool,
    strap: date | None,
    override: bool,
    told: str,
) -> None:
    desk = offline_desk(away, allowed=allowed)
    actor = actor_at("office" if override else "desk", "METRO")
    with pytest.raises(DatabaseUnavailable) as refused:
        check_out(
            away, actor, PATRON, ON_HOLD_AT_METRO, strap_due=strap, override=override, offline=desk
        )
    assert refused.value.message == told
    assert OfflineJournal().entries() == []


@pytest.mark.parametrize("strap", [date(2026, 11, 2), date(2026, 10, 1)])
def test_an_offline_checkout_needs_a_strap_date_after_today(
    away: Runtime, actor_at: ActorAt, strap: date
) -> None:
    desk = offline_desk(away, allowed=True)
    with pytest.raises(InvalidInput) as refused:
        journal_checkout(away, actor_at("desk", "METRO"), desk, PATRON, ON_HOLD_AT_METRO, strap)
    assert refused.value.code == "strap_date_needed"
    assert "date printed on the strap" in refused.value.message
    assert OfflineJournal().entries() == []


def test_offline_a_multi_piece_item_still_asks_for_every_piece(
    demo_rt: Runtime, away: Runtime, actor_at: ActorAt
) -> None:
    with demo_rt.db.transaction() as session:
        item = session.scalar(select(Item).where(Item.barcode == IN_TRANSIT_TO_SE))
        assert item is not None
        item.pieces = 2
    snapshot.refresh(demo_rt.db)  # the desk's refresh, before the database went away
    desk = ProvisionalDesk(OfflineJournal(), away.clock)
    result = check_in(away, actor_at("desk", "SE"), IN_TRANSIT_TO_SE, offline=desk)
    assert result.reason == OFFLINE_REASON and result.pieces == 2
    assert result.instructions[0] == "2 pieces: check that both are here."
    assert result.instructions[1] == "Likely destination: SE."


def test_a_snapshot_written_before_pieces_were_kept_means_one_piece(
    away: Runtime, actor_at: ActorAt
) -> None:
    """A desk upgraded between two refreshes reads the old snapshot until the next one."""
    import sqlite3

    path = snapshot.snapshot_path()
    conn = sqlite3.connect(path)
    try:
        for barcode, state in conn.execute("SELECT barcode, state FROM items").fetchall():
            old = {k: v for k, v in json.loads(state).items() if k != "pieces"}
            conn.execute("UPDATE items SET state = ? WHERE barcode = ?", (json.dumps(old), barcode))
        conn.commit()
    finally:
        conn.close()
    desk = ProvisionalDesk(OfflineJournal(), away.clock)
    result = check_in(away, actor_at("desk", "SE"), IN_TRANSIT_TO_SE, offline=desk)
    assert result.outcome is Outcome.HOLD_SHELF and result.pieces == 1
    assert result.instructions[0] == "Likely destination: SE."
