"""A journal line is a claim, not an identity: the replay acts as whoever runs it.

Anyone who can write the journal file can put any staff name, branch, workstation or time
in a line. These tests forge lines and check the audit trail names the staff member who
replayed them, records what the line claimed, and that no value stops the replay.
"""

from __future__ import annotations

import json
import os
import stat
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.library.runtime import Runtime
from app.offline.journal import OfflineAction, OfflineJournal, read_numbered
from app.offline.replay import EntryStatus, ReplayReport, replay_file, replay_journal
from db.models import AuditEvent, Item, ItemStatus
from tests.signed_in import as_desk, as_office

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # the test clock: the replay's now
AT = NOW - timedelta(hours=1)
IN_TRANSIT_TO_SE = "ILL00000018"  # on hold for a patron at SE: at SE it goes on the shelf
OWNED_METRO = "31234000000001"
UNKNOWN = "31234099999999"


@pytest.fixture
def journal(tmp_path: Path) -> OfflineJournal:
    return OfflineJournal(tmp_path / "journal")


def line(barcode: str = UNKNOWN, **fields: Any) -> dict[str, Any]:
    """A journal line as the desk writes it, with `fields` forged."""
    data: dict[str, Any] = {
        "key": str(uuid.uuid4()),
        "at": AT.isoformat(),
        "branch": "METRO",
        "staff": "desk",
        "action": "checkin",
        "barcode": barcode,
        "patron": None,
        "workstation": "desk-pc-1",
        "provisional": "",
        "v": 1,
    }
    data.update(fields)
    return data


def write(journal: OfflineJournal, *lines: dict[str, Any] | str | bytes) -> None:
    journal.directory.mkdir(parents=True, exist_ok=True)
    with journal.path.open("ab") as handle:
        for each in lines:
            if isinstance(each, dict):
                each = json.dumps(each)
            handle.write((each if isinstance(each, bytes) else each.encode()) + b"\n")


def status_of(rt: Runtime, barcode: str) -> ItemStatus:
    with rt.db.reading() as session:
        found = session.scalar(select(Item.status).where(Item.barcode == barcode))
    assert found is not None
    return found


def events(rt: Runtime, action: str) -> list[AuditEvent]:
    with rt.db.reading() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def codes(report: ReplayReport) -> list[tuple[int, str, str]]:
    return [(e.line, e.status.value, e.code) for e in report.entries]


# -- who and where -------------------------------------------------------------------------


def test_a_line_naming_an_admin_is_audited_as_the_desk_member_who_replays_it(
    journal: OfflineJournal, demo_rt: Runtime
) -> None:
    write(journal, line(OWNED_METRO, staff="admin", branch="NEC", workstation="forged-pc"))
    report = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert codes(report) == [(1, "applied", "")]
    entry = report.entries[0]
    assert (entry.claimed_staff, entry.claimed_branch, entry.claimed_workstation) == (
        "admin",
        "NEC",
        "forged-pc",
    )
    check_in = events(demo_rt, "check_in")[-1]
    assert (check_in.username, check_in.workstation) == ("desk", "test-desk")
    assert check_in.branch_code == "NEC"  # where the item was scanned: desk may work there
    replayed = events(demo_rt, "offline.replay")[-1]
    assert (replayed.username, replayed.branch_code, replayed.workstation) == (
        "desk",
        "METRO",
        "test-desk",
    )
    assert replayed.at == NOW
    assert replayed.after is not None
    assert replayed.after["claimed"] == {
        "staff": "admin",
        "branch": "NEC",
        "workstation": "forged-pc",
        "at": AT.isoformat(),
    }
    assert "'admin'" in replayed.detail and "'NEC'" in replayed.detail
    with demo_rt.db.reading() as session:
        admins = session.scalars(select(AuditEvent).where(AuditEvent.username == "admin")).all()
    assert admins == []  # the replay wrote nothing in the admin's name


def test_routing_uses_the_branch_where_the_item_was_scanned(
    journal: OfflineJournal, demo_rt: Runtime
) -> None:
    write(journal, line(IN_TRANSIT_TO_SE, branch="SE", staff="someone-else"))
    report = replay_file(demo_rt, as_desk(demo_rt), journal.path)  # desk signed in at METRO
    assert [(e.status, e.outcome) for e in report.entries] == [(EntryStatus.APPLIED, "hold_shelf")]
    assert status_of(demo_rt, IN_TRANSIT_TO_SE) is ItemStatus.ON_HOLD_SHELF


