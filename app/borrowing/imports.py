"""CSV imports of patrons and ILL requests.

Idempotent: a re-import updates rows, never duplicates them. Every row is validated;
bad rows are reported by line number. Either all good rows go in (and each bad row is
listed) or, with `strict`, nothing does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.borrowing import request_numbers
from app.library.actors import Actor
from app.library.barcode_space import refuse_patron_barcode_of_an_item
from app.library.errors import InvalidInput, ServiceError
from app.library.folding import name_key
from app.library.runtime import Runtime
from app.people.patron_ids import (
    parse_email,
    parse_oclc_symbol,
    parse_patron_id,
)
from db.models import (
    Branch,
    Direction,
    IllRequest,
    Patron,
    PatronType,
    RequestKind,
    RequestStatus,
    Role,
)

PATRON_COLUMNS = (
    "patron_id",
    "barcode",
    "first_name",
    "last_name",
    "email",
    "patron_type",
    "home_branch",
)
REQUEST_COLUMNS = (
    "request_number",
    "kind",
    "patron_id",
    "pickup_branch",
    "title",
    "author",
    "article_title",
    "article_author",
    "volume",
    "issue",
    "issue_date",
    "pages",
    "lender",
)
MAX_FIELD = 500


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class ImportReport:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def read_csv(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            f"{path} is not UTF-8 text. Save it from the spreadsheet as 'CSV UTF-8'."
        ) from None


def _rows(text: str, columns: tuple[str, ...]) -> Iterable[tuple[int, dict[str, str] | RowError]]:
    if "\x00" in text:
        raise InvalidInput("The file contains NUL bytes: it is not a CSV text file.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InvalidInput("The file is empty: it needs a header line.") from None
    missing = [c for c in columns if c not in header]
    if missing:
        raise InvalidInput(
            f"The header line lacks the column(s) {', '.join(missing)}. Expected: "
            f"{','.join(columns)}."
        )
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, RowError(reader.line_num, f"unreadable CSV: {exc}")
            continue
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield line, RowError(line, f"has {len(values)} fields; the header has {len(header)}")
            continue
        row = {h: v.strip() for h, v in zip(header, values, strict=True)}
        too_long = [h for h in columns if len(row[h]) > MAX_FIELD]
        bad_chars = [h for h in columns if any(not ch.isprintable() for ch in row[h])]
        if too_long:
            yield line, RowError(line, f"field {too_long[0]} is longer than {MAX_FIELD} characters")
        elif bad_chars:
            yield line, RowError(line, f"field {bad_chars[0]} contains control characters")
        else:
            yield line, row


def _run(
    rt: Runtime,
    text: str,
    columns: tuple[str, ...],
    apply_row: Callable[[Session, dict[str, str], dict[str, Branch]], str],
    strict: bool,
) -> ImportReport:
    report = ImportReport()
    with rt.db.transaction() as session:
        branches = {b.code: b for b in session.scalars(select(Branch))}
        for line, row in _rows(text, columns):
            if isinstance(row, RowError):
                report.errors.append(row)
                continue
            try:
                with session.begin_nested():
                    outcome = apply_row(session, row, branches)
            except ServiceError as exc:
                report.errors.append(RowError(line, exc.message))
                continue
            setattr(report, outcome, getattr(report, outcome) + 1)
        if strict and report.errors:
            session.rollback()
            report.inserted = report.updated = report.unchanged = 0
            return report
    report.committed = True
    return report


def _branch(branches: dict[str, Branch], code: str, column: str) -> Branch:
    branch = branches.get(code.upper())
    if branch is None:
        raise InvalidInput(
            f"{column} '{code}' is not a branch code ({', '.join(sorted(branches))})"
        )
    return branch


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def _apply_patron(session: Session, row: dict[str, str], branches: dict[str, Branch]) -> str:
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
        "name_key": name_key(row["first_name"], row["last_name"]),
        "email": parse_email(row["email"]),
        "patron_type": patron_type,
        "home_branch_id": _branch(branches, row["home_branch"], "home_branch").id,
    }
    if values["barcode"]:
        holder = session.scalar(select(Patron).where(Patron.barcode == values["barcode"]))
        if holder is not None and holder.patron_id != patron_id:
            raise InvalidInput(f"barcode {values['barcode']} already belongs to {holder.patron_id}")
        refuse_patron_barcode_of_an_item(session, values["barcode"])
    patron = session.scalar(select(Patron).where(Patron.patron_id == patron_id))
    if patron is None:
        session.add(Patron(patron_id=patron_id, **values))
        session.flush()
        return "inserted"
    changed = _assign(patron, values)
    session.flush()
    return "updated" if changed else "unchanged"


def _apply_request(session: Session, row: dict[str, str], branches: dict[str, Branch]) -> str:
    number = request_numbers.clean_borrowing(row["request_number"])
    try:
        kind = RequestKind(row["kind"].lower())
    except ValueError:
        raise InvalidInput(f"kind '{row['kind']}' is not loan or copy") from None
    patron = session.scalar(
        select(Patron).where(Patron.patron_id == parse_patron_id(row["patron_id"]))
    )
    if patron is None:
        raise InvalidInput(
            f"patron_id {row['patron_id']} is not a known patron (import patrons first)"
        )
    if not row["title"]:
        raise InvalidInput("the title is empty")
    values: dict[str, Any] = {
        "kind": kind,
        "patron_id": patron.id,
        "pickup_branch_id": _branch(branches, row["pickup_branch"], "pickup_branch").id,
        "title": row["title"],
        "author": row["author"],
        "article_title": row["article_title"],
        "article_author": row["article_author"],
        "volume": row["volume"],
        "issue": row["issue"],
        "issue_date": row["issue_date"],
        "pages": row["pages"],
        "lender_symbol": parse_oclc_symbol(row["lender"]) if row["lender"] else None,
    }
    request = request_numbers.find_or_none(session, number)
    if request is None:
        session.add(
            IllRequest(
                request_number=number,
                direction=Direction.BORROWING,
                status=RequestStatus.REQUESTED,
                **values,
            )
        )
        session.flush()
        return "inserted"
    if request.direction is not Direction.BORROWING:
        raise InvalidInput(f"request {number} is a lending request; it cannot be re-imported here")
    changed = _assign(request, values)
    session.flush()
    return "updated" if changed else "unchanged"


def import_patrons(rt: Runtime, actor: Actor, text: str, *, strict: bool = False) -> ImportReport:
    """Load patrons from the campus system's CSV export; a re-import updates, never doubles."""
    actor.require(Role.ILL_OFFICE, "Importing patrons")
    return _run(rt, text, PATRON_COLUMNS, _apply_patron, strict)


def import_requests(rt: Runtime, actor: Actor, text: str, *, strict: bool = False) -> ImportReport:
    """Load borrowing requests from the ILL system's CSV export, like `import_patrons`."""
    actor.require(Role.ILL_OFFICE, "Importing ILL requests")
    return _run(rt, text, REQUEST_COLUMNS, _apply_request, strict)


__all__ = ["ImportReport", "RowError", "import_patrons", "import_requests", "read_csv"]
