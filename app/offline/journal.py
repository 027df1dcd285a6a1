"""The offline journal: scans taken while the shared database cannot be reached.

Each scan is one JSON line appended to ``<data dir>/journal/scans.jsonl`` and fsynced
before the desk's screen confirms it, so a power cut after the banner cannot lose it.
The file holds patron data: the directory is 0700 and the files 0600 (owner only).

Every entry carries a uuid4 idempotency key; replaying (see `app.offline.replay`) records the key
in the same transaction as the scan, so a journal replayed twice applies each scan once.
After a successful replay the file is renamed ``replayed-<UTC time>.jsonl`` and kept for
audit for the library's ``offline_journal_keep_days``; older replayed files are purged.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import threading
import uuid
from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from app.workstation import config

JOURNAL_NAME = "scans.jsonl"
REPLAYED_PREFIX = "replayed-"
_DIR_MODE = 0o700
_FILE_MODE = 0o600
FORMAT_VERSION = 1


class JournalError(Exception):
    """The journal cannot be written or read; the message says what to do."""


class OfflineAction(StrEnum):
    CHECKIN = "checkin"
    CHECKOUT = "checkout"


@dataclass(frozen=True)
class JournalEntry:
    """One scan taken offline, exactly as the desk saw it."""

    key: str  # uuid4: the idempotency key
    at: datetime  # when it was scanned (UTC)
    branch: str  # branch code of the desk
    staff: str  # username of the signed-in staff member
    action: OfflineAction
    barcode: str
    patron: str | None = None  # the patron reference, for a checkout
    workstation: str = ""
    provisional: str = ""  # the outcome the desk was shown (snapshot guess)

    def to_json(self) -> str:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["action"] = self.action.value
        data["v"] = FORMAT_VERSION
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> JournalEntry:
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        at = datetime.fromisoformat(str(data["at"]))
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        patron = data.get("patron")
        return cls(
            key=str(uuid.UUID(str(data["key"]))),
            at=at,
            branch=str(data["branch"]),
            staff=str(data["staff"]),
            action=OfflineAction(str(data["action"])),
            barcode=str(data["barcode"]),
            patron=None if patron is None else str(patron),
            workstation=str(data.get("workstation", "")),
            provisional=str(data.get("provisional", "")),
        )


@dataclass(frozen=True)
class BadLine:
    """A line that cannot be read back (a torn write at power loss, a hand edit)."""

    number: int
    text: str
    reason: str


def journal_dir(base: Path | None = None) -> Path:
    return (base or config.data_dir()) / "journal"


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, _DIR_MODE)
    return path


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":  # pragma: no cover - Windows has no directory handles to fsync
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_entries(path: Path) -> tuple[list[JournalEntry], list[BadLine]]:
    """Every entry of a journal file in order, and the lines that could not be read."""
    numbered, bad = read_numbered(path)
    return [entry for _, entry in numbered], bad


def read_numbered(path: Path) -> tuple[list[tuple[int, JournalEntry]], list[BadLine]]:
    """Every entry with the line it stands on, and the lines (or fragments) that cannot be read.

    A write torn by a crash or a full disk in an older journal can leave a fragment with the
    next record glued to it on the same line: the whole record after the fragment is still
    read, and only the fragment is reported.
    """
    entries: list[tuple[int, JournalEntry]] = []
    bad: list[BadLine] = []
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        raise JournalError(f"The journal {path} cannot be read ({exc.strerror or exc}).") from exc
    for number, chunk in enumerate(raw.split(b"\n"), start=1):
        line = chunk.decode("utf-8", errors="replace").rstrip("\r")
        if not line.strip():
            continue
        try:
            entries.append((number, JournalEntry.from_json(line)))
            continue
        except (ValueError, KeyError, TypeError) as exc:
            reason = f"unreadable journal line ({exc})"
        start = _glued_record(line)
        if start is None:
            bad.append(BadLine(number, line[:200], reason))
            continue
        fragment = line[:start]
        if fragment.strip():
            bad.append(BadLine(number, fragment[:200], "a scan torn off by a failed write"))
        entries.append((number, JournalEntry.from_json(line[start:])))
    return entries, bad


def _glued_record(line: str) -> int | None:
    """Where a whole record starts after a torn fragment on the same line, if one does."""
    at = line.find("{", 1)
    while at != -1:
        try:
            JournalEntry.from_json(line[at:])
        except (ValueError, KeyError, TypeError):
            at = line.find("{", at + 1)
            continue
        return at
    return None


def _write_whole(fd: int, data: bytes) -> None:
    """Write all of `data` (a short write is continued; a refused one raises)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, "no byte could be written")
        view = view[written:]


def _ends_a_line(fd: int, size: int) -> bool:
    return size == 0 or os.pread(fd, 1, size - 1) == b"\n"