def test_a_made_up_branch_or_one_the_replayer_may_not_work_at_is_a_conflict(
    journal: OfflineJournal, demo_rt: Runtime
) -> None:
    write(
        journal,
        line(IN_TRANSIT_TO_SE, branch="NOWHERE"),
        line(IN_TRANSIT_TO_SE, branch="WS-ILL"),  # the ILL office's virtual branch
        line(OWNED_METRO),
    )
    report = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert codes(report) == [
        (1, "conflict", "branch_unknown"),
        (2, "conflict", "branch_not_allowed"),
        (3, "applied", ""),
    ]
    assert "NOWHERE" in report.entries[0].explanation
    assert status_of(demo_rt, IN_TRANSIT_TO_SE) is ItemStatus.IN_TRANSIT  # nothing applied
    conflicts = events(demo_rt, "offline.replay")
    assert [e.username for e in conflicts] == ["desk"] * 3
    assert [e.after["conflict"] for e in conflicts if e.after] == [
        "branch_unknown",
        "branch_not_allowed",
        "",
    ]


def test_the_ill_office_may_replay_a_scan_taken_at_its_virtual_branch(
    journal: OfflineJournal, demo_rt: Runtime
) -> None:
    write(journal, line(OWNED_METRO, branch="WS-ILL", staff="desk"))
    report = replay_file(demo_rt, as_office(demo_rt), journal.path)
    assert codes(report) == [(1, "applied", "")]
    assert events(demo_rt, "check_in")[-1].username == "office"


# -- when ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "code"),
    [
        ("1999-06-01T10:00:00+00:00", "scan_time_too_old"),
        ("2031-06-01T10:00:00+00:00", "scan_time_in_future"),
        ("9999-12-31T23:59:59.999999+00:00", "scan_time_in_future"),
        ("9999-12-31", "scan_time_in_future"),
        ("0001-01-01T00:00:00+00:00", "scan_time_too_old"),
        ((NOW + timedelta(minutes=1)).isoformat(), "scan_time_in_future"),
        ((NOW - timedelta(days=15)).isoformat(), "scan_time_too_old"),  # keep window: 14
    ],
)
def test_a_time_outside_the_window_is_a_conflict_and_the_replay_goes_on(
    journal: OfflineJournal, demo_rt: Runtime, at: str, code: str
) -> None:
    write(journal, line(IN_TRANSIT_TO_SE, branch="SE", at=at), line(OWNED_METRO))
    report = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert codes(report) == [(1, "conflict", code), (2, "applied", "")]
    assert status_of(demo_rt, IN_TRANSIT_TO_SE) is ItemStatus.IN_TRANSIT
    assert report.entries[0].explanation.startswith("The journal line says the scan was taken")
    again = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert [e.code for e in again.conflicts] == [code]  # listed again, applied never


def test_a_scan_older_than_the_journal_is_a_conflict(
    journal: OfflineJournal, demo_rt: Runtime
) -> None:
    write(
        journal,
        line(OWNED_METRO, at=AT.isoformat()),  # the journal began with this scan
        line(UNKNOWN, at=(AT - timedelta(minutes=2)).isoformat()),  # written out of order
        line(IN_TRANSIT_TO_SE, branch="SE", at=(AT - timedelta(days=2)).isoformat()),
    )
    report = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert codes(report) == [
        (1, "applied", ""),
        (2, "conflict", "item_unknown"),  # within a few minutes: applied (and not found)
        (3, "conflict", "scan_time_before_journal"),
    ]


def test_the_keep_window_is_the_library_setting(journal: OfflineJournal, demo_rt: Runtime) -> None:
    from app.library import library_settings

    with demo_rt.db.transaction() as session:
        library_settings.save(session, offline_journal_keep_days=3)
    write(journal, line(OWNED_METRO, at=(NOW - timedelta(days=4)).isoformat()))
    report = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert codes(report) == [(1, "conflict", "scan_time_too_old")]
    assert "3 days" in report.entries[0].explanation


# -- garbage -------------------------------------------------------------------------------

