"""From requests and temporary items to the values a strap prints, and the strap PDFs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.borrowing import request_numbers
from app.borrowing.citation import citation
from app.borrowing.office_lists import day_bounds
from app.borrowing.request_numbers import temporary_item_for
from app.borrowing.strap_queue import waiting_item_ids
from app.library import library_settings
from app.library.actors import Actor
from app.library.errors import InvalidInput, NotFound
from app.library.library_settings import LibrarySettings
from app.library.runtime import Runtime
from app.library.scanning import InvalidScan, normalize_scan
from app.people.patron_names import patron_label
from app.printing.straps import (
    ReturnFlag,
    StrapContent,
    StrapStyle,
    render_return_flags,
    render_straps,
)
from db.models import Branch, IllRequest, Item, ItemKind, Patron, Role


def strap_content(session: Session, item: Item, settings: LibrarySettings) -> StrapContent:
    request = session.get(IllRequest, item.request_id) if item.request_id else None
    if request is None or item.kind is not ItemKind.TEMPORARY:
        raise InvalidInput(
            f"{item.barcode} is not a borrowed ILL item; only temporary ILL items get a strap."
        )
    patron = session.get(Patron, request.patron_id) if request.patron_id else None
    pickup = session.get(Branch, request.pickup_branch_id) if request.pickup_branch_id else None
    if patron is None or pickup is None or item.lender_due_date is None:
        raise InvalidInput(
            f"Request {request.request_number} lacks its patron, pickup branch or due date; "
            "a strap cannot be printed for it."
        )
    return StrapContent(
        strap_barcode=item.barcode,
        request_number=request.request_number,
        title=item.title,
        author=item.author,
        patron_label=patron_label(
            patron.first_name, patron.last_name, patron.patron_id, settings.patron_display
        ),
        pickup_code=pickup.code,
        pickup_name=pickup.name,
        due_date=item.lender_due_date,
        lender_symbol=request.lender_symbol or "",
        in_library_use_only=item.in_library_use_only,
        received_on=item.received_at.date() if item.received_at else None,
        pieces=item.pieces,
        citation=citation(request.volume, request.issue, request.pages),
    )


def _item_for(session: Session, ref: str) -> Item:
    """A request number or a strap barcode, as typed or scanned."""
    text = ref.strip()
    if text.isdigit():
        request = request_numbers.find_or_none(session, text)
        if request is not None:
            item = temporary_item_for(session, request)
            if item is None:
                raise InvalidInput(
                    f"Request {text} has not been received yet, so it has no strap. "
                    "Receive it first."
                )
            return item
    scan = normalize_scan(text)
    if isinstance(scan, InvalidScan):
        raise InvalidInput(f"'{scan.shown}': {scan.reason}")
    item = session.scalar(select(Item).where(Item.barcode == scan.barcode))
    if item is None:
        raise NotFound(f"Nothing has the request number or strap barcode '{text}'.")
    return item


def strap_style(rt: Runtime, actor: Actor) -> StrapStyle:
    with rt.db.reading() as session:
        return StrapStyle.from_settings(library_settings.load(session))


def straps_for(rt: Runtime, actor: Actor, refs: Sequence[str]) -> list[StrapContent]:
    actor.require(Role.ILL_OFFICE, "Printing book straps")
    if not refs:
        raise InvalidInput("Give at least one request number or strap barcode.")
    with rt.db.reading() as session:
        settings = library_settings.load(session)
        return [strap_content(session, _item_for(session, ref), settings) for ref in refs]


def straps_received_on(rt: Runtime, actor: Actor, day: date | None = None) -> list[StrapContent]:
    """Straps of every item received on `day` (today by default), in order of receipt."""
    actor.require(Role.ILL_OFFICE, "Printing book straps")
    start, end = day_bounds(rt.clock, day)
    with rt.db.reading() as session:
        settings = library_settings.load(session)
        items = session.scalars(
            select(Item)
            .where(
                Item.kind == ItemKind.TEMPORARY,
                Item.received_at >= start,
                Item.received_at < end,
            )
            .order_by(Item.received_at, Item.id)
        ).all()
        return [strap_content(session, item, settings) for item in items]


def straps_waiting(rt: Runtime, actor: Actor) -> list[StrapContent]:
    """Every strap in the office's print queue, oldest first (see `strap_queue`)."""
    actor.require(Role.ILL_OFFICE, "Printing book straps")
    with rt.db.reading() as session:
        settings = library_settings.load(session)
        return [
            strap_content(session, item, settings)
            for item in (session.get(Item, item_id) for item_id in waiting_item_ids(session))
            if item is not None
        ]


def strap_pdf(rt: Runtime, actor: Actor, refs: Sequence[str], layout: str = "letter3") -> bytes:
    straps = straps_for(rt, actor, refs)
    return render_straps(straps, strap_style(rt, actor), layout)


def received_today_pdf(rt: Runtime, actor: Actor, layout: str = "letter3") -> bytes:
    straps = straps_received_on(rt, actor)
    if not straps:
        raise NotFound("Nothing was received today, so there are no straps to print.")
    return render_straps(straps, strap_style(rt, actor), layout)


def return_flag_pdf(
    rt: Runtime, actor: Actor, flags: Sequence[ReturnFlag], layout: str = "letter3"
) -> bytes:
    return render_return_flags(flags, strap_style(rt, actor), layout)
