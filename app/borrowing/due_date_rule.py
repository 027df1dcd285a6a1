"""The one rule for every due date the product accepts from a person or another system.

Receiving, a renewal, the strap date read at check-out, a changed due date (and NCIP's
messages) all pass through `accepted_due_date`: not in the past, and at most two years
ahead, since a lender's date further out is almost surely a mistyped year. Only the ILL
office may go beyond, and only with a reason (kept in the audit trail by the caller).
"""

from __future__ import annotations

from datetime import date, timedelta

from app.library.actors import Actor
from app.library.errors import InvalidInput
from db.models import Role

MAX_AHEAD = timedelta(days=730)  # two years


def _say(day: date) -> str:
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"


def latest_due_date(today: date) -> date:
    return today + MAX_AHEAD


def accepted_due_date(
    day: date,
    today: date,
    *,
    what: str = "The due date",
    actor: Actor | None = None,
    override_reason: str = "",
    override_hint: str = "the Reason field, or `--reason` on the command line",
) -> date:
    """`day` when the rule allows it; otherwise a refusal that says what to do.

    `override_reason` lets an ILL office member set a date more than two years ahead.
    """
    if day < today:
        raise InvalidInput(
            f"{what} {day.isoformat()} is in the past: it has already passed. Give today's "
            "date or a later one (check the lender's paperwork)."
        )
    if day > latest_due_date(today):
        office = actor is not None and actor.has_role(Role.ILL_OFFICE)
        if office and override_reason.strip():
            return day
        raise InvalidInput(
            f"{what} {day.isoformat()} is more than two years away (after "
            f"{_say(latest_due_date(today))}); that is almost surely a typing mistake. Check "
            "the year. If the lender really gave it, the ILL office can set it by giving a "
            f"reason ({override_hint})."
        )
    return day