GARBAGE: list[str | bytes | dict[str, Any]] = [
    "not json at all",
    "[1, 2, 3]",
    '"just a string"',
    "null",
    "[" * 50_000 + "]" * 50_000,  # nested deeper than any parser's stack
    line(barcode="9" * 1_000_000),  # a huge barcode
    line(staff="desk\x00\x1b[31m"),  # control characters
    line(staff="\u202eadmin"),  # a right-to-left override that disguises a name
    line(barcode="\ud800"),  # a lone surrogate
    line(at=5),
    line(at=None),
    line(at={"year": 2026}),
    line(at="yesterday"),
    line(key=[]),
    line(key="not-a-uuid"),
    line(branch=None),
    line(staff=12),
    line(action="burn"),
    line(barcode=True),
    line(workstation=["pc"]),
    line(v="1"),
    line(v=True),
    line(v=2),
    '{"key": 1' + "0" * 5000 + "}",  # an integer longer than Python reads
    b"\xff\xfe not utf-8",
]


def test_no_value_in_a_line_stops_the_replay(journal: OfflineJournal, demo_rt: Runtime) -> None:
    write(journal, *GARBAGE, line(OWNED_METRO))
    report = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert len(report.entries) == len(GARBAGE) + 1
    assert {e.code for e in report.entries[:-1]} == {"unreadable_entry"}
    assert codes(report)[-1] == (len(GARBAGE) + 1, "applied", "")
    for entry in report.entries:
        assert len(entry.explanation) < 400  # a huge line is not copied into the report


def test_a_checkout_line_with_garbage_is_unreadable_not_fatal(
    journal: OfflineJournal, demo_rt: Runtime
) -> None:
    from app.library import library_settings

    with demo_rt.db.transaction() as session:
        library_settings.save(session, offline_checkouts_allowed=True)
    write(
        journal,
        line("ILL00000042", action="checkout", patron={"id": "T00123456"}),
        line("ILL00000042", action="checkout", patron="T" * 150),  # no such patron
        line(OWNED_METRO),
    )
    report = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert [e.status for e in report.entries] == [
        EntryStatus.CONFLICT,
        EntryStatus.CONFLICT,
        EntryStatus.APPLIED,
    ]
    assert report.entries[0].code == "unreadable_entry"


# -- the file ------------------------------------------------------------------------------


def test_the_journal_is_created_owner_only_whatever_the_umask(
    journal: OfflineJournal,
) -> None:
    old = os.umask(0)
    try:
        journal.record(
            at=AT, branch="METRO", staff="desk", action=OfflineAction.CHECKIN, barcode=UNKNOWN
        )
    finally:
        os.umask(old)
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.directory.stat().st_mode) == 0o700


def test_an_existing_journal_readable_by_others_is_narrowed_on_the_next_scan(
    journal: OfflineJournal,
) -> None:
    write(journal, line(OWNED_METRO))
    os.chmod(journal.path, 0o644)
    os.chmod(journal.directory, 0o755)
    journal.record(
        at=AT, branch="METRO", staff="desk", action=OfflineAction.CHECKIN, barcode=UNKNOWN
    )
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.directory.stat().st_mode) == 0o700
    assert len(read_numbered(journal.path)[0]) == 2


def test_scans_left_for_the_next_replay_stay_owner_only(
    journal: OfflineJournal, demo_rt: Runtime
) -> None:
    journal.record(
        at=AT, branch="METRO", staff="desk", action=OfflineAction.CHECKIN, barcode=OWNED_METRO
    )
    rest = journal.directory / "scans.jsonl.rest"
    rest.write_bytes(b"left over by a crash\n")
    os.chmod(rest, 0o666)
    done = {e.key for e in journal.entries()}
    journal.record(
        at=AT, branch="METRO", staff="desk", action=OfflineAction.CHECKIN, barcode=UNKNOWN
    )
    archived = journal.archive(NOW - timedelta(minutes=1), 14, done)
    assert archived is not None and stat.S_IMODE(archived.stat().st_mode) == 0o600
    assert [e.barcode for e in journal.entries()] == [UNKNOWN]
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    report = replay_journal(demo_rt, as_desk(demo_rt), journal)
    assert codes(report) == [(1, "conflict", "item_unknown")]