class OfflineJournal:
    """This workstation's journal; safe to use from the GUI thread and a worker at once."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or journal_dir()
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.directory / JOURNAL_NAME

    def record(
        self,
        *,
        at: datetime,
        branch: str,
        staff: str,
        action: OfflineAction,
        barcode: str,
        patron: str | None = None,
        workstation: str = "",
        provisional: str = "",
        key: str | None = None,
    ) -> JournalEntry:
        """Append one scan and fsync it; only then may the screen confirm the scan.

        `key` is the scan's idempotency key when the desk already tried it online with one
        (the commit may have reached the server before the connection broke).
        """
        if action is OfflineAction.CHECKOUT and not (patron or "").strip():
            raise JournalError("An offline checkout needs the patron's ID. Scan the patron first.")
        entry = JournalEntry(
            key=str(uuid.UUID(key)) if key else str(uuid.uuid4()),
            at=at.astimezone(UTC),
            branch=branch,
            staff=staff,
            action=action,
            barcode=barcode,
            patron=patron.strip() if patron else None,
            workstation=workstation,
            provisional=provisional,
        )
        line = (entry.to_json() + "\n").encode("utf-8")
        with self._lock:
            try:
                _private_dir(self.directory)
                created = not self.path.exists()
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, _FILE_MODE)
                try:
                    if hasattr(os, "fchmod"):
                        os.fchmod(fd, _FILE_MODE)
                    size = os.fstat(fd).st_size
                    # A tail torn by a crash never swallows this record: start a fresh line.
                    payload = line if _ends_a_line(fd, size) else b"\n" + line
                    try:
                        _write_whole(fd, payload)
                        os.fsync(fd)
                    except OSError:
                        _cut_back(fd, size)
                        raise
                finally:
                    os.close(fd)
                if created:
                    _fsync_dir(self.directory)
            except OSError as exc:
                raise JournalError(
                    f"The scan could not be saved in the offline journal ({exc.strerror or exc}). "
                    "Keep the item aside and write its barcode down."
                ) from exc
        return entry

    def entries(self) -> list[JournalEntry]:
        return read_entries(self.path)[0]

    def pending(self) -> int:
        """How many scans wait to be replayed."""
        with self._lock:
            return len(read_entries(self.path)[0])

    def archive(
        self, now: datetime, keep_days: int, done: Collection[str] | None = None
    ) -> Path | None:
        """After a successful replay: keep the file for audit, then purge expired ones.

        `done` holds the keys that were replayed: a scan journaled while the replay ran
        stays in the journal for the next one (the archive is a hard link made first, so
        a crash in between leaves the journal whole; replaying it again is harmless).
        """
        with self._lock:
            archived: Path | None = None
            if self.path.exists():
                stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
                archived = self.directory / f"{REPLAYED_PREFIX}{stamp}.jsonl"
                later = self._not_done(done) if done is not None else []
                os.link(self.path, archived)
                os.chmod(archived, _FILE_MODE)
                if later:
                    rest = self.directory / f"{JOURNAL_NAME}.rest"
                    fd = os.open(rest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
                    try:
                        os.write(fd, b"".join(later))
                        os.fsync(fd)
                    finally:
                        os.close(fd)
                    os.replace(rest, self.path)
                else:
                    self.path.unlink()
                _fsync_dir(self.directory)
            self._purge(now, keep_days)
            return archived

    def _not_done(self, done: Collection[str]) -> list[bytes]:
        later: list[bytes] = []
        for line in self.path.read_bytes().splitlines(keepends=True):
            try:
                key = JournalEntry.from_json(line.decode("utf-8")).key
            except (ValueError, KeyError, TypeError):
                continue  # unreadable lines were reported by the replay that read them
            if key not in done:
                later.append(line)
        return later

    def replayed_files(self) -> Iterator[Path]:
        if self.directory.exists():
            yield from sorted(self.directory.glob(f"{REPLAYED_PREFIX}*.jsonl"))

    def _purge(self, now: datetime, keep_days: int) -> None:
        limit = now.astimezone(UTC) - timedelta(days=max(keep_days, 0))
        for path in list(self.replayed_files()):
            stamp = path.name[len(REPLAYED_PREFIX) : -len(".jsonl")]
            try:
                when = datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
            except ValueError:
                continue
            if when < limit:
                path.unlink(missing_ok=True)


def _cut_back(fd: int, size: int) -> None:
    """Undo a failed append: the journal never keeps part of a scan the desk did not confirm."""
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    except OSError:  # pragma: no cover - the reader still skips a fragment it cannot parse
        pass


def is_private(path: Path) -> bool:
    """True when only the owner may read or write `path` (always true off POSIX)."""
    if os.name != "posix":  # pragma: no cover
        return True
    mode = stat.S_IMODE(path.stat().st_mode)
    return mode & 0o077 == 0
