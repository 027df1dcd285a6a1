"""Queueing notices. A notice is a row first; sending it is a separate, retried step."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Notice, NoticeStatus, Patron


def queue_notice(
    session: Session,
    kind: str,
    *,
    at: datetime,
    patron: Patron | None = None,
    partner_symbol: str | None = None,
    recipient: str = "",
    request_id: int | None = None,
    loan_id: int | None = None,
    context: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Notice | None:
    """Queue one notice; with a `dedupe_key` already used, queue nothing and return None."""
    if dedupe_key and session.scalar(select(Notice.id).where(Notice.dedupe_key == dedupe_key)):
        return None
    notice = Notice(
        kind=kind,
        status=NoticeStatus.QUEUED,
        recipient=recipient or (patron.email if patron else ""),
        patron_id=patron.id if patron else None,
        partner_symbol=partner_symbol,
        request_id=request_id,
        loan_id=loan_id,
        context=json.dumps(context or {}, default=str, sort_keys=True),
        dedupe_key=dedupe_key,
        created_at=at,
        next_attempt_at=at,
    )
    session.add(notice)
    return notice
