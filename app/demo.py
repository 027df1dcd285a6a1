"""Demo data: a small multi-campus library with ILL items at every stage of their life.

Dates are relative to today, so the overdue list always has something overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.borrowing.due_dates import renew_public_holidays_in
from app.library import library_settings, transits
from app.library.actors import Actor
from app.library.errors import Conflict
from app.library.folding import fold, name_key
from app.library.runtime import Runtime
from app.library.scanning import strap_barcode
from app.people.staff import hash_password, sync_login
from db.models import (
    Base,
    Branch,
    CancelReason,
    Charge,
    ChargeKind,
    Direction,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    InHouseUse,
    Item,
    ItemKind,
    ItemStatus,
    Loan,
    Patron,
    PatronType,
    RequestKind,
    RequestStatus,
    Role,
    Staff,
    TransitReason,
)

DEMO_PASSWORD = "illdesk-demo"
DEMO_ACCOUNTS = (
    ("desk", "Dana Desk", Role.DESK),
    ("ctl", "Chris Teamlead", Role.CTL),
    ("office", "Olivia Office", Role.ILL_OFFICE),
    ("admin", "Ari Admin", Role.ADMIN),
)
BRANCHES = (
    ("METRO", "Metro Campus Library", False, False),
    ("NEC", "Northeast Campus Library", False, False),
    ("SE", "Southeast Campus Library", False, False),
    ("WEST", "West Campus Library", False, False),
    ("WS-ILL", "WorldShare ILL (ILL office at NEC)", True, True),
)
PATRONS = (
    ("T00123456", "21000123456", "Renée", "Müller", PatronType.STUDENT, "METRO"),
    ("T00234567", "21000234567", "Jamal", "Okafor", PatronType.FACULTY, "NEC"),
    ("T00345678", "21000345678", "Mai", "Nguyen", PatronType.STUDENT, "SE"),
    ("T00456789", "21000456789", "Carlos", "Peña", PatronType.STUDENT, "WEST"),
    ("T00567890", "21000567890", "Aisha", "Rahman", PatronType.STAFF, "NEC"),
    ("T00678901", "21000678901", "Björn", "Larsen", PatronType.FACULTY, "METRO"),
    ("T00789012", "21000789012", "Grace", "O'Neil", PatronType.STUDENT, "WEST"),
    ("T00890123", "21000890123", "Zoë", "Fontaine", PatronType.STUDENT, "SE"),
)
TITLES = (
    "The Structure of Scientific Revolutions",
    "Braiding Sweetgrass: Indigenous Wisdom, Scientific Knowledge and the Teachings of Plants",
    "A History of the Texas Cattle Trails",
    "Gödel, Escher, Bach: An Eternal Golden Braid",
    "Things Fall Apart",
    "The Mushroom at the End of the World",
    "Rare Maps of the Southwest, 1540-1900",
    "Understanding Media: The Extensions of Man",
    "Pedagogy of the Oppressed",
    "The Souls of Black Folk",
    "Silent Spring",
    "Invisible Cities",
    "The Sixth Extinction",
    "Reading Lolita in Tehran",
    "Zen and the Art of Motorcycle Maintenance",
)
LENDERS = ("OKT", "TXA", "IXA", "UIU", "ZCU")
CANCEL_REASONS = (
    "No library was able to lend this item.",
    "The item is available in our own collection.",
    "Duplicate request.",
    "Requested by the patron.",
)


@dataclass(frozen=True)
class DemoSummary:
    branches: int
    staff: int
    patrons: int
    requests: int
    items: int


@cache
def _demo_password_hash() -> str:
    """Hashing is slow on purpose; the demo password is public, so hash it once a process."""
    return hash_password(DEMO_PASSWORD)


def is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(Branch))


def load_if_new(rt: Runtime, actor: Actor) -> DemoSummary | None:
    """`illdesk --demo-if-new`: the demo library in a new embedded database, else None.

    A shared server is never filled: its data comes from the library's own imports.
    """
    if not rt.db.is_sqlite:
        return None
    with rt.db.reading() as session:
        if not is_empty(session):
            return None
    return load_demo(rt, actor)


def an_ill_barcode(rt: Runtime, actor: Actor) -> str | None:
    """The strap barcode of the oldest ILL item still in use, for the packaged build's
    self-check (print its strap, check it in)."""
    with rt.db.reading() as session:
        return session.scalar(
            select(Item.barcode)
            .where(Item.kind == ItemKind.TEMPORARY, Item.status != ItemStatus.CLOSED)
            .order_by(Item.id)
            .limit(1)
        )


def load_demo(rt: Runtime, actor: Actor, *, reset: bool = False) -> DemoSummary:
    """Fill an empty (or, with `reset`, a demo) database with the demo library."""
    actor.require(Role.ADMIN, "Loading the demo library")
    with rt.db.transaction() as session:
        if not is_empty(session):
            if not reset:
                raise Conflict(
                    "This database already has data. Use `illdesk demo --reset` to replace "
                    "a demo database; real data is never replaced."
                )
            if not library_settings.load(session).demo_database:
                raise Conflict(
                    "This database holds real data (it was not made by `illdesk demo`); "
                    "--reset refuses to erase it."
                )
            _erase(session)
        _Builder(session, rt.clock.today(), rt.clock.now()).build()
        counts = DemoSummary(
            branches=_count(session, Branch),
            staff=_count(session, Staff),
            patrons=_count(session, Patron),
            requests=_count(session, IllRequest),
            items=_count(session, Item),
        )
    return counts


def _count(session: Session, model: type[Base]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _erase(session: Session) -> None:
    session.execute(update(IllRequest).values(item_id=None))
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())


class _Builder:
    def __init__(self, session: Session, today: date, now: datetime) -> None:
        self.s = session
        self.today = today
        self.now = now
        self.branch: dict[str, Branch] = {}
        self.patrons: list[Patron] = []
        self.staff: dict[str, Staff] = {}
        self.serial = 0
        self.request_number = 20261000
        self.own_serial = 31234000000000

    def build(self) -> None:
        self._branches()
        self._staff()
        self._patrons()
        self._own_items()
        self._borrowing()
        self._lending()
        for text in CANCEL_REASONS:
            self.s.add(CancelReason(text=text))
        library_settings.save(self.s, demo_database=True)
        # Closures from the first day: this year's and next year's public holidays.
        renew_public_holidays_in(self.s, self.today, self.now)
        self.s.flush()

    def _branches(self) -> None:
        for code, name, virtual, office in BRANCHES:
            branch = Branch(code=code, name=name, virtual=virtual, ill_office=office)
            self.s.add(branch)
            self.branch[code] = branch
        self.s.flush()
        self.branch["WS-ILL"].location_id = self.branch["NEC"].id

    def _staff(self) -> None:
        password_hash = _demo_password_hash()
        for username, full_name, role in DEMO_ACCOUNTS:
            staff = Staff(
                username=username,
                full_name=full_name,
                role=role,
                password_hash=password_hash,
                created_at=self.now,
            )
            self.s.add(staff)
            self.staff[username] = staff
        self.s.flush()
        for staff in self.staff.values():  # PostgreSQL login roles, when they are set up
            sync_login(self.s, staff, DEMO_PASSWORD)

    def _patrons(self) -> None:
        dummy = Patron(
            patron_id="ILL-DUMMY",
            barcode="777110346",
            first_name="",
            last_name="ILL",
            name_key="ill",
            email="ill@example.edu",
            patron_type=PatronType.ILL_ACCOUNT,
            home_branch_id=self.branch["NEC"].id,
            is_ill_dummy=True,
        )
        self.s.add(dummy)
        for patron_id, barcode, first, last, ptype, home in PATRONS:
            email = f"{fold(first).replace(' ', '')}.{fold(last).replace(' ', '')}@example.edu"
            patron = Patron(
                patron_id=patron_id,
                barcode=barcode,
                first_name=first,
                last_name=last,
                name_key=name_key(first, last),
                email=email.replace("'", ""),
                patron_type=ptype,
                home_branch_id=self.branch[home].id,
            )
            self.s.add(patron)
            self.patrons.append(patron)
        self.s.flush()

    def _own_items(self) -> None:
        titles = (
            "Introduction to Algorithms",
            "Calculus: Early Transcendentals",
            "The Norton Anthology of American Literature",
            "Campbell Biology",
            "Texas Politics Today",
            "Principles of Economics",
        )
        for n, title in enumerate(titles * 2):
            home = ("METRO", "NEC", "SE", "WEST")[n % 4]
            self._owned_item(title, home)

    def _owned_item(self, title: str, home: str, status: ItemStatus = ItemStatus.AVAILABLE) -> Item:
        self.own_serial += 1
        item = Item(
            barcode=str(self.own_serial),
            kind=ItemKind.OWNED,
            status=status,
            title=title,
            title_key=fold(title),
            home_branch_id=self.branch[home].id,
            current_branch_id=self.branch[home].id,
        )
        self.s.add(item)
        self.s.flush()
        return item

    def _request(
        self,
        n: int,
        patron: Patron,
        pickup: str,
        status: RequestStatus,
        kind: RequestKind = RequestKind.LOAN,
    ) -> IllRequest:
        self.request_number += 1
        title = TITLES[n % len(TITLES)]
        request = IllRequest(
            request_number=str(self.request_number),
            direction=Direction.BORROWING,
            kind=kind,
            status=status,
            title=title,
            author="",
            patron_id=patron.id,
            pickup_branch_id=self.branch[pickup].id,
            lender_symbol=LENDERS[n % len(LENDERS)],
            created_at=self.now - timedelta(days=20),
        )
        if kind is RequestKind.COPY:
            request.article_title = f"Notes on {title.split(':')[0]}"
            request.volume, request.issue, request.pages = "12", "3", "45-67"
        self.s.add(request)
        self.s.flush()
        return request

    def _temporary(
        self,
        request: IllRequest,
        status: ItemStatus,
        at: str,
        due_in_days: int,
        in_library_use: bool = False,
        pieces: int = 1,
    ) -> Item:
        self.serial += 1
        item = Item(
            barcode=strap_barcode(self.serial),
            kind=ItemKind.TEMPORARY,
            status=status,
            title=request.title,
            title_key=fold(request.title),
            home_branch_id=self.branch["WS-ILL"].id,
            current_branch_id=self.branch[at].id,
            request_id=request.id,
            lender_barcode=f"39{self.serial:08d}",
            lender_due_date=self.today + timedelta(days=due_in_days),
            in_library_use_only=in_library_use,
            pieces=pieces,
            received_at=self.now - timedelta(days=5),
        )
        self.s.add(item)
        self.s.flush()
        return item

    def _borrowing(self) -> None:
        p = self.patrons
        office = self.staff["office"]
        office_actor = Actor(office.id, office.username, office.full_name, office.role, "WS-ILL")
        # Requested, not yet arrived.
        for n in range(3):
            self._request(n, p[n], ("METRO", "NEC", "SE")[n], RequestStatus.REQUESTED)
        # Received and in transit to the pickup branch (check in at SE or WEST puts it on hold);
        # the one for METRO came as a book and its CD: two pieces under one strap.
        for n, (patron, pickup) in enumerate(((p[2], "SE"), (p[3], "WEST"), (p[0], "METRO"))):
            req = self._request(3 + n, patron, pickup, RequestStatus.RECEIVED)
            pieces = 2 if pickup == "METRO" else 1
            item = self._temporary(req, ItemStatus.IN_TRANSIT, "WS-ILL", 28 + n, pieces=pieces)
            transits.start(
                self.s,
                office_actor,
                item.id,
                from_branch_id=self.branch["WS-ILL"].id,
                to_branch_id=self.branch[pickup].id,
                reason=TransitReason.TO_PICKUP,
                at=self.now,
            )
        # Waiting on hold shelves.
        for n, (patron, pickup, ilu) in enumerate(
            (
                (p[0], "METRO", False),
                (p[1], "NEC", True),
                (p[5], "METRO", True),
                (p[6], "WEST", False),
            )
        ):
            req = self._request(6 + n, patron, pickup, RequestStatus.RECEIVED)
            item = self._temporary(req, ItemStatus.ON_HOLD_SHELF, pickup, 30, in_library_use=ilu)
            self.s.add(
                HoldShelfEntry(
                    item_id=item.id,
                    patron_id=patron.id,
                    branch_id=self.branch[pickup].id,
                    status=HoldStatus.ACTIVE,
                    placed_at=self.now - timedelta(days=2),
                    pickup_by=self.today + timedelta(days=8),
                )
            )
        # One in-library-use item in the patron's hands right now.
        req = self._request(10, p[4], "NEC", RequestStatus.RECEIVED)
        item = self._temporary(req, ItemStatus.IN_HOUSE_USE, "NEC", 20, in_library_use=True)
        self.s.add(
            InHouseUse(
                item_id=item.id,
                patron_id=p[4].id,
                branch_id=self.branch["NEC"].id,
                staff_id=self.staff["desk"].id,
                started_at=self.now,
            )
        )
        # Checked out: one due in three weeks, one due in two days, one overdue.
        for n, (patron, pickup, due) in enumerate(
            ((p[0], "METRO", 21), (p[2], "SE", 2), (p[3], "WEST", -9), (p[7], "SE", 60))
        ):
            req = self._request(11 + n, patron, pickup, RequestStatus.RECEIVED)
            item = self._temporary(req, ItemStatus.CHECKED_OUT, pickup, due)
            assert item.lender_due_date is not None
            self.s.add(
                Loan(
                    item_id=item.id,
                    patron_id=patron.id,
                    branch_id=self.branch[pickup].id,
                    staff_id=self.staff["desk"].id,
                    checked_out_at=self.now - timedelta(days=14),
                    due_date=item.lender_due_date,
                    strap_due_date=item.lender_due_date,
                )
            )
        # Returned by the patron, on its way to the ILL office; and one back at the office.
        req = self._request(15, p[5], "METRO", RequestStatus.RECEIVED)
        item = self._temporary(req, ItemStatus.IN_TRANSIT, "METRO", 4)
        transits.start(
            self.s,
            None,
            item.id,
            from_branch_id=self.branch["METRO"].id,
            to_branch_id=self.branch["WS-ILL"].id,
            reason=TransitReason.TO_ILL_OFFICE,
            at=self.now,
        )
        req = self._request(16, p[6], "WEST", RequestStatus.RETURNED)
        self._temporary(req, ItemStatus.AT_ILL_OFFICE, "WS-ILL", 3)
        # Finished, cancelled, a copy, and a lost item with its two charges.
        req = self._request(17, p[1], "NEC", RequestStatus.CLOSED)
        closed = self._temporary(req, ItemStatus.CLOSED, "WS-ILL", -30)
        closed.closed_at = self.now - timedelta(days=25)
        req = self._request(18, p[2], "SE", RequestStatus.CANCELLED)
        req.cancel_reason = CANCEL_REASONS[0]
        req = self._request(19, p[4], "NEC", RequestStatus.AVAILABLE, kind=RequestKind.COPY)
        req.copy_available_at = self.now - timedelta(days=3)
        req.copy_views = 2
        req = self._request(20, p[7], "SE", RequestStatus.LOST)
        lost = self._temporary(req, ItemStatus.LOST, "SE", -50)
        for kind, amount, estimated, reason in (
            (
                ChargeKind.REPLACEMENT,
                Decimal("85.00"),
                True,
                "Replacement cost of lost ILL item (estimate until the lender bills us)",
            ),
            (ChargeKind.PROCESSING_FEE, Decimal("30.00"), False, "ILL lost-item processing fee"),
        ):
            self.s.add(
                Charge(
                    patron_id=p[7].id,
                    item_id=lost.id,
                    request_id=req.id,
                    kind=kind,
                    amount=amount,
                    estimated=estimated,
                    is_ill=True,
                    reason=reason,
                    created_at=self.now - timedelta(days=5),
                    created_by_id=office.id,
                )
            )

    def _lending(self) -> None:
        specs = (
            ("METRO", RequestStatus.TO_PULL, ItemStatus.AVAILABLE, None, "TXA"),
            ("WEST", RequestStatus.TO_PULL, ItemStatus.AVAILABLE, None, "OKT"),
            ("SE", RequestStatus.SHIPPED, ItemStatus.LENT, -25, "IXA"),
            ("NEC", RequestStatus.SHIPPED, ItemStatus.LENT, -45, "UIU"),
            ("METRO", RequestStatus.SHIPPED, ItemStatus.LENT, 20, "ZCU"),
        )
        for n, (home, status, item_status, due, borrower) in enumerate(specs):
            title = (
                "Handbook of Texas Music",
                "Coastal Birds of the Gulf",
                "Lone Star Regionalism",
                "West Texas Oil Towns",
                "Border Ballads",
            )[n]
            item = self._owned_item(title, home, item_status)
            if item_status is ItemStatus.LENT:
                item.current_branch_id = self.branch["WS-ILL"].id
            self.request_number += 1
            self.s.add(
                IllRequest(
                    request_number=str(self.request_number),
                    direction=Direction.LENDING,
                    kind=RequestKind.LOAN,
                    status=status,
                    title=title,
                    borrower_symbol=borrower,
                    partner_request_number=str(9100000 + n),
                    item_id=item.id,
                    pull_branch_id=self.branch[home].id,
                    lend_due_date=self.today + timedelta(days=due) if due is not None else None,
                    created_at=self.now - timedelta(days=60),
                )
            )
        self.s.flush()
