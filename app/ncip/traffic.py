"""The NCIP traffic the ILL office sees: recent messages and today's failures. No patron data:
a message is listed by time, partner, service, outcome and the Problem's type and element."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.borrowing.office_lists import day_bounds
from app.library.actors import Actor
from app.library.runtime import Runtime
from db.models import NcipMessage, Role

log = logging.getLogger("illdesk.ncip")


@dataclass(frozen=True)
class MessageRow:
    at: datetime
    partner: str
    service: str
    outcome: str  # "ok", "repeat" (answered again from the first answer), "problem"
    problem: str  # the ProblemType, when refused
    element: str  # the element at fault
    http_status: int
    duration_ms: int


@dataclass(frozen=True)
class Traffic:
    rows: tuple[MessageRow, ...]
    failures_today: int
    messages_today: int


def record(
    session: Session,
    *,
    at: datetime,
    partner: str,
    service: str,
    outcome: str,
    problem: str = "",
    element: str = "",
    http_status: int = 200,
    duration_ms: int = 0,
    idempotency_key: str | None = None,
    response: str | None = None,
) -> None:
    session.add(
        NcipMessage(
            at=at,
            partner=partner[:64],
            service=service[:64],
            outcome=outcome,
            problem_type=problem[:100],
            problem_element=element[:100],
            http_status=http_status,
            duration_ms=duration_ms,
            idempotency_key=idempotency_key,
            response=response,
        )
    )
    log.info(
        "ncip %s %s %s%s %d ms",
        partner[:64] or "-",
        service[:64] or "-",
        outcome,
        f" ({problem})" if problem else "",
        duration_ms,
    )


def recent_traffic(rt: Runtime, actor: Actor, limit: int = 200) -> Traffic:
    """The newest messages first, with today's (library day) failures counted."""
    actor.require(Role.ILL_OFFICE, "Viewing NCIP traffic")
    start, end = day_bounds(rt.clock)
    with rt.db.reading() as session:
        rows = session.scalars(
            select(NcipMessage).order_by(NcipMessage.id.desc()).limit(max(1, min(limit, 5000)))
        ).all()
        failures = session.scalar(
            select(func.count()).where(
                NcipMessage.at >= start, NcipMessage.at < end, NcipMessage.outcome == "problem"
            )
        )
        total = session.scalar(
            select(func.count()).where(NcipMessage.at >= start, NcipMessage.at < end)
        )
        return Traffic(
            rows=tuple(
                MessageRow(
                    at=r.at,
                    partner=r.partner,
                    service=r.service,
                    outcome=r.outcome,
                    problem=r.problem_type,
                    element=r.problem_element,
                    http_status=r.http_status,
                    duration_ms=r.duration_ms,
                )
                for r in rows
            ),
            failures_today=int(failures or 0),
            messages_today=int(total or 0),
        )
