"""CSV imports of patrons and ILL requests.

Idempotent: a re-import updates rows, never duplicates them. Every row is validated, in
Python and then against the database a batch at a time; bad rows are reported by line number
and every good row goes in. With `strict`, every row of the file is checked before the first
write, and nothing is written when any row is bad.

The rows go in a batch at a time (`BATCH_ROWS`), each batch one transaction of a few
statements, so a desk's check-in never waits behind an import for more than one batch. A
request that already has its item keeps its patron, pickup branch and kind: the people and
the strap on the shelf depend on them. Every run leaves an audit event with its counts, and
one per request it placed or changed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.borrowing import request_numbers
from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.folding import name_key
from app.library.progress import Progress, no_progress
from app.library.runtime import Runtime
from app.people.patron_ids import (
    parse_email,
    parse_oclc_symbol,
    parse_patron_id,
)
from db.bulk import Pacing, any_of, insert_rows
from db.models import (
    AuditEvent,
    Branch,
    Direction,
    IllRequest,
    Item,
    Notice,
    NoticeStatus,
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
MAX_FIELD = 500  # a field with no column of its own (a code, a kind) is never this long
BATCH_ROWS = 2_000  # rows per transaction: a few tens of milliseconds of write lock
# Who an import is recorded as when no staff member is named (a scheduled or scripted run).
IMPORT_ACTOR = Actor(0, "import", "CSV import", Role.ADMIN, "", "")
# Request fields an import may not change once the request has its item.
FIXED_ONCE_RECEIVED = ("patron_id", "pickup_branch_id", "kind")

PATRONS: Table = Patron.__table__  # type: ignore[assignment]
REQUESTS: Table = IllRequest.__table__  # type: ignore[assignment]
NOTICES: Table = Notice.__table__  # type: ignore[assignment]
AUDIT: Table = AuditEvent.__table__  # type: ignore[assignment]


def _column_lengths(table: Table, fields: dict[str, str]) -> dict[str, int]:
    """CSV field -> the length its column holds, read from the model's column types."""
    lengths = {}
    for csv_name, column_name in fields.items():
        length = getattr(table.c[column_name].type, "length", None)
        if length:
            lengths[csv_name] = int(length)
    return lengths


PATRON_LENGTHS = _column_lengths(
    PATRONS,
    {
        "patron_id": "patron_id",
        "barcode": "barcode",
        "first_name": "first_name",
        "last_name": "last_name",
        "email": "email",
    },
)
REQUEST_LENGTHS = _column_lengths(
    REQUESTS,
    {
        "request_number": "request_number",
        "title": "title",
        "author": "author",
        "article_title": "article_title",
        "article_author": "article_author",
        "volume": "volume",
        "issue": "issue",
        "issue_date": "issue_date",
        "pages": "pages",
        "lender": "lender_symbol",
    },
)


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


@dataclass(frozen=True)
class _Row:
    """One validated CSV row: its line, its key (campus ID or request number), its values."""

    line: int
    key: str
    values: dict[str, Any]


