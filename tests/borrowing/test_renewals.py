"""The lender's renewal decision, recorded by the ILL office, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select

from app.borrowing.renewals import record_renewal
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.library.runtime import Runtime
from db.models import AuditEvent, Item, Loan, Notice

ActorAt = Callable[[str, str], Actor]
CHECKED_OUT, CHECKED_OUT_BARCODE = "20261012", "ILL00000091"  # due 2026-11-23
ON_HOLD_SHELF = "20261007"


def loan_and_item(rt: Runtime, barcode: str) -> tuple[Loan | None, Item]:
    with rt.db.reading() as session:
        item = session.scalar(select(Item).where(Item.barcode == barcode))
        assert item is not None
        loan = session.scalar(
            select(Loan).where(Loan.item_id == item.id, Loan.returned_at.is_(None))
        )
        return loan, item


def test_approved_renewal_moves_the_checkout_due_date_audited(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    result = record_renewal(
        demo_rt, actor_at("office", "WS-ILL"), CHECKED_OUT, approved=True,
        new_due=date(2026, 12, 21),
    )  # fmt: skip
    assert (result.old_due_date, result.new_due_date) == (date(2026, 11, 23), date(2026, 12, 21))
    assert result.loan_updated and result.notice_queued
    loan, item = loan_and_item(demo_rt, CHECKED_OUT_BARCODE)
    assert loan is not None and loan.due_date == date(2026, 12, 21)
    assert item.lender_due_date == date(2026, 12, 21)
    with demo_rt.db.reading() as session:
        audit = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "ill.renewal_approved")
        )
        assert audit is not None
        assert audit.before == {"lender_due_date": "2026-11-23", "loan_due_date": "2026-11-23"}
        assert audit.after == {"lender_due_date": "2026-12-21", "loan_due_date": "2026-12-21"}
        notice = session.scalar(select(Notice).where(Notice.kind == "renewal_approved"))
        assert notice is not None and notice.recipient == "renee.muller@example.edu"
        assert json.loads(notice.context)["due_date"] == "2026-12-21"


def test_denied_renewal_keeps_the_date_and_tells_the_patron(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    result = record_renewal(demo_rt, actor_at("office", "WS-ILL"), CHECKED_OUT, approved=False)
    assert not result.approved and result.new_due_date == result.old_due_date
    loan, _ = loan_and_item(demo_rt, CHECKED_OUT_BARCODE)
    assert loan is not None and loan.due_date == date(2026, 11, 23)
    with demo_rt.db.reading() as session:
        assert session.scalar(select(Notice).where(Notice.kind == "renewal_denied")) is not None


def test_renewal_of_an_item_not_yet_checked_out_moves_the_strap_date(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    result = record_renewal(
        demo_rt, actor_at("office", "WS-ILL"), ON_HOLD_SHELF, approved=True,
        new_due=date(2026, 12, 30),
    )  # fmt: skip
    assert not result.loan_updated
    _, item = loan_and_item(demo_rt, "ILL00000042")
    assert item.lender_due_date == date(2026, 12, 30)


@pytest.mark.parametrize(
    ("number", "approved", "new_due", "error", "message"),
    [
        (CHECKED_OUT, True, None, InvalidInput, "needs the new due date"),
        (CHECKED_OUT, False, date(2026, 12, 1), InvalidInput, "leave the new date empty"),
        (CHECKED_OUT, True, date(2026, 11, 20), InvalidInput, "not after the current one"),
        (CHECKED_OUT, True, date(2029, 1, 1), InvalidInput, "more than two years"),
        ("20261001", True, date(2026, 12, 1), InvalidInput, "no borrowed item"),
        ("20261018", True, date(2026, 12, 1), Conflict, "nothing to renew"),
        ("20269999", True, date(2026, 12, 1), NotFound, "no ILL request"),
    ],
)
def test_renewals_that_cannot_be_recorded(
    demo_rt: Runtime,
    actor_at: ActorAt,
    number: str,
    approved: bool,
    new_due: date | None,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        record_renewal(
            demo_rt, actor_at("office", "WS-ILL"), number, approved=approved, new_due=new_due
        )
    loan, _ = loan_and_item(demo_rt, CHECKED_OUT_BARCODE)
    assert loan is not None and loan.due_date == date(2026, 11, 23)


def test_desk_staff_cannot_record_renewals(demo_rt: Runtime, actor_at: ActorAt) -> None:
    with pytest.raises(PermissionDenied, match="ill_office"):
        record_renewal(
            demo_rt, actor_at("desk", "METRO"), CHECKED_OUT, approved=True,
            new_due=date(2026, 12, 21),
        )  # fmt: skip


def test_a_renewal_beyond_two_years_needs_the_offices_reason_and_keeps_it(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    far = date(2029, 1, 1)
    with pytest.raises(InvalidInput, match="giving a reason"):
        record_renewal(demo_rt, office, CHECKED_OUT, approved=True, new_due=far)
    result = record_renewal(
        demo_rt, office, CHECKED_OUT, approved=True, new_due=far,
        override_reason="Lender renewed for the whole project",
    )  # fmt: skip
    assert result.new_due_date == far
    loan, _ = loan_and_item(demo_rt, CHECKED_OUT_BARCODE)
    assert loan is not None and loan.due_date == far
    with demo_rt.db.reading() as session:
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "ill.renewal_approved")
        )
        assert event is not None
        assert event.detail == "beyond two years: Lender renewed for the whole project"
