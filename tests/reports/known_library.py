"""A small library whose statistics are known in advance, for the report tests.

Two campuses (METRO, NEC) and two periods: the report period is March-April 2024, the
previous one January-February 2024. Every kind of event happens in a "slot" (campus,
period) a known number of times: METRO 2 then 4, NEC 3 then 5 (previous, current), on
alternating months, so each counted figure has the same shape:

    current 9, previous 5; March 5, April 4; METRO 4 / 2, NEC 5 / 3.

Records just outside both periods, and records that must not count (a second hold-shelf
entry, a due date changed by hand, an unprocessed IFM payment, an item returned on time)
are added as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

from sqlalchemy.orm import Session

from app.library.runtime import Runtime
from app.reports.periods import Period
from db.models import (
    AuditEvent,
    Branch,
    Charge,
    ChargeKind,
    Direction,
    DueDateDiscrepancy,
    HoldShelfEntry,
    HoldStatus,
    IfmDirection,
    IfmStatus,
    IfmTransaction,
    IllRequest,
    InHouseUse,
    Item,
    ItemKind,
    ItemStatus,
    Loan,
    NotFoundScan,
    Patron,
    PatronType,
    RequestKind,
    RequestStatus,
)

PERIOD = Period(date(2024, 3, 1), date(2024, 4, 30))
SIZES = {
    ("METRO", "previous"): 2,
    ("NEC", "previous"): 3,
    ("METRO", "current"): 4,
    ("NEC", "current"): 5,
}
MONTHS = {"previous": (1, 2), "current": (3, 4)}
REASONS = ("Not available from any lender", "Duplicate request")
LENDERS = ("OKT", "TXA")
BORROWERS = ("UIU", "ZCU")
OUTCOMES = ("hold_shelf", "transit", "return_to_ill_office")
CLOSED_DAY = "Strap date 2024-03-30 is a closed day (Spring break)"


def moment(which: str, i: int) -> datetime:
    """The i-th event of a slot: even ones in the period's first month, odd in its second."""
    month = MONTHS[which][i % 2]
    return datetime(2024, month, 4, tzinfo=UTC) + timedelta(hours=i)


