"""The closures calendar as admins edit it: weekly closed days per branch, holidays, breaks.

Due dates read this calendar (see `due_dates`); a wrong entry moves patrons' due dates,
so every change is an admin action and audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.library.actors import Actor
from app.library.branches import branch_by_code
from app.library.errors import InvalidInput, NotFound
from app.library.runtime import Runtime
from app.records import audit
from db.models import Branch, Closure, Role

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_CLOSURE_DAYS = 366
MAX_REASON_LENGTH = 200


@dataclass(frozen=True)
class ClosureInfo:
    id: int
    branch_code: str | None  # None: every branch
    start_date: date
    end_date: date
    reason: str

    @property
    def where(self) -> str:
        return self.branch_code or "All branches"


@dataclass(frozen=True)
class WeeklyClosedDays:
    branch_code: str
    branch_name: str
    weekdays: tuple[int, ...]  # Python weekday numbers, Monday = 0

    @property
    def label(self) -> str:
        return ", ".join(WEEKDAY_NAMES[d] for d in self.weekdays) or "open every day"


def parse_weekdays(text: str) -> tuple[int, ...]:
    """'56' (as stored) -> (5, 6); anything else is a damaged setting and is ignored."""
    return tuple(sorted({int(ch) for ch in text if ch in "0123456"}))


def _info(closure: Closure, codes: dict[int, str]) -> ClosureInfo:
    return ClosureInfo(
        id=closure.id,
        branch_code=codes.get(closure.branch_id) if closure.branch_id else None,
        start_date=closure.start_date,
        end_date=closure.end_date,
        reason=closure.reason,
    )


def _branch_codes(session: Session) -> dict[int, str]:
    return {b.id: b.code for b in session.scalars(select(Branch))}


def list_closures(
    rt: Runtime, actor: Actor, *, year: int | None = None, branch_code: str | None = None
) -> list[ClosureInfo]:
    """Closures in date order; with `branch_code`, that branch's and the all-branch ones."""
    with rt.db.reading() as session:
        query = select(Closure).order_by(Closure.start_date, Closure.id)
        if year is not None:
            query = query.where(
                Closure.start_date <= date(year, 12, 31), Closure.end_date >= date(year, 1, 1)
            )
        if branch_code is not None:
            branch = branch_by_code(session, branch_code)
            query = query.where(or_(Closure.branch_id == branch.id, Closure.branch_id.is_(None)))
        codes = _branch_codes(session)
        return [_info(c, codes) for c in session.scalars(query)]


def check_reason(reason: str) -> str:
    cleaned = " ".join(reason.split())
    if not cleaned:
        raise InvalidInput("Give the closure a reason (for example 'Winter break').")
    if len(cleaned) > MAX_REASON_LENGTH:
        raise InvalidInput(f"Keep the reason under {MAX_REASON_LENGTH} characters.")
    return cleaned


def add_closure(
    rt: Runtime,
    actor: Actor,
    start: date,
    end: date,
    reason: str,
    branch_code: str | None = None,
) -> ClosureInfo:
    """Close one branch (or, without `branch_code`, every branch) from `start` to `end`."""
    actor.require(Role.ADMIN, "Editing the closures calendar")
    cleaned = check_reason(reason)
    if end < start:
        raise InvalidInput(
            f"The closure ends ({end.isoformat()}) before it starts ({start.isoformat()}). "
            "Swap the dates."
        )
    if end - start >= timedelta(days=MAX_CLOSURE_DAYS):
        raise InvalidInput(
            f"A closure longer than {MAX_CLOSURE_DAYS} days is almost certainly a typo in a "
            "year. Check the dates."
        )
    with rt.db.transaction() as session:
        branch_id = branch_by_code(session, branch_code).id if branch_code else None
        closure = Closure(branch_id=branch_id, start_date=start, end_date=end, reason=cleaned)
        session.add(closure)
        session.flush()
        info = _info(closure, _branch_codes(session))
        audit.record(
            session,
            actor,
            "closure.add",
            at=rt.clock.now(),
            entity="closure",
            entity_id=closure.id,
            after=_audit_view(info),
        )
        return info


def remove_closure(rt: Runtime, actor: Actor, closure_id: int) -> ClosureInfo:
    actor.require(Role.ADMIN, "Editing the closures calendar")
    with rt.db.transaction() as session:
        closure = session.get(Closure, closure_id)
        if closure is None:
            raise NotFound(
                f"There is no closure number {closure_id} (someone may have removed it). "
                "Refresh the list."
            )
        info = _info(closure, _branch_codes(session))
        session.delete(closure)
        audit.record(
            session,
            actor,
            "closure.remove",
            at=rt.clock.now(),
            entity="closure",
            entity_id=closure_id,
            before=_audit_view(info),
        )
        return info


def list_weekly_closed_days(rt: Runtime, actor: Actor) -> list[WeeklyClosedDays]:
    with rt.db.reading() as session:
        branches = session.scalars(select(Branch).where(Branch.active).order_by(Branch.code))
        return [
            WeeklyClosedDays(b.code, b.name, parse_weekdays(b.closed_weekdays)) for b in branches
        ]


def set_closed_weekdays(
    rt: Runtime, actor: Actor, branch_code: str, weekdays: Iterable[int]
) -> WeeklyClosedDays:
    """The days a branch is closed every week (Saturday and Sunday in most libraries)."""
    actor.require(Role.ADMIN, "Editing the closures calendar")
    days = tuple(sorted(set(weekdays)))
    if any(d not in range(7) for d in days):
        raise InvalidInput("Weekdays are numbered 0 (Monday) to 6 (Sunday).")
    if len(days) == 7:
        raise InvalidInput(
            "A branch closed every day of the week could never take a return. Leave at least "
            "one day open, or mark the branch inactive instead."
        )
    with rt.db.transaction() as session:
        branch = branch_by_code(session, branch_code)
        before = parse_weekdays(branch.closed_weekdays)
        branch.closed_weekdays = "".join(str(d) for d in days)
        audit.record(
            session,
            actor,
            "branch.closed_weekdays",
            at=rt.clock.now(),
            entity="branch",
            entity_id=branch.id,
            before={"closed_weekdays": list(before)},
            after={"closed_weekdays": list(days)},
        )
        return WeeklyClosedDays(branch.code, branch.name, days)


def _audit_view(info: ClosureInfo) -> dict[str, object]:
    return {
        "branch": info.where,
        "start_date": info.start_date.isoformat(),
        "end_date": info.end_date.isoformat(),
        "reason": info.reason,
    }
