"""Patrons from the campus system's CSV export: a re-import updates, never doubles; a
patron card may not take an item's barcode."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from app.borrowing.csv_import import (
    BATCH_ROWS,
    PATRON_COLUMNS,
    PATRON_LENGTHS,
    PATRONS,
    ImportReport,
    RowError,
    _branch,
    _changes,
    _Kind,
    _Plan,
    _Row,
    _run,
    _validated,
)
from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.folding import name_key
from app.library.progress import KeepGoing, Progress, always, no_progress
from app.library.runtime import Runtime
from app.people.patron_ids import (
    parse_email,
    parse_patron_id,
)
from db.bulk import any_of, insert_rows
from db.models import (
    Branch,
    Item,
    PatronType,
    Role,
)


def _name_key(first: str, last: str) -> str:
    """`name_key`, without Unicode decomposition for the plain-ASCII names most rows have."""
    both = f"{last} {first}"
    return " ".join(both.lower().split()) if both.isascii() else name_key(first, last)


def _patron_parser(branches: dict[str, Branch]) -> Callable[[dict[str, str]], _Row]:
    def parse(row: dict[str, str]) -> _Row:
        patron_id = parse_patron_id(row["patron_id"])
        try:
            patron_type = PatronType(row["patron_type"].lower())
        except ValueError:
            raise InvalidInput(
                f"patron_type '{row['patron_type']}' is not one of student, faculty, staff"
            ) from None
        if not row["first_name"] and not row["last_name"]:
            raise InvalidInput("the patron has no name")
        values: dict[str, Any] = {
            "barcode": row["barcode"] or None,
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "name_key": _name_key(row["first_name"], row["last_name"]),
            "email": parse_email(row["email"]),
            "patron_type": patron_type,
            "home_branch_id": _branch(branches, row["home_branch"], "home_branch").id,
        }
        return _Row(0, patron_id, values)

    return parse


def _barcodes_once(rows: list[_Row], errors: list[RowError]) -> list[_Row]:
    """Two patrons of one file with one barcode: the later row is reported, not imported."""
    first: dict[str, _Row] = {}
    kept = []
    for row in rows:
        barcode = row.values["barcode"]
        earlier = first.setdefault(barcode, row) if barcode else row
        if earlier is not row:
            errors.append(
                RowError(
                    row.line, f"barcode {barcode} is also on line {earlier.line} ({earlier.key})"
                )
            )
            continue
        kept.append(row)
    return kept


def _plan_patrons(session: Session, batch: list[_Row]) -> _Plan:
    plan = _Plan()
    keys = [row.key for row in batch]
    columns = [PATRONS.c[name] for name in batch[0].values]
    existing = {
        found.patron_id: found._asdict()
        for found in session.execute(
            select(PATRONS.c.id, PATRONS.c.patron_id, *columns).where(
                any_of(PATRONS.c.patron_id, keys)
            )
        )
    }
    barcodes = [row.values["barcode"] for row in batch if row.values["barcode"]]
    holders = {
        barcode: holder
        for barcode, holder in session.execute(
            select(PATRONS.c.barcode, PATRONS.c.patron_id).where(
                any_of(PATRONS.c.barcode, barcodes)
            )
        )
    }
    items = _item_barcodes(session, barcodes)
    for row in batch:
        barcode = row.values["barcode"]
        holder = holders.get(barcode) if barcode else None
        if holder is not None and holder != row.key:
            plan.errors.append(RowError(row.line, f"barcode {barcode} already belongs to {holder}"))
            continue
        if barcode in items:
            plan.errors.append(
                RowError(
                    row.line,
                    f"barcode {barcode} is already an item's barcode ({items[barcode]}); a patron "
                    "card needs a barcode no item has, or a scan at the desk would mean two things",
                )
            )
            continue
        old = existing.get(row.key)
        if old is None:
            plan.inserts.append(row)
        elif _changes(old, row.values):
            plan.updates.append((row, old))
        else:
            plan.unchanged += 1
    return plan


def _item_barcodes(session: Session, barcodes: list[str]) -> dict[str, str]:
    """Which of `barcodes` are an item's barcode or lender label (patrons and items share
    one barcode space at the desk), each with the item's own barcode."""
    if not barcodes:
        return {}
    found: dict[str, str] = {}
    wanted = set(barcodes)
    for barcode, lender in session.execute(
        select(Item.barcode, Item.lender_barcode).where(
            or_(any_of(Item.barcode, barcodes), any_of(Item.lender_barcode, barcodes))
        )
    ):
        if barcode in wanted:
            found[barcode] = barcode
        if lender in wanted:
            found[lender] = barcode
    return found


def _write_patrons(session: Session, plan: _Plan, now: datetime, actor: Actor) -> None:
    if plan.inserts:
        insert_rows(
            session,
            PATRONS,
            [
                {
                    "patron_id": row.key,
                    **row.values,
                    "is_ill_dummy": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for row in plan.inserts
            ],
        )
    if plan.updates:
        names = list(plan.updates[0][0].values)
        session.execute(
            update(PATRONS)
            .where(PATRONS.c.id == bindparam("row_id"))
            .values({name: bindparam(name) for name in [*names, "updated_at"]}),
            [{"row_id": old["id"], **row.values, "updated_at": now} for row, old in plan.updates],
        )


def import_patrons(
    rt: Runtime,
    actor: Actor,
    text: str,
    *,
    strict: bool = False,
    progress: Progress = no_progress,
    batch_rows: int = BATCH_ROWS,
    keep_going: KeepGoing = always,
) -> ImportReport:
    """Add or update patrons from CSV text; `progress(done, total)` after each batch."""
    actor.require(Role.ILL_OFFICE, "Importing patrons")
    with rt.db.reading() as session:
        branches = {b.code: b for b in session.scalars(select(Branch))}
    good, errors = _validated(
        text, PATRON_COLUMNS, PATRON_LENGTHS, _patron_parser(branches), "patron_id"
    )
    good = _barcodes_once(good, errors)
    kind = _Kind(_plan_patrons, _write_patrons, "import.patrons", plan_first=True)
    return _run(rt, good, errors, kind, strict, actor, progress, batch_rows, keep_going)
