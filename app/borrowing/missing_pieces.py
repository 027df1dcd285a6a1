"""A multi-piece item back without all its pieces: flagged for the ILL office.

The desk that checks the item in reports it (the check-in banner's "A piece is missing"
action, never a dialog in the scan path); the flag waits on the ILL office's list until the
office clears it, saying what happened (the piece turned up, the lender was told). Both
steps are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from app.library import library_settings
from app.library.actors import Actor
from app.library.branches import branch_by_code
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.runtime import Runtime
from app.library.scanning import InvalidScan, normalize_scan
from app.people.patron_names import patron_label
from app.records import audit
from db.models import Branch, IllRequest, Item, ItemKind, MissingPiece, Patron, Role, Staff

MAX_NOTE = 1000


@dataclass(frozen=True)
class MissingPieceRow:
    """One flag, as the office list shows it."""

    id: int
    at: datetime
    barcode: str
    title: str
    request_number: str
    pieces: int
    patron: str
    patron_id: str
    branch: str  # where it was reported
    staff: str
    note: str
    cleared: bool
    clear_note: str
    lender: str = ""


def _note(text: str, what: str) -> str:
    note = " ".join(text.split())
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"The {what} is {len(note)} characters; keep it under {MAX_NOTE}.")
    return note


def _row(session: Session, flag: MissingPiece, display: str) -> MissingPieceRow:
    item = session.get(Item, flag.item_id)
    assert item is not None
    request = session.get(IllRequest, item.request_id) if item.request_id else None
    patron = session.get(Patron, request.patron_id) if request and request.patron_id else None
    branch = session.get(Branch, flag.branch_id)
    staff = session.get(Staff, flag.staff_id) if flag.staff_id else None
    return MissingPieceRow(
        id=flag.id,
        at=flag.at,
        barcode=item.barcode,
        title=item.title,
        request_number=request.request_number if request else "",
        pieces=item.pieces,
        patron=patron_label(
            patron.first_name or "", patron.last_name or "", patron.patron_id, display
        )
        if patron and patron.patron_id
        else "",
        patron_id=(patron.patron_id or "") if patron else "",
        branch=branch.code if branch else "",
        staff=staff.username if staff else "",
        note=flag.note,
        cleared=flag.cleared_at is not None,
        clear_note=flag.clear_note,
        lender=(request.lender_symbol or "") if request else "",
    )


def report_missing_piece(
    rt: Runtime, actor: Actor, barcode: str, note: str = ""
) -> MissingPieceRow:
    """Flag a multi-piece item that came back without all its pieces (desk staff and up).

    Reporting it again while the flag is open changes nothing and answers with that flag.
    """
    actor.require(Role.DESK, "Reporting a missing piece")
    scan = normalize_scan(barcode)
    if isinstance(scan, InvalidScan):
        raise InvalidInput(scan.reason)
    text = _note(note, "note")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        display = library_settings.load(session).patron_display
        item = session.scalar(select(Item).where(Item.barcode == scan.barcode))
        if item is None:
            item = session.scalar(
                select(Item)
                .where(Item.lender_barcode == scan.barcode, Item.kind == ItemKind.TEMPORARY)
                .order_by(Item.id.desc())
                .limit(1)
            )
        if item is None:
            raise NotFound(f"No item has the barcode {scan.barcode}. Scan the strap's barcode.")
        if item.pieces <= 1:
            raise InvalidInput(
                f"{item.barcode} was received as one piece, so no piece can be missing. If it "
                "came with more, tell the ILL office."
            )
        open_flag = session.scalar(
            select(MissingPiece).where(
                MissingPiece.item_id == item.id, MissingPiece.cleared_at.is_(None)
            )
        )
        if open_flag is not None:
            return _row(session, open_flag, display)
        branch = branch_by_code(session, actor.branch_code)
        flag = MissingPiece(
            item_id=item.id,
            at=now,
            branch_id=branch.id,
            staff_id=actor.staff_id or None,
            note=text,
        )
        try:
            with session.begin_nested():
                session.add(flag)
                session.flush()
        except IntegrityError:
            raise Conflict(
                "Another desk reported this item's missing piece at the same moment; the ILL "
                "office has it on its list."
            ) from None
        request = session.get(IllRequest, item.request_id) if item.request_id else None
        audit.record(
            session,
            actor,
            "item.piece_missing",
            at=now,
            entity="missing_piece",
            entity_id=flag.id,
            item_id=item.id,
            patron_id=request.patron_id if request else None,
            after={"barcode": item.barcode, "pieces": item.pieces, "note": text},
            detail=text,
        )
        return _row(session, flag, display)


def clear_missing_piece(rt: Runtime, actor: Actor, flag_id: int, note: str) -> MissingPieceRow:
    """The ILL office clears a flag once the piece turned up (or the lender was told)."""
    actor.require(Role.ILL_OFFICE, "Clearing a missing-piece flag")
    text = _note(note, "note")
    if not text:
        raise InvalidInput(
            "Say what happened to the piece (for example 'CD found in the book drop'); the "
            "note is kept with the flag."
        )
    now = rt.clock.now()
    with rt.db.transaction() as session:
        display = library_settings.load(session).patron_display
        flag = session.get(MissingPiece, flag_id)
        if flag is None:
            raise NotFound(f"There is no missing-piece flag number {flag_id}.")
        if flag.cleared_at is not None:
            raise Conflict(f"Missing-piece flag {flag_id} is already cleared.")
        flag.cleared_at = now
        flag.cleared_by = actor.staff_id or None
        flag.clear_note = text
        item = session.get(Item, flag.item_id)
        request = session.get(IllRequest, item.request_id) if item and item.request_id else None
        audit.record(
            session,
            actor,
            "item.piece_missing_cleared",
            at=now,
            entity="missing_piece",
            entity_id=flag.id,
            item_id=flag.item_id,
            patron_id=request.patron_id if request else None,
            after={"clear_note": text},
            detail=text,
        )
        return _row(session, flag, display)


def missing_pieces(
    rt: Runtime, actor: Actor, *, include_cleared: bool = False, limit: int | None = None
) -> list[MissingPieceRow]:
    """The ILL office's list of items back without all their pieces, newest first."""
    actor.require(Role.ILL_OFFICE, "The missing-pieces list")
    with rt.db.reading() as session:
        display = library_settings.load(session).patron_display
        request, patron = aliased(IllRequest), aliased(Patron)
        query = (
            select(
                MissingPiece,
                Item.barcode,
                Item.title,
                Item.pieces,
                request.request_number,
                request.lender_symbol,
                patron.first_name,
                patron.last_name,
                patron.patron_id,
                Branch.code,
                Staff.username,
            )
            .join(Item, Item.id == MissingPiece.item_id)
            .join(Branch, Branch.id == MissingPiece.branch_id)
            .outerjoin(request, request.id == Item.request_id)
            .outerjoin(patron, patron.id == request.patron_id)
            .outerjoin(Staff, Staff.id == MissingPiece.staff_id)
            .order_by(MissingPiece.at.desc(), MissingPiece.id.desc())
            .limit(limit)
        )
        if not include_cleared:
            query = query.where(MissingPiece.cleared_at.is_(None))
        return [
            MissingPieceRow(
                id=flag.id,
                at=flag.at,
                barcode=barcode,
                title=title,
                request_number=number or "",
                pieces=pieces,
                patron=patron_label(first or "", last or "", campus_id, display)
                if campus_id
                else "",
                patron_id=campus_id or "",
                branch=code,
                staff=username or "",
                note=flag.note,
                cleared=flag.cleared_at is not None,
                clear_note=flag.clear_note,
                lender=lender or "",
            )
            for (
                flag,
                barcode,
                title,
                pieces,
                number,
                lender,
                first,
                last,
                campus_id,
                code,
                username,
            ) in session.execute(query).all()
        ]
