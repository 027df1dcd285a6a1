"""Recording that staff looked at a patron's record: library records are confidential.

Every service that shows a patron's record calls `record_patron_view` in the same
transaction, so the audit trail answers "who saw this patron's account, and when".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.library.actors import Actor
from app.library.runtime import Runtime
from app.records import audit
from db.models import Patron

PATRON_VIEW = "patron.view"
_CHUNK = 500  # campus IDs per query: well under any driver's parameter limit


def record_patron_view(
    session: Session, actor: Actor, patron_id: int, at: datetime, *, detail: str = ""
) -> None:
    """Add one `patron.view` audit event; `patron_id` is the patron's row id."""
    audit.record(
        session,
        actor,
        PATRON_VIEW,
        at=at,
        entity="patron",
        entity_id=patron_id,
        patron_id=patron_id,
        detail=detail,
    )


def record_patrons_listed(
    rt: Runtime, actor: Actor, campus_ids: Iterable[str | None], *, detail: str
) -> int:
    """One `patron.view` for each patron a list showed (the command line's lists print
    names, IDs and charges of many patrons at once). Returns how many were recorded."""
    wanted = sorted({c for c in campus_ids if c})
    if not wanted:
        return 0
    now = rt.clock.now()
    recorded = 0
    with rt.db.transaction() as session:
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            ids = session.scalars(select(Patron.id).where(Patron.patron_id.in_(chunk))).all()
            for patron_id in ids:
                record_patron_view(session, actor, patron_id, now, detail=detail)
            recorded += len(ids)
    return recorded
