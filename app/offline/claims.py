"""What a journal line claims, and what of it a replay may take.

A journal is a file on a desk PC: anyone who can write it can put any staff name, branch,
workstation or time in a line. The replay therefore acts as the staff member who runs it
and only *records* the claim (in an `offline.replay` audit event and in the report). Two
claims still decide how a scan is applied, each only after a check:

- The branch: a check-in's routing depends on where the item physically was scanned, so
  the scan is applied at the claimed branch when that branch exists and the replaying staff
  member may work there (a virtual branch needs the ILL office role, as at sign-in).
  Otherwise routing it from anywhere else would send the item the wrong way: it is a
  conflict for staff to review, and nothing is applied.
- The time: the scan is applied at the moment it was taken (loans end then) only when that
  moment lies between the start of the journal and the replay's now, and within the keep
  window. A journal file is created by its first scan, and no creation time survives a
  copy from a dead PC, so the journal starts at the time of its first readable entry that
  is not in the future (less `CLOCK_SLACK`: two scans may reach the file a little out of
  order; a forged first line dated 2031 does not make every real scan "too early"). The keep window
  is the library's `offline_journal_keep_days` (at least one day): a scan older than the
  journal would be kept is not an offline scan this desk can vouch for. A desk PC whose
  clock runs ahead of the replaying PC's makes its newest scans conflicts: the safe side.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.library.actors import Actor
from app.offline.journal import JournalEntry
from app.records import audit
from db.models import Branch, Role

CLOCK_SLACK = timedelta(minutes=5)
MIN_KEEP_DAYS = 1
REPLAY_ACTION = "offline.replay"


class Refused(Exception):
    """The line's claim cannot be taken: a conflict for staff, with a code and what to do."""

    def __init__(self, code: str, explanation: str) -> None:
        super().__init__(explanation)
        self.code = code
        self.explanation = explanation


def _when(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def _before(moment: datetime, span: timedelta) -> datetime:
    """`moment - span`, or the earliest time there is (a year-1 claim cannot overflow)."""
    try:
        return moment - span
    except OverflowError:
        return datetime.min.replace(tzinfo=moment.tzinfo)


def check_time(at: datetime, now: datetime, began: datetime | None, keep_days: int) -> None:
    """Refuse a claimed scan time the replay cannot vouch for (see the module docstring)."""
    oldest = _before(now, timedelta(days=min(max(keep_days, MIN_KEEP_DAYS), 36500)))
    if at > now:
        raise Refused(
            "scan_time_in_future",
            f"The journal line says the scan was taken at {_when(at)}, after this replay "
            f"({_when(now)}). It was not applied: check the item in by hand if it is here.",
        )
    if began is not None and at < _before(began, CLOCK_SLACK):
        raise Refused(
            "scan_time_before_journal",
            f"The journal line says the scan was taken at {_when(at)}, before the journal "
            f"began ({_when(began)}). It was not applied: check the item in by hand if it "
            "is here.",
        )
    if at < oldest:
        raise Refused(
            "scan_time_too_old",
            f"The journal line says the scan was taken at {_when(at)}, more than "
            f"{max(keep_days, MIN_KEEP_DAYS)} days before this replay (the journal keep "
            "window). It was not applied: check the item in by hand if it is here.",
        )


def at_claimed_branch(session: Session, actor: Actor, code: str) -> Actor:
    """The replaying staff member working at the claimed branch, if it exists and they may."""
    branch = session.scalar(select(Branch).where(Branch.code == code.strip().upper()))
    if branch is None:
        raise Refused(
            "branch_unknown",
            f"The journal line names a branch {code[:40]!r} that does not exist, so where "
            "the item was scanned is not known. It was not applied: check the item in by "
            "hand at the desk where it is.",
        )
    if branch.virtual and not actor.has_role(Role.ILL_OFFICE):
        raise Refused(
            "branch_not_allowed",
            f"The journal line names the virtual branch {branch.code}, where only the ILL "
            f"office works; {actor.username} may not. It was not applied: the ILL office "
            "checks the item in by hand.",
        )
    return replace(actor, branch_code=branch.code)


def claimed(entry: JournalEntry) -> dict[str, str]:
    """The line's claims, as recorded (never as the actor)."""
    return {
        "staff": entry.staff,
        "branch": entry.branch,
        "workstation": entry.workstation,
        "at": entry.at.isoformat(),
    }


def claim_text(entry: JournalEntry) -> str:
    return (
        f"offline scan {entry.key} ({entry.action.value} {entry.barcode}); the journal line "
        f"claims staff {entry.staff!r} at branch {entry.branch!r} on workstation "
        f"{entry.workstation!r} at {entry.at.isoformat()}"
    )


def record_replay(
    session: Session,
    actor: Actor,
    entry: JournalEntry,
    now: datetime,
    outcome: str,
    code: str,
) -> None:
    """The audit event naming who replayed the line and what the line claimed."""
    audit.record(
        session,
        actor,
        REPLAY_ACTION,
        at=now,
        entity="offline_scan",
        after={
            "key": entry.key,
            "action": entry.action.value,
            "barcode": entry.barcode,
            "claimed": claimed(entry),
            "outcome": outcome,
            "conflict": code,
        },
        detail=claim_text(entry),
    )
