"""The pull slips a campus prints for its "to pull" list: one page per item."""

from __future__ import annotations

from sqlalchemy import select

from app.library.actors import Actor
from app.library.branches import branch_by_code
from app.library.runtime import Runtime
from app.printing.pull_slips import PullSlip, render_pull_slips
from db.models import Direction, IllRequest, Item, RequestStatus, Role


def pull_slips(rt: Runtime, actor: Actor, branch_code: str) -> list[PullSlip]:
    """Every lending request waiting to be pulled at `branch_code`, oldest first."""
    actor.require(Role.CTL, "Printing pull slips")
    with rt.db.reading() as session:
        branch = branch_by_code(session, branch_code)
        rows = session.execute(
            select(IllRequest, Item)
            .outerjoin(Item, Item.id == IllRequest.item_id)
            .where(
                IllRequest.direction == Direction.LENDING,
                IllRequest.status == RequestStatus.TO_PULL,
                IllRequest.pull_branch_id == branch.id,
            )
            .order_by(IllRequest.created_at, IllRequest.id)
        ).all()
        return [
            PullSlip(
                campus=branch.code,
                request_number=req.request_number,
                title=req.title,
                author=req.author or (item.author if item else ""),
                item_barcode=item.barcode if item else "",
                borrower_symbol=req.borrower_symbol or "",
                partner_request_number=req.partner_request_number or "",
                due_date=req.lend_due_date,
                kind=req.kind.value,
            )
            for req, item in rows
        ]


def pull_slips_pdf(rt: Runtime, actor: Actor, branch_code: str) -> tuple[int, bytes]:
    """How many slips, and the PDF (one page each)."""
    slips = pull_slips(rt, actor, branch_code)
    return len(slips), render_pull_slips(slips, rt.clock.today())
