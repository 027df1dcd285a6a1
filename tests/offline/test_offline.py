"""Offline scanning: the journal on disk, the provisional routing, and the replay.

The outage test puts a TCP proxy between the desk and PostgreSQL, cuts it, scans offline,
restores it, replays, and checks every scan was applied exactly once.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.cli.main import main
from app.desk.checkin import check_in
from app.desk.checkout import check_out
from app.desk.routing import Outcome
from app.library import library_settings
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from app.offline import snapshot
from app.offline.journal import JournalError, OfflineAction, OfflineJournal, read_entries
from app.offline.provisional import ProvisionalDesk
from app.offline.replay import EntryStatus, replay_file, replay_journal
from db.engine import Database
from db.models import (
    AppliedScan,
    AuditEvent,
    Base,
    HoldShelfEntry,
    Item,
    ItemStatus,
    Loan,
    NotFoundScan,
    Transit,
)
from tests.signed_in import as_desk
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.through_pgbouncer

ActorAt = Callable[[str, str], Actor]
IN_TRANSIT_TO_SE = "ILL00000018"
IN_TRANSIT_TO_WEST = "ILL00000026"
ON_HOLD_AT_METRO = "ILL00000042"  # for T00123456
CHECKED_OUT_AT_METRO = "ILL00000091"
OWNED_METRO = "31234000000001"
UNKNOWN = "31234099999999"
AT = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)  # before the test clock: scanned, then replayed


@pytest.fixture
def journal(tmp_path: Path) -> OfflineJournal:
    return OfflineJournal(tmp_path / "data" / "journal")


def scan(journal: OfflineJournal, barcode: str, branch: str = "METRO", **kw: object) -> None:
    journal.record(
        at=kw.pop("at", AT),  # type: ignore[arg-type]
        branch=branch,
        staff=str(kw.pop("staff", "desk")),
        action=kw.pop("action", OfflineAction.CHECKIN),  # type: ignore[arg-type]
        barcode=barcode,
        **kw,  # type: ignore[arg-type]
    )


def count(rt: Runtime, model: type[Base]) -> int:
    with rt.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def status_of(rt: Runtime, barcode: str) -> ItemStatus:
    with rt.db.reading() as session:
        found = session.scalar(select(Item.status).where(Item.barcode == barcode))
    assert found is not None
    return found


# -- the journal file ----------------------------------------------------------------------


def test_each_scan_is_on_disk_and_fsynced_before_record_returns(
    journal: OfflineJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def watching_fsync(fd: int) -> None:
        real_fsync(fd)
        if journal.path.exists():
            synced.append(journal.path.read_text())

    monkeypatch.setattr(os, "fsync", watching_fsync)
    scan(journal, IN_TRANSIT_TO_SE)
    assert synced and IN_TRANSIT_TO_SE in synced[0]
    entry = journal.entries()[0]
    assert entry.barcode == IN_TRANSIT_TO_SE and entry.branch == "METRO" and entry.staff == "desk"
    assert entry.at == AT and entry.action is OfflineAction.CHECKIN
    assert len(entry.key) == 36


def test_journal_is_private_to_the_user(journal: OfflineJournal) -> None:
    scan(journal, IN_TRANSIT_TO_SE)
    assert stat.S_IMODE(journal.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600


def test_every_scan_gets_its_own_key(journal: OfflineJournal) -> None:
    for _ in range(3):
        scan(journal, IN_TRANSIT_TO_SE)  # the same barcode three times is three scans
    keys = {e.key for e in journal.entries()}
    assert len(keys) == 3 and journal.pending() == 3


def test_offline_checkout_without_patron_is_refused_with_a_reason(
    journal: OfflineJournal,
) -> None:
    with pytest.raises(JournalError, match="patron"):
        scan(journal, ON_HOLD_AT_METRO, action=OfflineAction.CHECKOUT)
    assert journal.pending() == 0


def test_a_full_disk_is_a_clear_refusal_and_leaves_no_half_entry(
    journal: OfflineJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan(journal, OWNED_METRO)
    real_write = os.write

    def disk_full(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(JournalError, match="Keep the item aside"):
        scan(journal, IN_TRANSIT_TO_SE)
    monkeypatch.setattr(os, "write", real_write)
    assert [e.barcode for e in journal.entries()] == [OWNED_METRO]
    assert read_entries(journal.path)[1] == []


def test_a_torn_last_line_keeps_the_others_and_is_reported(
    journal: OfflineJournal, demo_rt: Runtime
) -> None:
    scan(journal, OWNED_METRO)
    with journal.path.open("a") as handle:
        handle.write('{"key": "1234", "barcode": "ILL0000')  # power cut mid-write
    entries, bad = read_entries(journal.path)
    assert [e.barcode for e in entries] == [OWNED_METRO]
    assert len(bad) == 1 and bad[0].number == 2
    report = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert report.count(EntryStatus.APPLIED) == 1
    assert [c.code for c in report.conflicts] == ["unreadable_entry"]
    assert "Line 2" in report.conflicts[0].explanation


def test_replayed_journal_is_kept_for_audit_then_purged(
    journal: OfflineJournal, demo_rt: Runtime, clock: FixedClock
) -> None:
    with demo_rt.db.transaction() as session:
        library_settings.save(session, offline_journal_keep_days=3)
    scan(journal, OWNED_METRO)
    report = replay_journal(demo_rt, as_desk(demo_rt), journal)
    assert report.complete and report.archived is not None
    assert not journal.path.exists() and journal.pending() == 0
    kept = list(journal.replayed_files())
    assert len(kept) == 1 and stat.S_IMODE(kept[0].stat().st_mode) == 0o600
    clock.advance(days=4)
    scan(journal, OWNED_METRO)
    replay_journal(demo_rt, as_desk(demo_rt), journal)
    assert len(list(journal.replayed_files())) == 1  # the first one is past its 3 days
    assert kept[0] not in list(journal.replayed_files())


# -- replay ---------------------------------------------------------------------------------


def test_replay_applies_each_scan_once_even_when_replayed_twice(
    journal: OfflineJournal, demo_rt: Runtime
) -> None:
    scan(journal, IN_TRANSIT_TO_SE, "SE", provisional="hold_shelf")
    scan(journal, CHECKED_OUT_AT_METRO, provisional="return_to_ill_office")
    scan(journal, OWNED_METRO, provisional="reshelve")
    first = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert [e.status for e in first.entries] == [EntryStatus.APPLIED] * 3
    assert [e.outcome for e in first.entries] == ["hold_shelf", "return_to_ill_office", "reshelve"]
    rows = {m: count(demo_rt, m) for m in (AuditEvent, HoldShelfEntry, Transit, Loan, AppliedScan)}

    second = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert [e.status for e in second.entries] == [EntryStatus.ALREADY_APPLIED] * 3
    assert {m: count(demo_rt, m) for m in rows} == rows  # nothing new anywhere
    assert status_of(demo_rt, IN_TRANSIT_TO_SE) is ItemStatus.ON_HOLD_SHELF


def test_replay_uses_the_time_of_the_scan(journal: OfflineJournal, demo_rt: Runtime) -> None:
    scan(journal, CHECKED_OUT_AT_METRO)
    replay_file(demo_rt, as_desk(demo_rt), journal.path)
    with demo_rt.db.reading() as session:
        returned = session.scalar(
            select(Loan.returned_at)
            .join(Item, Item.id == Loan.item_id)
            .where(Item.barcode == CHECKED_OUT_AT_METRO)
        )
    assert returned == AT


def test_conflicts_are_listed_with_a_code_and_an_explanation(
    journal: OfflineJournal, demo_rt: Runtime, actor_at: ActorAt
) -> None:
    with demo_rt.db.transaction() as session:
        library_settings.save(session, offline_checkouts_allowed=True)
    scan(journal, UNKNOWN)
    scan(journal, IN_TRANSIT_TO_WEST, provisional="transit")
    scan(journal, ON_HOLD_AT_METRO, action=OfflineAction.CHECKOUT, patron="T00123456")
    scan(journal, OWNED_METRO, "NOWHERE")  # a branch that does not exist
    # Meanwhile, desks still connected moved two of those items.
    check_in(demo_rt, actor_at("desk", "WEST"), IN_TRANSIT_TO_WEST)
    assert check_out(demo_rt, actor_at("desk", "METRO"), "T00123456", ON_HOLD_AT_METRO)

    report = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    codes = [(e.barcode, e.status, e.code) for e in report.entries]
    assert codes == [
        (UNKNOWN, EntryStatus.CONFLICT, "item_unknown"),
        (IN_TRANSIT_TO_WEST, EntryStatus.CONFLICT, "hold_changed"),
        (ON_HOLD_AT_METRO, EntryStatus.CONFLICT, "checked_out_elsewhere"),
        (OWNED_METRO, EntryStatus.CONFLICT, "branch_unknown"),
    ]
    for entry in report.entries:
        assert len(entry.explanation) > 20, entry
    assert "WEST" in report.entries[1].explanation
    assert count(demo_rt, NotFoundScan) == 1
    assert report.complete  # conflicts are dealt with (listed), not left pending
    again = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert {e.status for e in again.entries} == {EntryStatus.ALREADY_APPLIED}
    assert count(demo_rt, NotFoundScan) == 1
    # Replaying the kept file again lists the same conflicts for staff, writing nothing.
    assert [(e.code, e.explanation) for e in again.entries] == [
        (e.code, e.explanation) for e in report.entries
    ]


def test_offline_checkouts_need_the_library_setting(
    journal: OfflineJournal, demo_rt: Runtime
) -> None:
    scan(journal, ON_HOLD_AT_METRO, action=OfflineAction.CHECKOUT, patron="T00123456")
    report = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert [c.code for c in report.conflicts] == ["offline_checkout_not_allowed"]
    assert status_of(demo_rt, ON_HOLD_AT_METRO) is ItemStatus.ON_HOLD_SHELF


def test_offline_checkout_is_applied_when_allowed(
    journal: OfflineJournal, demo_rt: Runtime
) -> None:
    with demo_rt.db.transaction() as session:
        library_settings.save(session, offline_checkouts_allowed=True)
    scan(journal, ON_HOLD_AT_METRO, action=OfflineAction.CHECKOUT, patron="T00123456")
    report = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert [e.status for e in report.entries] == [EntryStatus.APPLIED]
    assert report.entries[0].outcome == "checked_out"
    assert status_of(demo_rt, ON_HOLD_AT_METRO) is ItemStatus.CHECKED_OUT


def test_cli_replays_a_journal_copied_from_another_pc(
    journal: OfflineJournal,
    demo_rt: Runtime,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)  # the command runs on the real clock
    scan(journal, OWNED_METRO, at=an_hour_ago)
    scan(journal, UNKNOWN, at=an_hour_ago)
    copied = tmp_path / "from-dead-pc.jsonl"
    copied.write_bytes(journal.path.read_bytes())
    code = main(
        ["--db", database_url, "--json", "offline", "replay", str(copied), "--staff", "office"]
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1  # one conflict
    assert [line.get("status") for line in lines[:2]] == ["applied", "conflict"]
    assert lines[1]["code"] == "item_unknown" and lines[1]["explanation"]
    assert lines[2]["summary"]["applied"] == 1 and lines[2]["summary"]["conflicts"] == 1
    assert copied.exists()  # another PC's file is left where it was

    code = main(
        ["--db", database_url, "--json", "offline", "replay", str(copied), "--staff", "office"]
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    summary = lines[-1]["summary"]
    assert summary["already_applied"] == 2
    # The unknown item still carries its conflict: a second replay does not say "0 conflicts".
    assert summary["conflicts"] == 1 and summary["new_conflicts"] == 0 and code == 1
    assert lines[1]["code"] == "item_unknown"


def test_cli_status_counts_waiting_scans(capsys: pytest.CaptureFixture[str]) -> None:
    live = OfflineJournal()  # this PC's journal, in the test's data directory
    scan(live, OWNED_METRO)
    assert main(["--json", "offline", "status"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["waiting"] == 1 and record["journal"] == str(live.path)
    assert main(["offline", "replay", "/nonexistent/journal.jsonl", "--staff", "office"]) == 1
    assert "no journal file" in capsys.readouterr().err


# -- provisional routing from the snapshot -----------------------------------------------------


def test_snapshot_guesses_the_routing_and_says_unknown_otherwise(
    demo_rt: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "snapshot.db"
    assert snapshot.refresh(demo_rt.db, path) > 10
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    today = demo_rt.clock.today()
    here = snapshot.guess("SE", IN_TRANSIT_TO_SE, today, path)
    assert here.outcome == "hold_shelf" and here.headline.startswith("Provisional")
    away = snapshot.guess("METRO", IN_TRANSIT_TO_SE, today, path)
    assert away.outcome == "transit" and away.destination == "SE"
    unknown = snapshot.guess("METRO", UNKNOWN, today, path)
    assert not unknown.known and "keep aside" in unknown.headline
    assert not snapshot.guess("METRO", OWNED_METRO, today, tmp_path / "none.db").known
    # Our own items: one back from a borrowing library is known; one on its shelf is not.
    lent = snapshot.guess("METRO", "31234000000015", today, path)
    assert lent.known and lent.destination == "SE"
    assert not snapshot.guess("METRO", OWNED_METRO, today, path).known


# -- the outage ---------------------------------------------------------------------------------


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    from tests.conftest import PG_SERVER_URL

    url = make_url(PG_SERVER_URL)
    cut = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    cut.start()
    try:
        yield cut
    finally:
        cut.stop()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_outage_scans_offline_then_replays_every_scan_once(
    demo_rt: Runtime,
    database_url: str,
    actor_at: ActorAt,
    proxy: TcpProxy,
    tmp_path: Path,
) -> None:
    through = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    desk_db = Database(through.render_as_string(hide_password=False))
    desk = Runtime(desk_db, FixedClock(AT))
    try:
        snapshot.refresh(desk_db)  # while online
        metro, se = actor_at("desk", "METRO"), actor_at("desk", "SE")
        assert check_in(desk, metro, OWNED_METRO).outcome is Outcome.RESHELVE  # online

        proxy.stop()  # the network to the server is gone
        provisional = ProvisionalDesk(OfflineJournal(), desk.clock)
        offline_results = []
        for actor, barcode in (
            (se, IN_TRANSIT_TO_SE),
            (metro, CHECKED_OUT_AT_METRO),
            (metro, UNKNOWN),
            (metro, IN_TRANSIT_TO_WEST),
        ):
            with pytest.raises(OperationalError):
                check_in(desk, actor, barcode)
            offline_results.append(check_in(desk, actor, barcode, offline=provisional))
        assert [r.headline for r in offline_results] == [
            "Provisional: put on the hold shelf here",
            "Provisional: send to WS-ILL, the ILL office, with a yellow strap",
            "Unknown: keep aside",
            "Provisional: send to WEST",
        ]
        journal = OfflineJournal()
        assert journal.pending() == 4
        down = replay_journal(desk, metro, journal)  # still down: nothing lost, nothing applied
        assert {e.status for e in down.entries} == {EntryStatus.NOT_REPLAYED}
        assert {e.code for e in down.entries} == {"database_unavailable"}
        assert journal.pending() == 4 and not down.archived

        proxy.start()  # back
        report = replay_journal(desk, metro, journal)
        assert [e.status for e in report.entries] == [
            EntryStatus.APPLIED,
            EntryStatus.APPLIED,
            EntryStatus.CONFLICT,
            EntryStatus.APPLIED,
        ]
        assert report.complete and journal.pending() == 0
        assert status_of(demo_rt, IN_TRANSIT_TO_SE) is ItemStatus.ON_HOLD_SHELF
        assert status_of(demo_rt, CHECKED_OUT_AT_METRO) is ItemStatus.IN_TRANSIT
        assert count(demo_rt, AppliedScan) == 5  # the online scan records its key too

        archived = report.archived
        assert archived is not None
        again = replay_file(desk, metro, Path(archived))  # the kept copy, replayed by mistake
        assert {e.status for e in again.entries} == {EntryStatus.ALREADY_APPLIED}
        assert count(demo_rt, AppliedScan) == 5  # the online scan records its key too
    finally:
        desk_db.dispose()


def test_replay_credits_the_replaying_pc_and_keeps_the_pc_the_line_names(
    journal: OfflineJournal, demo_rt: Runtime
) -> None:
    scan(journal, IN_TRANSIT_TO_SE, "SE", workstation="desk-pc-1")
    scan(journal, CHECKED_OUT_AT_METRO, "SE", workstation="desk-pc-2")
    report = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert [e.claimed_workstation for e in report.entries] == ["desk-pc-1", "desk-pc-2"]
    with demo_rt.db.reading() as session:
        places = session.scalars(
            select(AuditEvent.workstation)
            .where(AuditEvent.action == "check_in")
            .order_by(AuditEvent.id)
        ).all()
        claims = session.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.action == "offline.replay")
            .order_by(AuditEvent.id)
        ).all()
    assert places == ["test-desk", "test-desk"]  # the PC that replayed them
    assert ["desk-pc-1" in claims[0], "desk-pc-2" in claims[1]] == [True, True]


def test_change_feed_notices_another_desks_change(demo_rt: Runtime, actor_at: ActorAt) -> None:
    from app.records.change_feed import ChangeFeed

    feed = ChangeFeed(demo_rt.db)
    assert feed.poll() is False  # the first poll only learns where things stand
    assert feed.poll() is False  # nothing happened
    check_in(demo_rt, actor_at("desk", "SE"), IN_TRANSIT_TO_SE)  # another desk
    assert feed.poll() is True
    assert feed.poll() is False


def test_a_scan_journaled_during_the_replay_stays_for_the_next_one(
    journal: OfflineJournal, demo_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.offline.replay

    scan(journal, OWNED_METRO)
    real = app.offline.replay.replay_file

    def replay_then_scan(rt: Runtime, actor: Actor, path: Path, *progress: Any) -> object:
        report = real(rt, actor, path, *progress)
        scan(journal, IN_TRANSIT_TO_SE, "SE")  # the desk went offline again meanwhile
        return report

    monkeypatch.setattr(app.offline.replay, "replay_file", replay_then_scan)
    report = replay_journal(demo_rt, as_desk(demo_rt), journal)
    assert report.archived is not None
    assert [e.barcode for e in journal.entries()] == [IN_TRANSIT_TO_SE]
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