@dataclass
class KnownLibrary:
    session: Session
    branches: dict[str, Branch] = field(default_factory=dict)
    numbers: count[int] = field(default_factory=lambda: count(10_000_000))

    def build(self) -> None:
        existing = {b.code: b for b in self.session.query(Branch)}  # the demo's, if loaded
        for code, virtual, office in (
            ("METRO", False, False),
            ("NEC", False, False),
            ("WS-ILL", True, True),
        ):
            branch = existing.get(code) or Branch(
                code=code, name=code.title(), virtual=virtual, ill_office=office
            )
            self.session.add(branch)
            self.branches[code] = branch
        self.patron = Patron(
            patron_id="T99000001",
            first_name="Ada",
            last_name="Reader",
            name_key="reader ada",
            email="ada@example.edu",
            patron_type=PatronType.STUDENT,
        )
        self.session.add(self.patron)
        self.session.flush()
        for (code, which), size in SIZES.items():
            for i in range(size):
                self.slot_event(self.branches[code], which, i)
        self.outside_and_excluded()
        self.session.flush()

    # -- helpers ---------------------------------------------------------------------------

    def request(
        self, direction: Direction, campus: Branch, at: datetime, **values: object
    ) -> IllRequest:
        fields: dict[str, object] = {
            "request_number": str(next(self.numbers)),
            "direction": direction,
            "kind": RequestKind.LOAN,
            "status": RequestStatus.REQUESTED,
            "title": f"Title {at:%Y%m%d%H}",
            "created_at": at,
            "updated_at": at,
        }
        if direction is Direction.BORROWING:
            fields.update(patron_id=self.patron.id, pickup_branch_id=campus.id)
        else:
            fields.update(pull_branch_id=campus.id)
        fields.update(values)
        req = IllRequest(**fields)
        self.session.add(req)
        self.session.flush()
        return req

    def item(self, campus: Branch, req: IllRequest | None, received: datetime | None) -> Item:
        number = next(self.numbers)
        item = Item(
            barcode=f"KB{number}",
            kind=ItemKind.TEMPORARY if req is not None else ItemKind.OWNED,
            status=ItemStatus.CLOSED,
            title=f"Item {number}",
            home_branch_id=campus.id,
            request_id=req.id if req is not None else None,
            received_at=received,
            created_at=received or datetime(2020, 1, 1, tzinfo=UTC),
        )
        self.session.add(item)
        self.session.flush()
        return item

    def audit(self, action: str, at: datetime, branch: Branch, **values: object) -> None:
        self.session.add(
            AuditEvent(
                at=at,
                username="office",
                branch_code=branch.code,
                action=action,
                entity=str(values.pop("entity", "ill_request")),
                **values,
            )
        )

    # -- one event of every kind -----------------------------------------------------------

    def slot_event(self, campus: Branch, which: str, i: int) -> None:
        at = moment(which, i)
        office = self.branches["WS-ILL"]
        # Borrowing: a loan received (i+1) days after the request, on the hold shelf
        # 12(i+1) hours later, never picked up; a copy; a cancelled request.
        loan = self.request(
            Direction.BORROWING,
            campus,
            at,
            lender_symbol=LENDERS[i % 2],
            status=RequestStatus.CLOSED,
        )
        received = at + timedelta(days=i + 1)
        temporary = self.item(campus, loan, received)
        placed = received + timedelta(hours=12 * (i + 1))
        self.session.add(
            HoldShelfEntry(
                item_id=temporary.id,
                branch_id=campus.id,
                status=HoldStatus.EXPIRED,
                placed_at=placed,
                pickup_by=placed.date() + timedelta(days=7),
                ended_at=placed + timedelta(days=1),
            )
        )
        self.session.add(
            InHouseUse(item_id=temporary.id, branch_id=campus.id, started_at=at, ended_at=at)
        )
        self.request(
            Direction.BORROWING,
            campus,
            at,
            kind=RequestKind.COPY,
            status=RequestStatus.AVAILABLE,
            lender_symbol=LENDERS[i % 2],
            copy_available_at=at + timedelta(days=1),
        )
        self.request(
            Direction.BORROWING,
            campus,
            at,
            status=RequestStatus.CANCELLED,
            cancel_reason=REASONS[i % 2],
            closed_at=at + timedelta(hours=1),
        )
        # Lending: received, not on shelf at this campus, shipped (i+1) days after the
        # request, due the day it was asked for and kept past it, declared lost.
        lent = self.request(
            Direction.LENDING,
            campus,
            at,
            borrower_symbol=BORROWERS[i % 2],
            status=RequestStatus.SHIPPED if i % 2 == 0 else RequestStatus.CLOSED,
            lend_due_date=at.date(),
            closed_at=None if i % 2 == 0 else at + timedelta(days=2),
        )
        self.audit("lending.not_on_shelf", at + timedelta(hours=1), campus, entity_id=lent.id)
        self.audit("lending.ship", at + timedelta(days=i + 1), office, entity_id=lent.id)
        self.audit("lending.lost_billable", at + timedelta(hours=2), office, entity_id=lent.id)
        # Desk: one check-in of each outcome, a not-found scan, a discrepancy, a checkout
        # moved off a closed day (its patron anonymised on odd events: it still counts).
        for outcome in OUTCOMES:
            self.audit(
                "check_in",
                at,
                campus,
                entity="item",
                entity_id=temporary.id,
                item_id=temporary.id,
                detail=outcome,
            )
        self.session.add(NotFoundScan(at=at, barcode=f"X{i}", branch_id=campus.id))
        self.session.add(
            DueDateDiscrepancy(
                at=at,
                patron_id=None,
                patron_campus_id="T99000001",
                request_number=loan.request_number,
                system_date=date(2024, 5, 1),
                strap_date=date(2024, 5, 2),
                branch_id=campus.id,
            )
        )
        self.session.add(
            Loan(
                item_id=temporary.id,
                patron_id=self.patron.id if i % 2 == 0 else None,
                branch_id=campus.id,
                checked_out_at=at,
                due_date=date(2024, 3, 29),
                strap_due_date=date(2024, 3, 30),
                adjustment_reason=CLOSED_DAY,
                returned_at=at + timedelta(days=3),
                anonymised_at=None if i % 2 == 0 else at + timedelta(days=4),
            )
        )
        # Money: a charge of 10 + i dollars raised, reported and removed; IFM money in
        # (25 from the borrower) and out (40 to the lender).
        self.session.add(
            Charge(
                patron_id=self.patron.id,
                request_id=loan.id,
                kind=ChargeKind.REPLACEMENT if i % 2 == 0 else ChargeKind.PROCESSING_FEE,
                amount=Decimal(10 + i),
                reason="Lost",
                created_at=at,
                reported_at=at + timedelta(hours=2),
                removed_at=at + timedelta(hours=1),
            )
        )
        for direction, req, partner, amount in (
            (IfmDirection.WE_RECEIVE, lent, BORROWERS[i % 2], Decimal(25)),
            (IfmDirection.WE_PAY, loan, "OKT", Decimal(40)),
        ):
            self.session.add(
                IfmTransaction(
                    request_id=req.id,
                    direction=direction,
                    partner_symbol=partner,
                    amount=amount,
                    dummy_title="Replacement",
                    verification_note="",
                    lender_string=partner,
                    status=IfmStatus.PROCESSED,
                    created_at=at,
                    processed_at=at,
                )
            )

    def outside_and_excluded(self) -> None:
        metro, office = self.branches["METRO"], self.branches["WS-ILL"]
        before = datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC)
        after = datetime(2024, 5, 1, tzinfo=UTC)
        for at in (before, after):
            req = self.request(Direction.BORROWING, metro, at, lender_symbol="OKT")
            item = self.item(metro, req, at)
            self.request(Direction.LENDING, metro, at, borrower_symbol="UIU")
            self.audit("check_in", at, metro, entity="item", item_id=item.id, detail="transit")
            self.session.add(NotFoundScan(at=at, barcode="OUT", branch_id=metro.id))
        # A second hold-shelf entry of a received item (back on the shelf after a use):
        # not its first, so not timed from receipt.
        first = self.session.query(HoldShelfEntry).order_by(HoldShelfEntry.placed_at).first()
        assert first is not None
        self.session.add(
            HoldShelfEntry(
                item_id=first.item_id,
                branch_id=first.branch_id,
                status=HoldStatus.PICKED_UP,
                placed_at=first.placed_at + timedelta(days=2),
                pickup_by=date(2024, 3, 20),
                ended_at=first.placed_at + timedelta(days=3),
            )
        )
        # A due date changed by hand: not a closure move.
        item = self.item(metro, None, None)
        self.session.add(
            Loan(
                item_id=item.id,
                branch_id=metro.id,
                checked_out_at=datetime(2024, 3, 10, tzinfo=UTC),
                due_date=date(2024, 4, 1),
                strap_due_date=date(2024, 3, 25),
                adjustment_reason="Patron asked the ILL office",
                returned_at=datetime(2024, 3, 11, tzinfo=UTC),
            )
        )
        # Lent, due in the period, back on its due date: not overdue.
        self.request(
            Direction.LENDING,
            metro,
            datetime(2023, 6, 1, tzinfo=UTC),
            borrower_symbol="UIU",
            status=RequestStatus.CLOSED,
            lend_due_date=date(2024, 3, 15),
            closed_at=datetime(2024, 3, 15, 16, 0, tzinfo=UTC),
        )
        # IFM not processed yet: not money moved.
        lent = self.request(Direction.LENDING, metro, datetime(2023, 6, 1, tzinfo=UTC))
        self.session.add(
            IfmTransaction(
                request_id=lent.id,
                direction=IfmDirection.WE_RECEIVE,
                partner_symbol="UIU",
                amount=Decimal(99),
                dummy_title="Replacement",
                verification_note="",
                lender_string="UIU",
                status=IfmStatus.PENDING,
                created_at=datetime(2024, 3, 5, tzinfo=UTC),
            )
        )
        del office


def build(rt: Runtime) -> None:
    with rt.db.transaction() as session:
        KnownLibrary(session).build()
