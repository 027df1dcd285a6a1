"""Inter-campus mail: an item sent from one branch to another travels as a transit.

A transit stays open until the item is checked in at its destination; the database keeps
at most one open transit per item. Every desk action that sends an item on its way
(check-in routing, receiving, lending) opens it here, so each transit names the same
things: the item, both branches, why it travels, when and who sent it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.library.actors import Actor
from db.models import Transit, TransitReason


def columns(
    actor: Actor | None,
    item_id: int,
    *,
    from_branch_id: int,
    to_branch_id: int,
    reason: TransitReason,
    at: datetime,
) -> dict[str, Any]:
    """The new transit's column values, for a batch insert that bypasses the ORM."""
    return {
        "item_id": item_id,
        "from_branch_id": from_branch_id,
        "to_branch_id": to_branch_id,
        "reason": reason,
        "started_at": at,
        "started_by_id": (actor.staff_id or None) if actor is not None else None,
    }


def start(
    session: Session,
    actor: Actor | None,
    item_id: int,
    *,
    from_branch_id: int,
    to_branch_id: int,
    reason: TransitReason,
    at: datetime,
) -> Transit:
    """Open a transit for the item; `actor` is None only for data loaded by the system."""
    transit = Transit(
        **columns(
            actor,
            item_id,
            from_branch_id=from_branch_id,
            to_branch_id=to_branch_id,
            reason=reason,
            at=at,
        )
    )
    session.add(transit)
    return transit
