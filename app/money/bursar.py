"""The bursar report: charges the bursar's office should bill, as a CSV file.

Which charges go in
  - open charges (not removed) never reported before;
  - ILL charges whatever their amount (ILL has no minimum);
  - charges for the library's own items only from `own_item_bursar_minimum` up;
  - an estimated charge (replacement cost before the lender's bill) is held back while
    `hold_estimated_charges` is on, and goes in the first report after the actual bill.
Each reported charge gets `reported_at` (the patron view shows "Reported to the bursar on
<date>") and, when `bursar_transcript_hold` is on, the transcript-hold flag.

File layout (UTF-8, comma-separated, RFC 4180 quoting, CRLF line ends, one header row,
then one row per charge, oldest charge first):

  column              content
  charge_id           ILL Desk's charge number; quote it when asking about a line
  patron_id           campus ID, e.g. T00890123
  last_name           patron's last name
  first_name          patron's first name
  charge_type         REPLACEMENT, PROCESSING_FEE or OTHER
  amount              US dollars, two decimals, no symbol or separator: 85.00
  estimated           Y if the amount is an estimate, else N
  ill                 Y for an interlibrary-loan charge, N for the library's own item
  item_barcode        the strap barcode (ILL) or item barcode
  title               the item's title
  ill_request_number  the ILL request number, empty for own items
  reason              why the patron is charged, as staff see it
  charged_on          date the charge was placed, YYYY-MM-DD
  transcript_hold     Y if the library asks the bursar to place a transcript hold

A text cell that a spreadsheet would take for a formula (a name such as
`=HYPERLINK(...)`) starts with an apostrophe; amounts stay plain numbers, a credit
as -12.50 (see app.library.spreadsheet_cells).

An existing file is never overwritten, the file is readable by its owner only (it names
patrons), and the charges are marked reported only when the file has been written
completely.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from app.library import library_settings
from app.library.actors import Actor
from app.library.amounts import CENT, money, parse_amount
from app.library.errors import Conflict, InvalidInput
from app.library.runtime import Runtime
from app.library.spreadsheet_cells import spreadsheet_csv
from app.money.charge_views import ChargeView
from app.money.charges import MAX_AMOUNT
from app.records import audit
from app.workstation.private_files import create_owner_only
from db.models import Charge, IllRequest, Item, Patron, Role

COLUMNS = (
    "charge_id",
    "patron_id",
    "last_name",
    "first_name",
    "charge_type",
    "amount",
    "estimated",
    "ill",
    "item_barcode",
    "title",
    "ill_request_number",
    "reason",
    "charged_on",
    "transcript_hold",
)


@dataclass(frozen=True)
class HeldBack:
    charge: ChargeView
    why: str


@dataclass(frozen=True)
class BursarPreview:
    """What the next report would hold, and what waits and why."""

    to_report: tuple[ChargeView, ...]
    held_back: tuple[HeldBack, ...]
    transcript_hold: bool

    @property
    def total(self) -> Decimal:
        return sum((c.amount for c in self.to_report), Decimal("0.00"))


@dataclass(frozen=True)
class BursarExport:
    path: str
    reported: int
    total: Decimal
    held_back: int
    message: str


def preview(rt: Runtime, actor: Actor) -> BursarPreview:
    """What the next bursar export holds, and what waits and why."""
    with rt.db.reading() as session:
        return preview_in(session)


def _unreported(session: Session) -> list[ChargeView]:
    """Open charges never reported, oldest first: only these rows are read, as plain columns.

    A library's history of reported charges grows every term; the partial index on the
    unreported ones keeps this read the size of the next report.
    """
    rows = session.execute(
        select(
            Charge.id,
            Patron.patron_id,
            Patron.first_name,
            Patron.last_name,
            Charge.kind,
            Charge.amount,
            Charge.estimated,
            Charge.is_ill,
            Charge.reason,
            Charge.created_at,
            Item.barcode,
            Item.title,
            IllRequest.title,
            IllRequest.request_number,
            Charge.transcript_hold,
        )
        .join(Patron, Patron.id == Charge.patron_id)
        .outerjoin(Item, Item.id == Charge.item_id)
        .outerjoin(IllRequest, IllRequest.id == Charge.request_id)
        .where(Charge.reported_at.is_(None), Charge.removed_at.is_(None))
        .order_by(Charge.created_at, Charge.id)
    ).all()
    return [
        ChargeView(
            id=charge_id,
            patron_id=campus_id,
            patron_name=f"{first} {last}".strip(),
            kind=kind,
            amount=Decimal(amount).quantize(CENT),
            estimated=estimated,
            is_ill=is_ill,
            reason=reason,
            created_at=created_at,
            item_barcode=barcode or "",
            title=item_title if barcode is not None else (request_title or ""),
            request_number=number or "",
            reported_at=None,
            transcript_hold=hold,
            removed_at=None,
            removed_reason="",
        )
        for (
            charge_id,
            campus_id,
            first,
            last,
            kind,
            amount,
            estimated,
            is_ill,
            reason,
            created_at,
            barcode,
            item_title,
            request_title,
            number,
            hold,
        ) in rows
    ]


def preview_in(session: Session) -> BursarPreview:
    settings = library_settings.load(session)
    minimum = parse_amount(
        settings.own_item_bursar_minimum, "The own-item bursar minimum", maximum=MAX_AMOUNT
    )
    to_report: list[ChargeView] = []
    held: list[HeldBack] = []
    for charge in _unreported(session):
        if charge.estimated and settings.hold_estimated_charges:
            held.append(HeldBack(charge, "estimated: waiting for the lending library's bill"))
        elif not charge.is_ill and charge.amount < minimum:
            held.append(HeldBack(charge, f"own item below the {money(minimum)} minimum"))
        else:
            to_report.append(charge)
    return BursarPreview(tuple(to_report), tuple(held), settings.bursar_transcript_hold)


def csv_text(charges: tuple[ChargeView, ...], transcript_hold: bool) -> str:
    """The file's text. Names, titles and reasons are shown as text, never run as formulas
    (app.library.spreadsheet_cells); amounts stay plain numbers the bursar can import."""
    rows: list[tuple[object, ...]] = [COLUMNS]
    for c in charges:
        last, first = _split_name(c)
        rows.append(
            (
                c.id,
                c.patron_id,
                last,
                first,
                c.kind.value.upper(),
                f"{c.amount:.2f}",
                "Y" if c.estimated else "N",
                "Y" if c.is_ill else "N",
                c.item_barcode,
                c.title,
                c.request_number,
                c.reason,
                c.created_at.date().isoformat(),
                "Y" if transcript_hold else "N",
            )
        )
    return spreadsheet_csv(rows)


def _split_name(charge: ChargeView) -> tuple[str, str]:
    first, _, last = charge.patron_name.partition(" ")
    return (last, first) if last else (first, "")


def export(rt: Runtime, actor: Actor, path: Path) -> BursarExport:
    """Write the report to `path` (a new file) and mark its charges reported."""
    actor.require(Role.ILL_OFFICE, "Reporting charges to the bursar")
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise InvalidInput(f"Name the report file with .csv at the end, not '{path.name}'.")
    if path.exists():
        raise Conflict(f"{path} already exists; reports are never overwritten. Choose a new name.")
    if not path.parent.is_dir():
        raise InvalidInput(f"The folder {path.parent} does not exist; choose another place.")
    now = rt.clock.now()
    written = False
    try:
        with rt.db.transaction() as session:
            pending = preview_in(session)
            if not pending.to_report:
                return BursarExport(
                    str(path),
                    0,
                    Decimal("0.00"),
                    len(pending.held_back),
                    "Nothing to report to the bursar; no file was written." + _held_note(pending),
                )
            ids = [c.id for c in pending.to_report]
            marked = cast(
                CursorResult[Any],
                session.execute(
                    update(Charge)
                    .where(
                        Charge.id.in_(ids),
                        Charge.reported_at.is_(None),
                        Charge.removed_at.is_(None),
                    )
                    .values(reported_at=now, transcript_hold=pending.transcript_hold)
                    .execution_options(synchronize_session=False),
                ),
            )
            if marked.rowcount != len(ids):
                raise Conflict(
                    "Charges changed while the report was being made (another desk reported "
                    "or removed one). Nothing was written; export again."
                )
            audit.record(
                session,
                actor,
                "bursar.export",
                at=now,
                entity="charge",
                after={"charges": ids, "total": str(pending.total), "file": path.name},
                detail=f"{len(ids)} charge(s), {money(pending.total)}",
            )
            session.flush()
            _write_new(path, csv_text(pending.to_report, pending.transcript_hold))
            written = True
    except BaseException:
        # The charges stay unreported, so the file must not stay either.
        if written:
            path.unlink(missing_ok=True)
        raise
    return BursarExport(
        str(path),
        len(ids),
        pending.total,
        len(pending.held_back),
        f"{len(ids)} charge(s), {money(pending.total)} in all, written to {path.name} and "
        "marked reported." + _held_note(pending),
    )


def _held_note(pending: BursarPreview) -> str:
    count = len(pending.held_back)
    return f" {count} charge(s) held back (see the preview for why)." if count else ""


def _write_new(path: Path, text: str) -> None:
    """Create the file (never replacing one, owner-only: it names patrons) and write it
    whole, or leave nothing."""
    try:
        create_owner_only(path, text.encode("utf-8"))
    except FileExistsError:
        raise Conflict(f"{path} appeared meanwhile; choose a new name.") from None
    except OSError as exc:
        raise InvalidInput(f"The report could not be written to {path}: {exc.strerror}.") from exc
