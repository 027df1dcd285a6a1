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
import unicodedata
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
_FILE_MODE = 0o600  # as `app.workstation.private_files`: created so, never wider for a moment
_APPEND_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
FORMAT_VERSION = 1
# A real entry is a few hundred characters: longer lines and fields are not scans, and
# refusing them early keeps one absurd line from costing the reader time or memory.
MAX_LINE_CHARS = 8192
MAX_FIELD_CHARS = 200


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
        """Read one line strictly: anything but the expected types and sizes is unreadable.

        A line may have been edited by hand or torn by a crash, so nothing in it is trusted:
        each field must be text of a sane length without control characters, and the time
        must be a real moment. Raises ValueError (with a short reason) otherwise.
        """
        if len(line) > MAX_LINE_CHARS:
            raise ValueError(f"longer than {MAX_LINE_CHARS} characters")
        try:
            data = json.loads(line)
        except RecursionError:
            raise ValueError("nested too deeply") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        version = data.get("v", FORMAT_VERSION)
        if type(version) is not int or version != FORMAT_VERSION:
            raise ValueError("not a journal format this version reads")
        patron = data.get("patron")
        return cls(
            key=_key(_field(data, "key")),
            at=_moment(_field(data, "at", 64)),
            branch=_field(data, "branch"),
            staff=_field(data, "staff"),
            action=_action(_field(data, "action")),
            barcode=_field(data, "barcode"),
            patron=None if patron is None else _field(data, "patron"),
            workstation=_field(data, "workstation", default=""),
            provisional=_field(data, "provisional", default=""),
        )


# Characters no scan, name or code contains: control, surrogate and format (bidi) characters.
_UNPRINTABLE = frozenset({"Cc", "Cs", "Cf"})


def _field(
    data: dict[str, object], name: str, limit: int = MAX_FIELD_CHARS, default: str | None = None
) -> str:
    """A text field of a journal line, checked; the reason names the field, never its value."""
    if name not in data:
        if default is not None:
            return default
        raise ValueError(f"no '{name}'")
    value = data[name]
    if not isinstance(value, str):
        raise ValueError(f"'{name}' is not text")
    if len(value) > limit:
        raise ValueError(f"'{name}' is longer than {limit} characters")
    if any(unicodedata.category(c) in _UNPRINTABLE for c in value):
        raise ValueError(f"'{name}' holds control characters")
    return value


def _key(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ValueError("'key' is not a scan key") from None


def _moment(text: str) -> datetime:
    """The scan's time in UTC; a time without zone was written in UTC."""
    try:
        at = datetime.fromisoformat(text)
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("'at' is not a date and time") from None


def _action(text: str) -> OfflineAction:
    try:
        return OfflineAction(text)
    except ValueError:
        raise ValueError("'action' is neither checkin nor checkout") from None


@dataclass(frozen=True)
class BadLine:
    """A line that cannot be read back (a torn write at power loss, a hand edit)."""

    number: int
    text: str
    reason: str


def journal_dir(base: Path | None = None) -> Path:
    return (base or config.data_dir()) / "journal"


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, _DIR_MODE)  # an existing directory is narrowed too
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
        except ValueError as exc:
            reason = f"unreadable journal line ({exc})"
        start = _glued_record(line) if len(line) <= MAX_LINE_CHARS else None
        if start is None:
            bad.append(BadLine(number, line[:200], reason[:200]))
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
        except ValueError:
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
                fd = os.open(self.path, _APPEND_FLAGS, _FILE_MODE)
                try:
                    if hasattr(os, "fchmod"):  # an existing file is narrowed before the write
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
                        if hasattr(os, "fchmod"):
                            os.fchmod(fd, _FILE_MODE)  # a leftover from a crash keeps its mode
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
            except ValueError:
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
