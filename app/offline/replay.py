"""Replaying an offline journal once the shared database answers again.

Entries are applied in the order they were scanned, each in its own transaction that also
inserts its `AppliedScan(idempotency_key)` row: the scan and the proof that it was applied
commit together or not at all. A key already present means "applied before" and nothing
is written, so a journal replayed twice (or by two desks at once) applies every scan once.

Nothing is dropped silently: every entry ends as applied, already applied, a conflict with
a stable code and a plain explanation for staff, or not replayed yet (the database went
away again, or another desk held the item) with the journal kept for the next attempt.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.desk import checkin, checkout, checkout_results
from app.desk.routing import Outcome
from app.library import library_settings
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.errors import DatabaseUnavailable, ServiceError, is_lock_busy
from app.library.progress import KeepGoing, Progress, always, no_progress
from app.library.runtime import Runtime
from app.offline import claims
from app.offline.journal import (
    BadLine,
    JournalEntry,
    OfflineAction,
    OfflineJournal,
    read_numbered,
)
from db.models import AppliedScan

log = logging.getLogger(__name__)


class EntryStatus(StrEnum):
    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"
    CONFLICT = "conflict"  # recorded as applied; staff must look at it
    NOT_REPLAYED = "not_replayed"  # left in the journal for the next replay


@dataclass(frozen=True)
class ReplayedScan:
    line: int  # position in the journal, from 1
    key: str
    at: datetime | None
    action: str
    barcode: str
    status: EntryStatus
    outcome: str = ""  # the check-in outcome or checkout outcome the database gave
    code: str = ""  # conflict code: item_unknown, checked_out_elsewhere, hold_changed, ...
    explanation: str = ""
    # What the journal line claimed (`at` is its claimed time); the replay's actor is the
    # staff member who ran it, never these.
    claimed_staff: str = ""
    claimed_branch: str = ""
    claimed_workstation: str = ""


@dataclass(frozen=True)
class ReplayReport:
    entries: tuple[ReplayedScan, ...]
    archived: str | None = None  # where the replayed journal is kept for audit

    def count(self, status: EntryStatus) -> int:
        return sum(1 for e in self.entries if e.status is status)

    @property
    def complete(self) -> bool:
        """Every entry has been dealt with; the journal may be archived."""
        return self.count(EntryStatus.NOT_REPLAYED) == 0

    @property
    def stopped(self) -> bool:
        """Stopped between scans on request; the rest wait in the journal."""
        return any(e.code == STOPPED[0] for e in self.entries)

    @property
    def conflicts(self) -> tuple[ReplayedScan, ...]:
        """Entries staff must still look at: new conflicts, and scans applied by an earlier
        replay that recorded a conflict (a second replay must not say "0 conflicts")."""
        return tuple(
            e
            for e in self.entries
            if e.status is EntryStatus.CONFLICT
            or (e.status is EntryStatus.ALREADY_APPLIED and e.code)
        )


# Check-in outcomes that are not a routine routing: each becomes a conflict for staff.
_CHECKIN_CONFLICTS = {
    Outcome.NOT_FOUND: (
        "item_unknown",
        "No item has this barcode. It was logged as not found: keep the item aside for the "
        "ILL office.",
    ),
    Outcome.ON_HOLD_ELSEWHERE: (
        "hold_changed",
        "The item is on the hold shelf at {dest} now. Send it there.",
    ),
    Outcome.REQUEST_CANCELLED: (
        "request_cancelled",
        "Its ILL request was cancelled meanwhile. Send the item to the ILL office ({dest}).",
    ),
    Outcome.ITEM_CLOSED: (
        "item_closed",
        "The item's loan was closed meanwhile. Send it to the ILL office ({dest}).",
    ),
    Outcome.SEE_ILL_OFFICE: (
        "see_ill_office",
        "The item's record needs the ILL office ({dest}). Send it there with a note.",
    ),
    Outcome.INVALID_SCAN: ("invalid_scan", "The scan was not a usable barcode."),
}

_CHECKOUT_CONFLICTS = {
    checkout_results.Outcome.REFUSED_ALREADY_CHECKED_OUT: "checked_out_elsewhere",
    checkout_results.Outcome.REFUSED_NOT_ON_HOLD_FOR_PATRON: "hold_changed",
    checkout_results.Outcome.REFUSED_NOT_AVAILABLE: "checked_out_elsewhere",
    checkout_results.Outcome.NOT_FOUND: "item_unknown",
    checkout_results.Outcome.REFUSED_BLOCKED: "patron_blocked",
    checkout_results.Outcome.REFUSED_IN_LIBRARY_USE: "in_library_use",
}


class _Retry(Exception):
    """The entry could not be applied now; keep it for the next replay."""


def _apply_checkin(
    session_rt: Runtime, session: Session, actor: Actor, entry: JournalEntry
) -> tuple[str, str, str, str]:
    """(result json, outcome, conflict code, explanation)."""
    result = checkin.check_in_within(session, session_rt, actor, entry.barcode)
    outcome = result.outcome
    code, explanation = _CHECKIN_CONFLICTS.get(outcome, ("", ""))
    explanation = explanation.replace("{dest}", result.destination or "the ILL office")
    if outcome is Outcome.CHANGED_ELSEWHERE:
        raise _Retry("another desk was changing the item")
    routing = result.routing.value
    if not code and entry.provisional and entry.provisional not in ("unknown", routing):
        code = "routing_changed"
        explanation = (
            f"Offline the desk was shown '{entry.provisional}', but the database says "
            f"'{routing}'"
            + (f" (to {result.destination})" if result.destination else "")
            + ". Move the item accordingly."
        )
    if code and result.reason:
        explanation = f"{explanation} {result.reason}"
    record = {"outcome": outcome.value, "routing": routing, "destination": result.destination}
    return json.dumps(record), outcome.value, code, explanation


def _apply_checkout(
    session_rt: Runtime, session: Session, actor: Actor, entry: JournalEntry
) -> tuple[str, str, str, str]:
    result = checkout.check_out_within(
        session,
        actor,
        session_rt.clock.today(),
        session_rt.clock.now(),
        entry.patron or "",
        entry.barcode,
    )
    code = ""
    explanation = ""
    if result.outcome.refused:
        code = _CHECKOUT_CONFLICTS.get(result.outcome, result.outcome.value)
        explanation = result.message
    record = {
        "outcome": result.outcome.value,
        "due_date": result.due_date.isoformat() if result.due_date else None,
    }
    return json.dumps(record), result.outcome.value, code, explanation


@dataclass(frozen=True)
class _Run:
    """What every entry of one replay shares."""

    actor: Actor  # the staff member replaying: the actor of everything the replay writes
    now: datetime
    began: datetime | None  # when the journal began (its first readable scan)


def _replay_one(rt: Runtime, run: _Run, number: int, entry: JournalEntry) -> ReplayedScan:
    def done(status: EntryStatus, outcome: str = "", code: str = "", why: str = "") -> ReplayedScan:
        return ReplayedScan(
            number,
            entry.key,
            entry.at,
            entry.action.value,
            entry.barcode,
            status,
            outcome,
            code,
            why,
            claimed_staff=entry.staff,
            claimed_branch=entry.branch,
            claimed_workstation=entry.workstation,
        )

    try:
        with rt.db.transaction() as session:
            existing = session.get(AppliedScan, entry.key)
            if existing is not None:
                return done(EntryStatus.ALREADY_APPLIED, *_stored(existing.result))
            settings = library_settings.load(session)
            claims.check_time(entry.at, run.now, run.began, settings.offline_journal_keep_days)
            actor = claims.at_claimed_branch(session, run.actor, entry.branch)
            at_scan = Runtime(rt.db, FixedClock(entry.at))
            if entry.action is OfflineAction.CHECKOUT:
                if not settings.offline_checkouts_allowed:
                    outcome, code = "refused_offline_checkout", "offline_checkout_not_allowed"
                    why = (
                        "The library does not allow offline checkouts: check the item out "
                        "again at the desk with the patron, or keep it aside."
                    )
                    record = _with_conflict(json.dumps({"outcome": outcome}), code, why, entry)
                    session.add(AppliedScan(idempotency_key=entry.key, result=record))
                    claims.record_replay(session, run.actor, entry, run.now, outcome, code)
                    return done(EntryStatus.CONFLICT, outcome, code, why)
                record, outcome, code, why = _apply_checkout(at_scan, session, actor, entry)
            else:
                record, outcome, code, why = _apply_checkin(at_scan, session, actor, entry)
            session.add(
                AppliedScan(
                    idempotency_key=entry.key,
                    applied_at=run.now,
                    result=_with_conflict(record, code, why, entry),
                )
            )
            claims.record_replay(session, run.actor, entry, run.now, outcome, code)
            session.flush()
    except claims.Refused as refused:
        return _record_conflict(rt, run, entry, done, refused.code, refused.explanation)
    except _Retry as exc:
        return done(EntryStatus.NOT_REPLAYED, code="busy", why=f"Not replayed yet: {exc}.")
    except (IntegrityError, StaleDataError):
        # Another replay of the same journal won the race, or the item changed under us.
        with rt.db.reading() as session:
            existing = session.get(AppliedScan, entry.key)
            if existing is not None:
                return done(EntryStatus.ALREADY_APPLIED, *_stored(existing.result))
        return done(
            EntryStatus.NOT_REPLAYED,
            code="busy",
            why="Not replayed yet: another desk changed the item at the same moment.",
        )
    except OperationalError as exc:  # DatabaseUnavailable, or another desk's lock
        if is_lock_busy(exc):
            return done(
                EntryStatus.NOT_REPLAYED,
                code="busy",
                why="Not replayed yet: another desk was changing the item.",
            )
        raise DatabaseUnavailable(
            "The database went away during the replay. The journal is kept; the rest is "
            "replayed when the database answers again."
        ) from exc
    except ServiceError as exc:
        return _record_conflict(rt, run, entry, done, exc.code, exc.message)
    status = EntryStatus.CONFLICT if code else EntryStatus.APPLIED
    return done(status, outcome, code, why)


def _record_conflict(
    rt: Runtime,
    run: _Run,
    entry: JournalEntry,
    done: Callable[..., ReplayedScan],
    code: str,
    why: str,
) -> ReplayedScan:
    """A refusal that wrote nothing: record the key alone so the conflict is listed once."""
    try:
        with rt.db.transaction() as session:
            existing = session.get(AppliedScan, entry.key)
            if existing is not None:
                return done(EntryStatus.ALREADY_APPLIED, *_stored(existing.result))
            session.add(
                AppliedScan(
                    idempotency_key=entry.key,
                    applied_at=run.now,
                    result=_with_conflict("{}", code, why, entry),
                )
            )
            claims.record_replay(session, run.actor, entry, run.now, "", code)
    except IntegrityError:
        return done(EntryStatus.ALREADY_APPLIED)
    return done(EntryStatus.CONFLICT, "", code, why)


def _with_conflict(record: str, code: str, why: str, entry: JournalEntry) -> str:
    """The stored result, with the conflict (if any) so a later replay can list it again,
    and what the line claimed."""
    data = json.loads(record)
    data["claimed"] = claims.claimed(entry)
    if code:
        data.update(code=code, explanation=why)
    return json.dumps(data)


def _stored(result: str) -> tuple[str, str, str]:
    """(outcome, conflict code, explanation) recorded when the scan was first applied."""
    try:
        data = json.loads(result or "{}")
    except ValueError:
        return "", "", ""
    if not isinstance(data, dict):
        return "", "", ""
    return (
        str(data.get("outcome") or ""),
        str(data.get("code") or ""),
        str(data.get("explanation") or ""),
    )


def _bad_line(bad: BadLine) -> ReplayedScan:
    return ReplayedScan(
        bad.number,
        "",
        None,
        "",
        "",
        EntryStatus.CONFLICT,
        code="unreadable_entry",
        explanation=f"Line {bad.number} of the journal cannot be read ({bad.reason}); "
        f"it starts: {bad.text[:80]!r}. Apply it by hand if it names a scan.",
    )


def replay_entries(
    rt: Runtime,
    actor: Actor,
    entries: list[JournalEntry],
    lines: Sequence[int] | None = None,
    progress: Progress = no_progress,
    keep_going: KeepGoing = always,
) -> list[ReplayedScan]:
    """Apply entries in order, as `actor`; stops (marking the rest not replayed) only if the
    database goes or `keep_going` (asked between entries) says so: no value in an entry stops
    it. Each entry commits on its own, so a stopped replay keeps what it applied.

    `lines` are the journal line numbers of the entries (the report names lines, so staff
    can find an entry in the file); without them entries are numbered from 1. The journal
    began with its first entry not in the future (see `app.offline.claims`).
    """
    numbers = list(lines) if lines is not None else list(range(1, len(entries) + 1))
    now = rt.clock.now()
    # A forged first line in the future must not make every real scan "before the journal".
    began = next((e.at for e in entries if e.at <= now), None)
    run = _Run(actor, now, began)
    out: list[ReplayedScan] = []
    progress(0, len(entries))
    for index, entry in enumerate(entries):
        if index and not keep_going():
            out.extend(_not_replayed(numbers[index:], entries[index:], STOPPED))
            break
        try:
            out.append(_replay_one(rt, run, numbers[index], entry))
        except (DatabaseUnavailable, OperationalError):
            out.extend(_not_replayed(numbers[index:], entries[index:], WENT_AWAY))
            break
        except Exception as exc:  # one odd entry must not stop the others
            log.exception("offline replay: line %s could not be applied", numbers[index])
            out.append(
                _unapplied(
                    numbers[index],
                    entry,
                    EntryStatus.CONFLICT,
                    "replay_failed",
                    f"The scan could not be applied ({type(exc).__name__}). Check the item "
                    "in by hand if it is here.",
                )
            )
        progress(index + 1, len(entries))
    return out


WENT_AWAY = ("database_unavailable", "The database went away again; kept for the next replay.")
STOPPED = ("stopped", "The replay was stopped before this scan; kept for the next replay.")


def _not_replayed(
    numbers: Sequence[int], entries: Sequence[JournalEntry], why: tuple[str, str]
) -> list[ReplayedScan]:
    code, explanation = why
    return [
        _unapplied(number, entry, EntryStatus.NOT_REPLAYED, code, explanation)
        for number, entry in zip(numbers, entries, strict=True)
    ]


def _unapplied(
    number: int, entry: JournalEntry, status: EntryStatus, code: str, why: str
) -> ReplayedScan:
    return ReplayedScan(
        number,
        entry.key,
        entry.at,
        entry.action.value,
        entry.barcode,
        status,
        code=code,
        explanation=why,
        claimed_staff=entry.staff,
        claimed_branch=entry.branch,
        claimed_workstation=entry.workstation,
    )


def replay_file(
    rt: Runtime,
    actor: Actor,
    path: Path,
    progress: Progress = no_progress,
    keep_going: KeepGoing = always,
) -> ReplayReport:
    """Replay a journal file (this desk's, or one copied from another PC); the file stays."""
    numbered, bad = read_numbered(path)
    entries, lines = [e for _, e in numbered], [n for n, _ in numbered]
    done = replay_entries(rt, actor, entries, lines, progress, keep_going)
    every = [*done, *(_bad_line(b) for b in bad)]
    every.sort(key=lambda scan: scan.line)  # stable: a glued record follows its fragment
    return ReplayReport(tuple(every))


def replay_journal(
    rt: Runtime,
    actor: Actor,
    journal: OfflineJournal,
    progress: Progress = no_progress,
    keep_going: KeepGoing = always,
) -> ReplayReport:
    """Replay this desk's journal; when every entry is dealt with, archive it for audit."""
    report = replay_file(rt, actor, journal.path, progress, keep_going)
    if not report.entries or not report.complete:
        return report
    with rt.db.reading() as session:
        keep = library_settings.load(session).offline_journal_keep_days
    done = {e.key for e in report.entries if e.key}
    archived = journal.archive(rt.clock.now(), keep, done)
    return ReplayReport(report.entries, str(archived) if archived else None)
