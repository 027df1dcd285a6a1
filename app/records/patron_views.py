"""Recording that staff looked at a patron's record: library records are confidential.

Every service that shows a patron's record calls `record_patron_view` in the same
transaction, so the audit trail answers "who saw this patron's account, and when".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.library.actors import Actor
from app.records import audit

PATRON_VIEW = "patron.view"


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
