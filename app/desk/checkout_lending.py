"""Check out one of our own items: only to the ILL dummy account, for an open lending
request, when the item is lent to another library (the lending workflow makes the loan)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.desk.checkout_results import CheckoutResult, Outcome, refusal
from app.desk.whereabouts import describe_whereabouts
from app.library.actors import Actor
from db.models import Direction, IllRequest, Item, ItemStatus, Patron, RequestStatus, Role


@dataclass(frozen=True)
class Lend:
    """An own item going to the ILL dummy account: the lending workflow checks it out."""

    request_number: str
    preview: CheckoutResult


def lending_plan(
    session: Session, actor: Actor, item: Item, patron: Patron
) -> Lend | CheckoutResult:
    """One of our own items: only to the ILL dummy account, for an open lending request."""
    if not patron.is_ill_dummy:
        return refusal(
            Outcome.REFUSED_OWN_ITEM,
            item.barcode,
            patron,
            "This is one of the library's own items, not an ILL item. Check it out to the "
            "patron in the library's circulation system; here own items go only to the ILL "
            "dummy account, when they are lent to another library.",
            item,
        )
    actor.require(Role.CTL, "Checking an item out to the ILL account")
    if item.status is not ItemStatus.AVAILABLE:
        return refusal(
            Outcome.REFUSED_NOT_AVAILABLE,
            item.barcode,
            patron,
            f"This item cannot be lent as it stands. {describe_whereabouts(session, item)}",
            item,
        )
    request = session.scalar(
        select(IllRequest)
        .where(
            IllRequest.item_id == item.id,
            IllRequest.direction == Direction.LENDING,
            IllRequest.status.in_((RequestStatus.TO_PULL, RequestStatus.PULLED)),
        )
        .order_by(IllRequest.created_at.desc())
        .limit(1)
    )
    if request is None:
        return refusal(
            Outcome.REFUSED_NOT_AVAILABLE,
            item.barcode,
            patron,
            "No open lending request names this item, so it is not being lent. The ILL office "
            "creates the lending request first; then check it out to the ILL account.",
            item,
        )
    preview = refusal(
        Outcome.CHECKED_OUT,
        item.barcode,
        patron,
        f"Checks out to the ILL account for lending request {request.request_number}; then "
        "it goes to the ILL office by inter-campus mail with a yellow flag.",
        item,
        request_number=request.request_number,
    )
    return Lend(request.request_number, replace(preview, is_ill=False))
