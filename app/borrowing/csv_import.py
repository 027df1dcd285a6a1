"""Importing CSV exports: reading rows, checking every field before the first write, and
writing in committed batches, so a desk never waits long for the write lock and a bad row
never stops the good ones (`--strict` checks every row before the first write)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.progress import KeepGoing, Progress
from app.library.runtime import Runtime
from db.bulk import Pacing
from db.models import (
    AuditEvent,
    Branch,
    IllRequest,
    Notice,
    Patron,
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
    # Stopped between batches (from the window): the batches before stayed committed, and
    # importing the same file again finishes it (the rows already in come out unchanged).
    stopped: bool = False

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
    keep_going: KeepGoing,
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
        if not keep_going():
            report.stopped = True
            break
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
            + (" (strict)" if strict else "")
            + (f"; stopped after {done} of {total} rows" if report.stopped else ""),
            after={
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "bad_rows": len(report.errors),
                "strict": strict,
                **({"stopped_after_rows": done} if report.stopped else {}),
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