@dataclass
class _Plan:
    """What one batch does: rows to insert, rows to update (with their old values), refusals."""

    inserts: list[_Row] = field(default_factory=list)
    updates: list[tuple[_Row, dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


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


def _rows(
    text: str, columns: tuple[str, ...], lengths: dict[str, int]
) -> Iterable[tuple[int, dict[str, str] | RowError]]:
    if "\x00" in text:
        raise InvalidInput("The file contains NUL bytes: it is not a CSV text file.")
    reader = csv.reader(io.StringIO(text, newline=""))
    limits = [(h, lengths.get(h, MAX_FIELD)) for h in columns]
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
        too_long = next((h for h, most in limits if len(row[h]) > most), None)
        if too_long is not None:
            yield (
                line,
                RowError(
                    line,
                    f"field {too_long} is {len(row[too_long])} characters, longer than the "
                    f"{lengths.get(too_long, MAX_FIELD)} it may hold; shorten it",
                ),
            )
        elif not "".join(row[h] for h in columns).isprintable():
            bad = next(h for h in columns if not row[h].isprintable())
            yield line, RowError(line, f"field {bad} contains control characters")
        else:
            yield line, row


def _branch(branches: dict[str, Branch], code: str, column: str) -> Branch:
    branch = branches.get(code.upper())
    if branch is None:
        raise InvalidInput(
            f"{column} '{code}' is not a branch code ({', '.join(sorted(branches))})"
        )
    return branch


def _batches(rows: Sequence[_Row], size: int) -> Iterator[list[_Row]]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


def _validated(
    text: str,
    columns: tuple[str, ...],
    lengths: dict[str, int],
    parse: Callable[[dict[str, str]], _Row],
    what: str,
) -> tuple[list[_Row], list[RowError]]:
    """Every row checked in Python: fields, references to branches, repeats within the file."""
    good: list[_Row] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    for line, row in _rows(text, columns, lengths):
        if isinstance(row, RowError):
            errors.append(row)
            continue
        try:
            parsed = parse(row)
        except InvalidInput as exc:
            errors.append(RowError(line, exc.message))
            continue
        earlier = first_line.setdefault(parsed.key, line)
        if earlier != line:
            errors.append(
                RowError(
                    line,
                    f"repeats {what} {parsed.key} of line {earlier}; the file may name each "
                    "once (this row was skipped)",
                )
            )
            continue
        good.append(_Row(line, parsed.key, parsed.values))
    return good, errors


@dataclass(frozen=True)
class _Kind:
    """What is imported: how a batch is planned and written, and what the run is audited as.

    `plan_first`: the batch is planned in a read before the write transaction, so the write
    lock is held only for the writes (patrons); requests plan inside the write transaction,
    so a request cannot receive its item between the check and the change.
    """

    plan: Callable[[Session, list[_Row]], _Plan]
    write: Callable[[Session, _Plan, datetime, Actor], None]
    action: str
    plan_first: bool


def _run(
    rt: Runtime,
    good: list[_Row],
    errors: list[RowError],
    kind: _Kind,
    strict: bool,
    actor: Actor,
    progress: Progress,
    batch_rows: int,
) -> ImportReport:
    report = ImportReport(errors=list(errors))
    total = len(good) + len(errors)
    if strict:
        with rt.db.reading() as session:
            for batch in _batches(good, batch_rows):
                report.errors.extend(kind.plan(session, batch).errors)
        if report.errors:
            report.errors.sort(key=lambda e: e.line)
            return report
    done = len(errors)
    progress(done, total)
    pacing = Pacing(rt.db.is_sqlite)
    for batch in _batches(good, batch_rows):
        _write_batch(rt, batch, kind, report, actor, pacing)
        done += len(batch)
        progress(done, total)
    report.errors.sort(key=lambda e: e.line)
    report.committed = True
    with rt.db.transaction() as session:
        _audit(
            session,
            actor,
            kind.action,
            rt.clock.now(),
            entity="import",
            detail=f"{report.inserted} new, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(report.errors)} bad rows"
            + (" (strict)" if strict else ""),
            after={
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "bad_rows": len(report.errors),
                "strict": strict,
            },
        )
    return report


def _write_batch(
    rt: Runtime, batch: list[_Row], kind: _Kind, report: ImportReport, actor: Actor, pacing: Pacing
) -> None:
    """One transaction for the batch; if another desk changed a row meanwhile, row by row."""
    planned: _Plan | None = None
    if kind.plan_first:
        with rt.db.reading() as session:
            planned = kind.plan(session, batch)
    pacing.wait_turn()
    try:
        with rt.db.transaction() as session:
            batch_plan = planned or kind.plan(session, batch)
            kind.write(session, batch_plan, rt.clock.now(), actor)
    except IntegrityError:
        pacing.released()
        if len(batch) == 1:
            report.errors.append(
                RowError(
                    batch[0].line,
                    "conflicts with a record changed at the same time (a campus ID, barcode "
                    "or request number now taken); import the file again",
                )
            )
            return
        for row in batch:
            _write_batch(rt, [row], kind, report, actor, pacing)
        return
    pacing.released()
    report.inserted += len(batch_plan.inserts)
    report.updated += len(batch_plan.updates)
    report.unchanged += batch_plan.unchanged
    report.errors.extend(batch_plan.errors)


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    at: datetime,
    *,
    entity: str,
    rows: Sequence[dict[str, Any]] = (),
    detail: str = "",
    after: dict[str, Any] | None = None,
) -> None:
    """Audit events in one statement: one per run (no `rows`), or one per row given."""
    common = {
        "at": at,
        "staff_id": actor.staff_id or None,
        "username": actor.username,
        "branch_code": actor.branch_code,
        "workstation": actor.workstation,
        "action": action,
        "entity": entity,
        "item_id": None,
    }
    if not rows:
        rows = [{"entity_id": None, "patron_id": None, "before": None, "after": after}]
    session.execute(insert(AUDIT), [{**common, "detail": detail, **row} for row in rows])


def _changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in new.items() if old.get(k) != v}


