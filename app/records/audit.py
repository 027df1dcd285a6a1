"""The append-only audit trail: every state change names who, where, when and what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.library.actors import Actor
from db.models import AuditEvent


def columns(
    actor: Actor,
    action: str,
    *,
    at: datetime,
    entity: str,
    entity_id: int | None = None,
    item_id: int | None = None,
    patron_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
) -> dict[str, Any]:
    """One audit event's column values; `record` adds it, batch inserts pass it as is."""
    return {
        "at": at,
        "staff_id": actor.staff_id or None,
        "username": actor.username,
        "branch_code": actor.branch_code,
        "workstation": actor.workstation,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "item_id": item_id,
        "patron_id": patron_id,
        "before": before,
        "after": after,
        "detail": detail,
    }


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    at: datetime,
    entity: str,
    entity_id: int | None = None,
    item_id: int | None = None,
    patron_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
) -> None:
    """Add one event to the trail, in the caller's transaction."""
    session.add(
        AuditEvent(
            **columns(
                actor,
                action,
                at=at,
                entity=entity,
                entity_id=entity_id,
                item_id=item_id,
                patron_id=patron_id,
                before=before,
                after=after,
                detail=detail,
            )
        )
    )
