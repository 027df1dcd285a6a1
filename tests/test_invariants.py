"""The database itself refuses what two racing desks could otherwise both write.

Each test inserts the duplicate directly (no service in between), on SQLite and PostgreSQL:
a second item with the same barcode, a second open loan, active hold-shelf entry or open
transit for one item. Closed rows of the same kind stay allowed: history is kept.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from app.library.runtime import Runtime
from db.models import (
    Base,
    Branch,
    HoldShelfEntry,
    HoldStatus,
    Item,
    ItemKind,
    ItemStatus,
    Loan,
    Patron,
    Transit,
    TransitReason,
)

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
ON_HOLD_AT_METRO = "ILL00000042"
CHECKED_OUT_AT_METRO = "ILL00000091"
IN_TRANSIT_TO_SE = "ILL00000018"


def ids(rt: Runtime, barcode: str) -> tuple[int, int, int]:
    """(item id, a branch id, a patron id) to build rows with."""
    with rt.db.reading() as session:
        item_id = session.scalar(select(Item.id).where(Item.barcode == barcode))
        branch = session.scalar(select(Branch.id).where(Branch.code == "METRO"))
        patron = session.scalar(select(Patron.id).where(Patron.patron_id == "T00123456"))
    assert item_id is not None and branch is not None and patron is not None
    return item_id, branch, patron


def insert_row(rt: Runtime, model: type[Base], **values: Any) -> None:
    with rt.db.transaction() as session:
        session.execute(insert(model).values(**values))


def count(rt: Runtime, model: type[Base], **where: Any) -> int:
    with rt.db.reading() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.scalar(query) or 0)


def test_a_second_item_with_the_same_barcode_is_refused(demo_rt: Runtime) -> None:
    _, branch, _ = ids(demo_rt, ON_HOLD_AT_METRO)
    with pytest.raises(IntegrityError):
        insert_row(
            demo_rt,
            Item,
            barcode=ON_HOLD_AT_METRO,
            kind=ItemKind.OWNED,
            status=ItemStatus.AVAILABLE,
            title="Impostor",
            title_key="impostor",
            home_branch_id=branch,
            created_at=NOW,
        )
    assert count(demo_rt, Item, barcode=ON_HOLD_AT_METRO) == 1


def test_a_second_open_loan_for_one_item_is_refused(demo_rt: Runtime) -> None:
    item_id, branch, patron = ids(demo_rt, CHECKED_OUT_AT_METRO)
    assert count(demo_rt, Loan, item_id=item_id, returned_at=None) == 1
    loan = {
        "item_id": item_id,
        "patron_id": patron,
        "branch_id": branch,
        "checked_out_at": NOW,
        "due_date": date(2026, 12, 1),
    }
    with pytest.raises(IntegrityError):
        insert_row(demo_rt, Loan, **loan)
    insert_row(demo_rt, Loan, **loan, returned_at=NOW)  # a finished loan is history: allowed
    with demo_rt.db.reading() as session:
        open_loans = session.scalar(
            select(func.count())
            .select_from(Loan)
            .where(Loan.item_id == item_id, Loan.returned_at.is_(None))
        )
    assert open_loans == 1


def test_a_second_active_hold_for_one_item_is_refused(demo_rt: Runtime) -> None:
    item_id, branch, patron = ids(demo_rt, ON_HOLD_AT_METRO)
    hold = {
        "item_id": item_id,
        "patron_id": patron,
        "branch_id": branch,
        "placed_at": NOW,
        "pickup_by": date(2026, 11, 12),
    }
    with pytest.raises(IntegrityError):
        insert_row(demo_rt, HoldShelfEntry, **hold, status=HoldStatus.ACTIVE)
    insert_row(demo_rt, HoldShelfEntry, **hold, status=HoldStatus.EXPIRED, ended_at=NOW)
    assert count(demo_rt, HoldShelfEntry, item_id=item_id, status=HoldStatus.ACTIVE) == 1


def test_a_second_open_transit_for_one_item_is_refused(demo_rt: Runtime) -> None:
    item_id, branch, _ = ids(demo_rt, IN_TRANSIT_TO_SE)
    transit = {
        "item_id": item_id,
        "from_branch_id": branch,
        "to_branch_id": branch,
        "reason": TransitReason.WRONG_CAMPUS,
        "started_at": NOW,
    }
    with pytest.raises(IntegrityError):
        insert_row(demo_rt, Transit, **transit)
    insert_row(demo_rt, Transit, **transit, received_at=NOW)
    assert count(demo_rt, Transit, item_id=item_id, received_at=None) == 1