# -- patrons --------------------------------------------------------------------------------


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
    return _run(rt, good, errors, kind, strict, actor, progress, batch_rows)


# -- requests -------------------------------------------------------------------------------


def _request_parser(branches: dict[str, Branch]) -> Callable[[dict[str, str]], _Row]:
    def parse(row: dict[str, str]) -> _Row:
        number = request_numbers.clean_borrowing(row["request_number"])
        try:
            kind = RequestKind(row["kind"].lower())
        except ValueError:
            raise InvalidInput(f"kind '{row['kind']}' is not loan or copy") from None
        patron = parse_patron_id(row["patron_id"])
        if not row["title"]:
            raise InvalidInput("the title is empty")
        pickup = _branch(branches, row["pickup_branch"], "pickup_branch")
        if pickup.virtual or not pickup.active:
            raise InvalidInput(
                f"pickup_branch {pickup.code} is not a campus where patrons pick items up; "
                "choose a campus"
            )
        values: dict[str, Any] = {
            "kind": kind,
            "patron_id": patron,  # the campus ID here; the batch swaps in the patron's row id
            "pickup_branch_id": pickup.id,
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
        return _Row(0, number, values)

    return parse


def _plan_requests(session: Session, batch: list[_Row]) -> _Plan:
    plan = _Plan()
    campus_ids = {row.values["patron_id"] for row in batch}
    patrons = {
        found.patron_id: found
        for found in session.execute(
            select(PATRONS.c.id, PATRONS.c.patron_id, PATRONS.c.email, PATRONS.c.staff_id).where(
                any_of(PATRONS.c.patron_id, sorted(campus_ids))
            )
        )
    }
    names = list(batch[0].values)
    has_item = (
        select(Item.id)
        .where(or_(Item.id == REQUESTS.c.item_id, Item.request_id == REQUESTS.c.id))
        .exists()
    )
    existing = {
        found.request_number: found._asdict()
        for found in session.execute(
            select(
                REQUESTS.c.id,
                REQUESTS.c.request_number,
                REQUESTS.c.direction,
                has_item.label("has_item"),
                *[REQUESTS.c[name] for name in names],
            ).where(any_of(REQUESTS.c.request_number, [row.key for row in batch]))
        )
    }
    for row in batch:
        patron = patrons.get(row.values["patron_id"])
        if patron is None:
            plan.errors.append(
                RowError(
                    row.line,
                    f"patron_id {row.values['patron_id']} is not a known patron (import "
                    "patrons first)",
                )
            )
            continue
        values = {**row.values, "patron_id": patron.id}
        ready = _Row(
            row.line,
            row.key,
            {**values, "_email": patron.email, "_staff": patron.staff_id is not None},
        )
        old = existing.get(row.key)
        if old is None:
            plan.inserts.append(ready)
            continue
        if old["direction"] != Direction.BORROWING:
            plan.errors.append(
                RowError(
                    row.line,
                    f"request {row.key} is a lending request; it cannot be re-imported here",
                )
            )
            continue
        changed = _changes(old, values)
        fixed = [name for name in FIXED_ONCE_RECEIVED if name in changed]
        if fixed and old["has_item"]:
            what = ", ".join(n.removesuffix("_id").replace("_", " ") for n in fixed)
            plan.errors.append(
                RowError(
                    row.line,
                    f"request {row.key} already has its item, so the import may not change its "
                    f"{what}; change it on the request's screen (the row was refused)",
                )
            )
            continue
        if changed:
            plan.updates.append((ready, old))
        else:
            plan.unchanged += 1
    return plan


def _request_values(row: _Row) -> dict[str, Any]:
    return {k: v for k, v in row.values.items() if not k.startswith("_")}


def _write_requests(session: Session, plan: _Plan, now: datetime, actor: Actor) -> None:
    if plan.inserts:
        insert_rows(
            session,
            REQUESTS,
            [
                {
                    "request_number": row.key,
                    "direction": Direction.BORROWING,
                    "status": RequestStatus.REQUESTED,
                    **_request_values(row),
                    "status_note": "",
                    "copy_views": 0,
                    "requested_by_staff": row.values["_staff"],
                    "created_at": now,
                    "updated_at": now,
                }
                for row in plan.inserts
            ],
        )
        new_ids = {
            number: row_id
            for number, row_id in session.execute(
                select(REQUESTS.c.request_number, REQUESTS.c.id).where(
                    any_of(REQUESTS.c.request_number, [row.key for row in plan.inserts])
                )
            )
        }
        # The request-received notice, as when the request is entered in the window.
        insert_rows(
            session,
            NOTICES,
            [
                {
                    "kind": "request_received",
                    "status": NoticeStatus.QUEUED,
                    "subject": "",
                    "body": "",
                    "recipient": row.values["_email"],
                    "patron_id": row.values["patron_id"],
                    "request_id": new_ids[row.key],
                    "context": json.dumps(
                        {
                            "kind": row.values["kind"].value,
                            "request_number": row.key,
                            "title": row.values["title"],
                        },
                        sort_keys=True,
                    ),
                    "dedupe_key": f"request_received:{new_ids[row.key]}",
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                }
                for row in plan.inserts
            ],
        )
        _audit(
            session,
            actor,
            "ill.request_imported",
            now,
            entity="ill_request",
            rows=[
                {
                    "entity_id": new_ids[row.key],
                    "patron_id": row.values["patron_id"],
                    "before": None,
                    "after": {
                        "request_number": row.key,
                        "kind": row.values["kind"].value,
                        "pickup_branch_id": row.values["pickup_branch_id"],
                    },
                }
                for row in plan.inserts
            ],
        )
    if plan.updates:
        names = list(_request_values(plan.updates[0][0]))
        session.execute(
            update(REQUESTS)
            .where(REQUESTS.c.id == bindparam("row_id"))
            .values({name: bindparam(name) for name in [*names, "updated_at"]}),
            [
                {"row_id": old["id"], **_request_values(row), "updated_at": now}
                for row, old in plan.updates
            ],
        )
        audited = []
        for row, old in plan.updates:
            changed = _changes(old, _request_values(row))
            audited.append(
                {
                    "entity_id": old["id"],
                    "patron_id": row.values["patron_id"],
                    "before": _jsonable({k: old[k] for k in changed}),
                    "after": _jsonable(changed),
                }
            )
        _audit(
            session, actor, "ill.request_import_updated", now, entity="ill_request", rows=audited
        )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: getattr(v, "value", v) for k, v in values.items()}


def import_requests(
    rt: Runtime,
    actor: Actor,
    text: str,
    *,
    strict: bool = False,
    progress: Progress = no_progress,
    batch_rows: int = BATCH_ROWS,
) -> ImportReport:
    """Add or update borrowing requests from CSV text; new ones queue the received notice."""
    actor.require(Role.ILL_OFFICE, "Importing ILL requests")
    with rt.db.reading() as session:
        branches = {b.code: b for b in session.scalars(select(Branch))}
    good, errors = _validated(
        text, REQUEST_COLUMNS, REQUEST_LENGTHS, _request_parser(branches), "request_number"
    )
    kind = _Kind(_plan_requests, _write_requests, "import.requests", plan_first=False)
    return _run(rt, good, errors, kind, strict, actor, progress, batch_rows)


__all__ = [
    "IMPORT_ACTOR",
    "ImportReport",
    "RowError",
    "import_patrons",
    "import_requests",
    "read_csv",
]
