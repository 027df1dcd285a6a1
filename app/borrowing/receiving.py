"""Receiving a borrowed item at the ILL office: temporary item, strap barcode, first move.

One action, one transaction: the temporary item gets the next strap barcode, the request
becomes `received`, and the item either starts its transit to the patron's pickup branch
or, when that branch is where the ILL office sits, goes straight onto its hold shelf.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.borrowing import request_numbers
from app.borrowing.due_date_rule import accepted_due_date, latest_due_date
from app.borrowing.pickup_by import pickup_by_date
from app.borrowing.pieces import pieces_line
from app.borrowing.request_numbers import temporary_item_for
from app.borrowing.strap_queue import queue_strap
from app.library import library_settings, transits
from app.library.actors import Actor
from app.library.barcode_space import refuse_item_barcode_of_a_patron
from app.library.branches import ill_office_branch
from app.library.errors import Conflict, InvalidInput
from app.library.folding import fold
from app.library.runtime import Runtime
from app.library.scanning import (
    STRAP_DIGITS,
    STRAP_PREFIX,
    InvalidScan,
    is_strap_barcode,
    normalize_scan,
    strap_barcode,
    strap_check_digit_ok,
)
from app.notices.outbox import queue_notice
from app.people.patron_ids import parse_oclc_symbol
from app.records import audit
from db.models import (
    STRAP_SERIALS,
    Branch,
    Direction,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    Item,
    ItemKind,
    ItemStatus,
    Patron,
    RequestKind,
    RequestStatus,
    Role,
    TransitReason,
)

if TYPE_CHECKING:
    from app.printing.straps import StrapContent, StrapStyle

MAX_NOTE = 1000
MAX_PIECES = 50  # a multi-volume set; more is a typing slip
_SERIAL_ATTEMPTS = 3


class ReceiveOutcome(StrEnum):
    TRANSIT = "transit"  # sent by inter-campus mail to the pickup branch
    HOLD_SHELF = "hold_shelf"  # the pickup branch is where the ILL office sits


@dataclass(frozen=True)
class ReceiveForm:
    request_number: str
    lender_symbol: str
    lender_due_date: date
    in_library_use_only: bool = False
    lender_barcode: str = ""
    note: str = ""
    # Why a lender's date more than two years ahead is right (ILL office; the window
    # takes it from the note). Kept in the audit trail.
    override_reason: str = ""
    # How many physical pieces the lender sent (a book with a CD: 2). Every desk that
    # handles the item is told to check that all of them are there.
    pieces: int = 1


@dataclass(frozen=True)
class Received:
    strap_barcode: str
    request_number: str
    outcome: ReceiveOutcome
    destination: str  # branch code the item goes to
    destination_name: str
    title: str
    patron_id: str
    lender_symbol: str
    lender_due_date: date
    in_library_use_only: bool
    pickup_by: date | None  # set when it went straight onto the hold shelf
    instruction: str
    pieces: int = 1
    # What the strap prints, read in the same transaction, so the office builds it at once.
    strap: StrapContent | None = None
    strap_style: StrapStyle | None = None


def next_strap_serial(session: Session) -> int:
    """One more than the highest strap serial in use (strap barcodes sort by serial).

    A range on the unique barcode index, read from the top: fast with a million items on
    both databases, where a LIKE would scan the table. On PostgreSQL the number comes from
    a sequence, so receipts arriving together each take their own without waiting for one
    another to commit. When straps came in another way (the demo, an import) the sequence
    is behind them: it is moved past them by taking the numbers in between, which never
    hands one number out twice, as moving it with `setval` could while others take theirs.
    """
    top = _highest_strap_serial(session) + 1
    if session.get_bind().dialect.name != "postgresql":
        return top  # SQLite: one writer at a time, so the highest in use is the latest
    serial = int(session.scalar(STRAP_SERIALS.next_value()))
    if serial >= top:
        return serial
    skipped = (
        select(STRAP_SERIALS.next_value().label("n"))
        .select_from(func.generate_series(1, top - serial))
        .subquery()
    )
    return int(session.scalar(select(func.max(skipped.c.n))))


def _highest_strap_serial(session: Session) -> int:
    candidates = session.scalars(
        select(Item.barcode)
        .where(
            Item.barcode >= STRAP_PREFIX,
            Item.barcode < STRAP_PREFIX[:-1] + chr(ord(STRAP_PREFIX[-1]) + 1),
            func.length(Item.barcode) == len(STRAP_PREFIX) + STRAP_DIGITS,
        )
        .order_by(Item.barcode.desc())
        .limit(50)
    )
    for barcode in candidates:
        if is_strap_barcode(barcode) and strap_check_digit_ok(barcode):
            return int(barcode[len(STRAP_PREFIX) : -1])
    return 0


def _validated(form: ReceiveForm, today: date, actor: Actor) -> tuple[str, str, str | None, str]:
    number = request_numbers.clean_borrowing(form.request_number)
    lender = parse_oclc_symbol(form.lender_symbol)
    accepted_due_date(
        form.lender_due_date,
        today,
        what="The lender's due date",
        actor=actor,
        override_reason=form.override_reason,
        override_hint="write why in the Note, or `--reason` on the command line",
    )
    lender_barcode: str | None = None
    if form.lender_barcode.strip():
        scan = normalize_scan(form.lender_barcode)
        if isinstance(scan, InvalidScan):
            raise InvalidInput(f"Lender's barcode: {scan.reason}")
        if scan.barcode.upper().startswith(STRAP_PREFIX):
            raise InvalidInput(
                f"{scan.barcode} is one of our strap barcodes, not the lender's own label. "
                "Leave the lender's barcode empty, or scan the lender's label."
            )
        lender_barcode = scan.barcode
    if not 1 <= form.pieces <= MAX_PIECES:
        raise InvalidInput(
            f"The number of pieces is {form.pieces}; enter how many physical pieces came "
            f"(1 for a single book, 2 for a book with a CD), at most {MAX_PIECES}."
        )
    note = form.note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"The note is {len(note)} characters; keep it under {MAX_NOTE}.")
    return number, lender, lender_barcode, note


def _request_to_receive(session: Session, number: str) -> IllRequest:
    request = request_numbers.find(session, number, lock=True)
    if request.direction is not Direction.BORROWING:
        raise InvalidInput(
            f"Request {number} is a lending request (one of our items going out); only "
            "borrowed items are received here."
        )
    if request.kind is RequestKind.COPY:
        raise InvalidInput(
            f"Request {number} is a copy (article) request: nothing is received on paper. "
            "Mark it available for download on the Requests tab."
        )
    item = temporary_item_for(session, request)
    if item is not None or request.status is not RequestStatus.REQUESTED:
        if item is not None:
            when = item.received_at.date().isoformat() if item.received_at else "earlier"
            raise Conflict(
                f"Request {number} was already received ({when}) as strap {item.barcode}. "
                "Do not receive it twice: reprint its strap instead."
            )
        raise Conflict(
            f"Request {number} is {request.status.value}, not waiting to be received. "
            "Only requests with status 'requested' can be received."
        )
    if request.patron_id is None or request.pickup_branch_id is None:
        raise InvalidInput(
            f"Request {number} has no patron or no pickup branch. Complete the request first."
        )
    return request


def _insert_item(session: Session, item: Item) -> None:
    """Give `item` the next strap barcode; a desk racing for the same one retries, then yields."""
    for _attempt in range(_SERIAL_ATTEMPTS):
        item.barcode = strap_barcode(next_strap_serial(session))
        try:
            with session.begin_nested():
                session.add(item)
                session.flush()
            return
        except IntegrityError:
            if item in session:
                session.expunge(item)
    raise Conflict(
        "Another desk was creating strap barcodes at the same moment. Nothing was saved; "
        "press Receive again."
    )


def _queue_ready_for_pickup(
    session: Session,
    request: IllRequest,
    patron: Patron,
    pickup: Branch,
    item: Item,
    form: ReceiveForm,
    pickup_by: date,
    at: datetime,
) -> None:
    queue_notice(
        session,
        "ready_for_pickup",
        at=at,
        patron=patron,
        request_id=request.id,
        context={
            "title": request.title,
            "request_number": request.request_number,
            "branch": pickup.name,
            "pickup_by": pickup_by.isoformat(),
            "due_date": form.lender_due_date.isoformat(),
            "in_library_use_only": form.in_library_use_only,
        },
        dedupe_key=f"ready_for_pickup:{item.id}:{pickup_by.isoformat()}",
    )


def receive_item(rt: Runtime, actor: Actor, form: ReceiveForm) -> Received:
    """Receive a borrowed item: temporary item + strap barcode + transit or hold shelf."""
    actor.require(Role.ILL_OFFICE, "Receiving ILL items")
    today = rt.clock.today()
    now = rt.clock.now()
    number, lender, lender_barcode, note = _validated(form, today, actor)
    with rt.db.transaction() as session:
        settings = library_settings.load(session)
        request = _request_to_receive(session, number)
        office = ill_office_branch(session)
        pickup = session.get(Branch, request.pickup_branch_id)
        patron = session.get(Patron, request.patron_id)
        assert pickup is not None and patron is not None
        if pickup.virtual or not pickup.active:
            raise InvalidInput(
                f"Request {number} names {pickup.code} as its pickup branch, which is not a "
                "campus where patrons pick items up. Nothing was received: give the request a "
                "campus (re-import its row with the right pickup_branch) and receive it then."
            )
        if lender_barcode:
            refuse_item_barcode_of_a_patron(session, lender_barcode, "The lender's barcode")
        at_office_campus = pickup.id in (office.id, office.location_id)
        item = Item(
            barcode="",
            kind=ItemKind.TEMPORARY,
            status=ItemStatus.ON_HOLD_SHELF if at_office_campus else ItemStatus.IN_TRANSIT,
            title=request.title,
            title_key=fold(request.title),
            author=request.author,
            home_branch_id=office.id,
            current_branch_id=pickup.id if at_office_campus else office.id,
            request_id=request.id,
            lender_barcode=lender_barcode,
            lender_due_date=form.lender_due_date,
            in_library_use_only=form.in_library_use_only,
            pieces=form.pieces,
            note=note,
            received_at=now,
            created_at=now,
        )
        _insert_item(session, item)
        queue_strap(session, item.id, now)  # waits in the office's print queue until printed
        before = {"status": request.status.value, "lender": request.lender_symbol}
        request.status = RequestStatus.RECEIVED
        request.lender_symbol = lender
        request.item_id = item.id
        request.updated_at = now
        pickup_by: date | None = None
        if at_office_campus:
            pickup_by = pickup_by_date(today, settings.pickup_days, form.lender_due_date)
            session.add(
                HoldShelfEntry(
                    item_id=item.id,
                    patron_id=patron.id,
                    branch_id=pickup.id,
                    status=HoldStatus.ACTIVE,
                    placed_at=now,
                    pickup_by=pickup_by,
                )
            )
            if request.notify_patron:  # else the ILL system tells the patron itself
                _queue_ready_for_pickup(
                    session, request, patron, pickup, item, form, pickup_by, now
                )
            instruction = f"Put on the hold shelf at {pickup.code} for {patron.display_name}."
        else:
            transits.start(
                session,
                actor,
                item.id,
                from_branch_id=office.id,
                to_branch_id=pickup.id,
                reason=TransitReason.TO_PICKUP,
                at=now,
            )
            instruction = f"Strap it and send it to {pickup.code} by inter-campus mail."
        if form.pieces > 1:
            instruction += f" {pieces_line(form.pieces)} Keep them together under the strap."
        audit.record(
            session,
            actor,
            "ill.receive",
            at=now,
            entity="ill_request",
            entity_id=request.id,
            item_id=item.id,
            patron_id=patron.id,
            before=before,
            after={
                "status": RequestStatus.RECEIVED.value,
                "lender": lender,
                "strap_barcode": item.barcode,
                "lender_due_date": form.lender_due_date.isoformat(),
                "in_library_use_only": form.in_library_use_only,
                "pieces": form.pieces,
                "destination": pickup.code,
                "notify_patron": request.notify_patron,
            },
            detail=(
                f"due date beyond two years: {' '.join(form.override_reason.split())[:300]}"
                if form.lender_due_date > latest_due_date(today)
                else ""
            ),
        )
        # ReportLab comes with the strap values: loaded here, off the desk's GUI thread.
        from app.borrowing.strap_data import strap_content
        from app.printing.straps import StrapStyle

        return Received(
            strap_barcode=item.barcode,
            request_number=number,
            outcome=ReceiveOutcome.HOLD_SHELF if at_office_campus else ReceiveOutcome.TRANSIT,
            destination=pickup.code,
            destination_name=pickup.name,
            title=request.title,
            patron_id=patron.patron_id,
            lender_symbol=lender,
            lender_due_date=form.lender_due_date,
            in_library_use_only=form.in_library_use_only,
            pickup_by=pickup_by,
            instruction=instruction,
            pieces=form.pieces,
            strap=strap_content(session, item, settings),
            strap_style=StrapStyle.from_settings(settings),
        )
