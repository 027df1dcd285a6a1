"""Borrowing requests from the ILL system's CSV export: new ones queue the received
notice; a request that has its item keeps its patron, pickup branch and kind."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from app.borrowing import request_numbers
from app.borrowing.csv_import import (
    BATCH_ROWS,
    FIXED_ONCE_RECEIVED,
    NOTICES,
    PATRONS,
    REQUEST_COLUMNS,
    REQUEST_LENGTHS,
    REQUESTS,
    ImportReport,
    RowError,
    _audit,
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
from app.library.progress import KeepGoing, Progress, always, no_progress
from app.library.runtime import Runtime
from app.people.patron_ids import (
    parse_oclc_symbol,
    parse_patron_id,
)
from db.bulk import any_of, insert_rows
from db.models import (
    Branch,
    Direction,
    Item,
    NoticeStatus,
    RequestKind,
    RequestStatus,
    Role,
)


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
            select(
                PATRONS.c.id,
                PATRONS.c.patron_id,
                PATRONS.c.email,
                PATRONS.c.staff_id,
                PATRONS.c.is_ill_dummy,
            ).where(any_of(PATRONS.c.patron_id, sorted(campus_ids)))
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
        if patron.is_ill_dummy:
            plan.errors.append(
                RowError(
                    row.line,
                    f"patron_id {row.values['patron_id']} is the ILL dummy account, which lends "
                    "our items and cannot request anything; give the patron the request serves",
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
    keep_going: KeepGoing = always,
) -> ImportReport:
    """Add or update borrowing requests from CSV text; new ones queue the received notice."""
    actor.require(Role.ILL_OFFICE, "Importing ILL requests")
    with rt.db.reading() as session:
        branches = {b.code: b for b in session.scalars(select(Branch))}
    good, errors = _validated(
        text, REQUEST_COLUMNS, REQUEST_LENGTHS, _request_parser(branches), "request_number"
    )
    kind = _Kind(_plan_requests, _write_requests, "import.requests", plan_first=False)
    return _run(rt, good, errors, kind, strict, actor, progress, batch_rows, keep_going)
