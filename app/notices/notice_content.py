"""What a notice says and whether it can be sent: its template fields and its recipient.

Shared by the daily run, the outbox review, staff's resend and compose, and the messages to
partner libraries, so every path renders a notice from the same fields and refuses the same
addresses with the same words.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.library.errors import InvalidInput
from app.library.library_settings import LibrarySettings
from app.notices.templates import KINDS, canonical_context
from app.people.patron_ids import parse_email
from db.models import Branch, IllRequest, Item, Loan, Notice, Patron


def address_problem(session: Session, notice: Notice, settings: LibrarySettings) -> str:
    """Why the recipient cannot be used, or ""."""
    spec = KINDS.get(notice.kind)
    recipient = notice.recipient.strip()
    if spec is not None and not spec.to_patron:
        if not _valid_email(recipient):
            who = notice.partner_symbol or "the partner library"
            return (
                f"No e-mail address for {who}. Enter its ILL office's address in the notice, "
                "then send it."
            )
        return ""
    patron = session.get(Patron, notice.patron_id) if notice.patron_id else None
    who = f"{patron.display_name} ({patron.patron_id})" if patron else "This notice"
    domain = settings.institutional_email_domain.strip().lower().lstrip("@")
    if not _valid_email(recipient):
        return (
            f"{who} has no e-mail address. Notices go only to the institutional address: "
            "add it to the patron record, then release this notice."
        )
    if domain and not recipient.lower().endswith("@" + domain):
        return (
            f"{who} has no @{domain} address ('{recipient}' is not one). Notices go only to "
            "the institutional address: correct the patron's e-mail, then release this notice."
        )
    return ""


def _valid_email(text: str) -> bool:
    try:
        parse_email(text)
    except InvalidInput:
        return False
    return True


def notice_context(
    session: Session, notice: Notice, settings: LibrarySettings, today: date
) -> dict[str, Any]:
    """The template fields: what the notice's links say, then what the caller passed."""
    ctx: dict[str, Any] = {
        "library_name": settings.library_name,
        "library_oclc_symbol": settings.library_oclc_symbol,
        "today": today,
        "available_days": settings.copy_available_days,
        "max_views": settings.copy_max_views,
    }
    patron = session.get(Patron, notice.patron_id) if notice.patron_id else None
    if patron is not None:
        ctx.update(
            patron_name=patron.display_name,
            patron_first_name=patron.first_name or patron.display_name,
            patron_id=patron.patron_id,
        )
    req = session.get(IllRequest, notice.request_id) if notice.request_id else None
    if req is not None:
        pickup = session.get(Branch, req.pickup_branch_id) if req.pickup_branch_id else None
        ctx.update(
            request_number=req.request_number,
            title=req.title,
            author=req.author,
            article_title=req.article_title,
            pickup_branch=pickup.name if pickup else "",
            request_kind=req.kind.value,
            cancel_reason=req.cancel_reason or "",
            borrower_symbol=req.borrower_symbol or "",
            partner_request_number=req.partner_request_number or "",
        )
        borrowed = session.get(Item, req.item_id) if req.item_id else None
        if borrowed is not None:
            ctx["pieces"] = borrowed.pieces
        if req.lend_due_date:
            ctx["due_date"] = req.lend_due_date
        if req.copy_available_at:
            ctx["available_until"] = req.copy_available_at + timedelta(
                days=settings.copy_available_days
            )
    loan = session.get(Loan, notice.loan_id) if notice.loan_id else None
    if loan is not None:
        item = session.get(Item, loan.item_id)
        ctx["due_date"] = loan.due_date
        if item is not None:
            ctx.update(item_barcode=item.barcode, title=item.title, pieces=item.pieces)
    if notice.partner_symbol:
        ctx["borrower_symbol"] = notice.partner_symbol
    try:
        passed = json.loads(notice.context or "{}")
    except ValueError:
        passed = {}
    if isinstance(passed, dict):
        ctx.update(canonical_context(notice.kind, passed))
    return ctx
