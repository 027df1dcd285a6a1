"""The offline journal under a full disk and torn writes: no confirmed scan is ever lost.

The real fault is a tiny tmpfs the test mounts (as root) and fills: the kernel writes part
of a scan, then refuses the rest. Where mounting is impossible the same partial write is
injected at `os.write`, so the behaviour is always tested.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.library.runtime import Runtime
from app.offline.journal import JournalError, OfflineAction, OfflineJournal, read_numbered
from app.offline.replay import EntryStatus, replay_file
from tests.signed_in import as_desk

AT = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)  # before the test clock: scanned, then replayed


def scan(journal: OfflineJournal, n: int) -> str:
    barcode = f"ILL{n:08d}"
    journal.record(
        at=AT + timedelta(seconds=n),
        branch="METRO",
        staff="desk",
        action=OfflineAction.CHECKIN,
        barcode=barcode,
        provisional="hold_shelf",
    )
    return barcode


def _mount_tiny(where: Path) -> str | None:
    """Mount a 16 KiB tmpfs at `where`; the reason when this machine does not allow it."""
    if os.name != "posix" or os.geteuid() != 0:
        return "mounting a tiny filesystem needs root"
    if shutil.which("mount") is None:
        return "no mount command on this machine"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    return None if done.returncode == 0 else f"mount refused: {done.stderr.strip()}"


@pytest.fixture
def tiny_disk() -> Iterator[Path]:
    where = Path(tempfile.mkdtemp(prefix="illdesk-tiny-"))
    reason = _mount_tiny(where)
    if reason is not None:
        where.rmdir()
        pytest.skip(f"no real small filesystem: {reason} (the os.write test still runs)")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()


def fill_until_refused(journal: OfflineJournal) -> list[str]:
    confirmed: list[str] = []
    for n in range(1, 10_000):
        try:
            confirmed.append(scan(journal, n))
        except JournalError:
            return confirmed
    raise AssertionError("the disk never filled up")


def test_a_full_real_disk_loses_no_confirmed_scan(tiny_disk: Path) -> None:
    journal = OfflineJournal(tiny_disk / "journal")
    ballast = tiny_disk / "ballast"
    ballast.write_bytes(b"x" * 8192)  # space to give back later, as when a log is deleted
    confirmed = fill_until_refused(journal)
    assert confirmed, "no scan fitted at all"
    # The refused scan left nothing behind: the file ends on a whole record.
    assert journal.path.read_bytes().endswith(b"\n")
    numbered, bad = read_numbered(journal.path)
    assert bad == [] and [e.barcode for _, e in numbered] == confirmed

    ballast.unlink()  # space is back
    after = scan(journal, 99_999)
    numbered, bad = read_numbered(journal.path)
    assert bad == []
    assert [e.barcode for _, e in numbered] == [*confirmed, after]


def test_a_partial_write_then_no_space_is_cut_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same fault without a mount: half a scan written, then ENOSPC."""
    journal = OfflineJournal(tmp_path / "journal")
    first = scan(journal, 1)
    real_write = os.write
    calls: list[int] = []

    def half_then_full(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(JournalError, match="Keep the item aside"):
        scan(journal, 2)
    monkeypatch.setattr(os, "write", real_write)
    assert len(calls) == 2, "the fault was never injected"
    later = scan(journal, 3)  # space is back: fsynced and confirmed
    numbered, bad = read_numbered(journal.path)
    assert bad == []
    assert [e.barcode for _, e in numbered] == [first, later]


def test_a_failed_fsync_leaves_no_entry_the_desk_did_not_confirm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = OfflineJournal(tmp_path / "journal")
    first = scan(journal, 1)

    def no_space(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "fsync", no_space)
        with pytest.raises(JournalError):
            scan(journal, 2)
    assert [e.barcode for e in journal.entries()] == [first]


def test_a_record_after_a_torn_tail_starts_its_own_line(tmp_path: Path) -> None:
    """A crash mid-write (nothing could cut it back) must not swallow the next scan."""
    journal = OfflineJournal(tmp_path / "journal")
    first = scan(journal, 1)
    with journal.path.open("ab") as handle:
        handle.write(b'{"action": "checkin", "at": "2026-11-')  # power cut here
    later = scan(journal, 2)
    numbered, bad = read_numbered(journal.path)
    assert [e.barcode for _, e in numbered] == [first, later]
    assert [b.number for b in bad] == [2]


def test_a_reader_recovers_a_whole_record_glued_to_a_fragment(tmp_path: Path) -> None:
    """Journals written before the fix: fragment and next record on one line."""
    journal = OfflineJournal(tmp_path / "journal")
    first = scan(journal, 1)
    second = scan(journal, 2)
    third = scan(journal, 3)
    lines = journal.path.read_bytes().splitlines(keepends=True)
    torn = lines[1][:40]
    journal.path.write_bytes(lines[0] + torn + lines[1] + lines[2])
    numbered, bad = read_numbered(journal.path)
    assert [e.barcode for _, e in numbered] == [first, second, third]
    assert [n for n, _ in numbered] == [1, 2, 3]
    assert len(bad) == 1 and bad[0].number == 2 and "torn" in bad[0].reason
    del torn, second


def test_the_replay_report_names_journal_lines_and_keeps_counting_conflicts(
    tmp_path: Path, demo_rt: Runtime
) -> None:
    """Entries after an unreadable line keep their own line numbers; a second replay
    still counts every entry that carries a conflict."""
    journal = OfflineJournal(tmp_path / "journal")
    journal.record(
        at=AT, branch="METRO", staff="desk", action=OfflineAction.CHECKIN, barcode="31234099999999"
    )
    with journal.path.open("ab") as handle:
        handle.write(b"not a scan at all\n")
    journal.record(
        at=AT, branch="METRO", staff="desk", action=OfflineAction.CHECKIN, barcode="31234099999998"
    )
    report = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert [(e.line, e.code) for e in report.entries] == [
        (1, "item_unknown"),
        (2, "unreadable_entry"),
        (3, "item_unknown"),
    ]
    again = replay_file(demo_rt, as_desk(demo_rt), journal.path)
    assert [e.line for e in again.entries] == [1, 2, 3]
    assert len(again.conflicts) == 3
    assert again.count(EntryStatus.ALREADY_APPLIED) == 2
