"""Lending our own items to other libraries: from the pull list to the borrower and back.

The ILL office creates the request; the campus that owns the item pulls it (or says it
is not on the shelf), checks it out to the ILL dummy account, which puts it in transit
to the ILL office, and the office ships it with the due date we grant. The item is then
"lent" until it comes back: check-in routes it home and closes the request, or the office
records the return here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.borrowing import request_numbers
from app.library import library_settings, transits
from app.library.actors import Actor
from app.library.branches import branch_by_code, ill_office_branch
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.folding import fold
from app.library.runtime import Runtime
from app.records import audit
from db.models import (
    Branch,
    Direction,
    IllRequest,
    Item,
    ItemKind,
    ItemStatus,
    Loan,
    Patron,
    RequestKind,
    RequestStatus,
    Role,
    TransitReason,
)

_SYMBOL = re.compile(r"^[A-Z][A-Z0-9]{2,4}$")
_PARTNER_NUMBER = re.compile(r"^[A-Za-z0-9\-]{1,32}$")
MAX_NOTE = 500
# A lending request still in play: it blocks a second request for the same item.
OPEN_STATUSES = (
    RequestStatus.TO_PULL,
    RequestStatus.PULLED,
    RequestStatus.SHIPPED,
    RequestStatus.LOST,
)


@dataclass(frozen=True)
class LendingRequestView:
    request_number: str
    kind: RequestKind
    status: RequestStatus
    title: str
    borrower_symbol: str
    partner_request_number: str
    item_barcode: str | None
    item_status: ItemStatus | None
    pull_branch: str
    lend_due_date: date | None
    status_note: str
    checked_out_to_ill: bool
    next_step: str


@dataclass(frozen=True)
class IllCheckoutResult:
    request: LendingRequestView
    dummy_barcode: str
    destination: str
    destination_name: str
    due_date: date
    reminder: str  # shown large on the screen: the yellow flag and where to send it


def parse_symbol(text: str) -> str:
    symbol = text.strip().upper()
    if not _SYMBOL.match(symbol):
        raise InvalidInput(
            f"'{text.strip()}' is not an OCLC symbol. Enter the borrowing library's symbol: "
            "3 to 5 letters or digits starting with a letter, like OKT."
        )
    return symbol


def parse_kind(text: str) -> RequestKind:
    try:
        return RequestKind(text.strip().lower())
    except ValueError:
        raise InvalidInput(f"'{text}' is not a request kind. Use 'loan' or 'copy'.") from None


def _parse_partner_number(text: str) -> str:
    number = text.strip()
    if not _PARTNER_NUMBER.match(number):
        raise InvalidInput(
            "Enter the borrowing library's request number as it appears in the ILL system "
            "(letters, digits or dashes, at most 32)."
        )
    return number


def clean_note(text: str, what: str) -> str:
    note = " ".join(text.split())
    if not note:
        raise InvalidInput(f"Give {what}; the ILL office reads it to decide what to do next.")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"Keep {what} under {MAX_NOTE} characters.")
    return note


def _next_step(req: IllRequest, checked_out: bool, pull_branch: str) -> str:
    if req.status is RequestStatus.TO_PULL:
        if req.kind is RequestKind.COPY:
            return f"{pull_branch}: make the scan and send it to the ILL office"
        return f"{pull_branch}: pull it from the shelf"
    if req.status is RequestStatus.PULLED:
        if req.kind is RequestKind.COPY:
            return "ILL office: send the scan to the borrowing library"
        if not checked_out:
            return f"{pull_branch}: check it out to the ILL account"
        return "ILL office: ship it to the borrowing library"
    if req.status is RequestStatus.NOT_ON_SHELF:
        return "ILL office: send it to another campus or cancel the request"
    if req.status is RequestStatus.SHIPPED:
        return f"Lent to {req.borrower_symbol}, due back {req.lend_due_date}"
    if req.status is RequestStatus.LOST:
        return "Lost, billable: ask the borrowing library for the replacement cost (IFM)"
    return "Nothing to do"


def request_view(session: Session, req: IllRequest) -> LendingRequestView:
    item = session.get(Item, req.item_id) if req.item_id else None
    pull = session.get(Branch, req.pull_branch_id) if req.pull_branch_id else None
    pull_code = pull.code if pull else ""
    checked_out = item is not None and open_ill_loan(session, item) is not None
    return LendingRequestView(
        request_number=req.request_number,
        kind=req.kind,
        status=req.status,
        title=req.title,
        borrower_symbol=req.borrower_symbol or "",
        partner_request_number=req.partner_request_number or "",
        item_barcode=item.barcode if item else None,
        item_status=item.status if item else None,
        pull_branch=pull_code,
        lend_due_date=req.lend_due_date,
        status_note=req.status_note,
        checked_out_to_ill=checked_out,
        next_step=_next_step(req, checked_out, pull_code),
    )


def open_ill_loan(session: Session, item: Item) -> Loan | None:
    return session.scalar(
        select(Loan)
        .join(Patron, Patron.id == Loan.patron_id)
        .where(Loan.item_id == item.id, Loan.returned_at.is_(None), Patron.is_ill_dummy)
    )


def lending_request(session: Session, number: str) -> IllRequest:
    """The request, locked until the transaction ends, so two desks take turns on it."""
    return request_numbers.find(session, number, direction=Direction.LENDING, lock=True)


def require_status(req: IllRequest, allowed: tuple[RequestStatus, ...], action: str) -> None:
    if req.status not in allowed:
        wanted = " or ".join(s.value for s in allowed)
        raise Conflict(
            f"Request {req.request_number} is {req.status.value}, so it cannot be {action} "
            f"(that needs {wanted}). Refresh the list: someone may have done it already."
        )


def _require_at_pull_branch(session: Session, actor: Actor, req: IllRequest) -> Branch:
    branch = branch_by_code(session, actor.branch_code)
    if req.pull_branch_id != branch.id:
        pull = session.get(Branch, req.pull_branch_id) if req.pull_branch_id else None
        raise Conflict(
            f"Request {req.request_number} is on {pull.code if pull else 'no'} campus's pull "
            f"list, and this desk is at {branch.code}. Do this at {pull.code if pull else '?'}."
        )
    return branch


def _find_item(session: Session, ref: str, branch: Branch | None = None) -> tuple[Item | None, str]:
    """An owned item by barcode, else by title; (None, title) when no item matches a title.

    Several copies with that title: the one on the shelf at the named campus, if just one.
    """
    text = ref.strip()
    if not text:
        raise InvalidInput("Give the item's barcode or its title.")
    item = session.scalar(select(Item).where(Item.barcode == text, Item.kind == ItemKind.OWNED))
    if item is not None:
        return item, item.title
    matches = session.scalars(
        select(Item)
        .where(Item.kind == ItemKind.OWNED, Item.title_key == fold(text))
        .order_by(Item.barcode)
        .limit(20)
    ).all()
    if len(matches) > 1 and branch is not None:
        here = [
            m for m in matches if m.home_branch_id == branch.id and m.status is ItemStatus.AVAILABLE
        ]
        matches = here if len(here) == 1 else matches
    if len(matches) > 1:
        barcodes = ", ".join(m.barcode for m in matches[:5])
        raise InvalidInput(
            f"Several of our items are titled {text!r} ({barcodes}). Give the barcode of "
            "the copy to lend."
        )
    if matches:
        return matches[0], matches[0].title
    return None, text


def _next_request_number(session: Session) -> str:
    count = session.scalar(
        select(func.count())
        .select_from(IllRequest)
        .where(IllRequest.direction == Direction.LENDING)
    )
    n = int(count or 0) + 1
    while request_numbers.exists(session, f"L{n:07d}"):
        n += 1
    return f"L{n:07d}"


def create_lending_request(
    rt: Runtime,
    actor: Actor,
    *,
    borrower_symbol: str,
    partner_request_number: str,
    item: str,
    pull_branch: str | None = None,
    kind: RequestKind = RequestKind.LOAN,
    request_number: str | None = None,
) -> LendingRequestView:
    """Put one of our items (or an article to scan) on a campus's pull list."""
    actor.require(Role.ILL_OFFICE, "Creating a lending request")
    symbol = parse_symbol(borrower_symbol)
    partner_number = _parse_partner_number(partner_request_number)
    now = rt.clock.now()
    with rt.db.transaction() as session:
        named = branch_by_code(session, pull_branch) if pull_branch else None
        found, title = _find_item(session, item, named)
        if found is None and kind is RequestKind.LOAN:
            raise NotFound(
                f"No item of ours has the barcode or title {item.strip()!r}. Check the "
                "catalogue for the barcode of the copy to lend."
            )
        if named is not None:
            branch = named
        elif found is not None:
            branch = session.get_one(Branch, found.home_branch_id)
        else:
            raise InvalidInput("Say which campus should make the scan (the pull branch).")
        if branch.virtual:
            raise InvalidInput(
                f"{branch.code} is a virtual branch with no shelves. Choose the campus that "
                "holds the item."
            )
        if found is not None and kind is RequestKind.LOAN:
            _check_lendable(session, found)
        number = (
            request_numbers.clean(request_number)
            if request_number
            else _next_request_number(session)
        )
        if request_numbers.exists(session, number):
            raise Conflict(f"There is already a request numbered {number}.")
        req = IllRequest(
            request_number=number,
            direction=Direction.LENDING,
            kind=kind,
            status=RequestStatus.TO_PULL,
            title=title,
            borrower_symbol=symbol,
            partner_request_number=partner_number,
            item_id=found.id if found else None,
            pull_branch_id=branch.id,
            created_at=now,
            updated_at=now,
        )
        session.add(req)
        session.flush()
        audit.record(
            session,
            actor,
            "lending.create",
            at=now,
            entity="ill_request",
            entity_id=req.id,
            item_id=req.item_id,
            after={"borrower": symbol, "pull_branch": branch.code, "kind": kind.value},
        )
        return request_view(session, req)


def _check_lendable(session: Session, item: Item) -> None:
    if item.status is not ItemStatus.AVAILABLE:
        raise Conflict(
            f"Item {item.barcode} is {item.status.value.replace('_', ' ')}, not on the shelf; "
            "it cannot be lent now. Tell the borrowing library it is unavailable."
        )
    busy = session.scalar(
        select(IllRequest.request_number).where(
            IllRequest.direction == Direction.LENDING,
            IllRequest.item_id == item.id,
            IllRequest.status.in_(OPEN_STATUSES),
        )
    )
    if busy:
        raise Conflict(f"Item {item.barcode} is already on lending request {busy}.")


def list_lending(
    rt: Runtime,
    actor: Actor,
    *,
    pull_branch: str | None = None,
    statuses: tuple[RequestStatus, ...] | None = None,
) -> list[LendingRequestView]:
    with rt.db.reading() as session:
        query = select(IllRequest).where(IllRequest.direction == Direction.LENDING)
        if pull_branch:
            query = query.where(
                IllRequest.pull_branch_id == branch_by_code(session, pull_branch).id
            )
        if statuses:
            query = query.where(IllRequest.status.in_(statuses))
        rows = session.scalars(query.order_by(IllRequest.created_at, IllRequest.id)).all()
        return [request_view(session, r) for r in rows]


def pull_list(rt: Runtime, actor: Actor, branch_code: str) -> list[LendingRequestView]:
    """What a campus still has to do: pull, scan, or check out to the ILL account."""
    rows = list_lending(
        rt, actor, pull_branch=branch_code, statuses=(RequestStatus.TO_PULL, RequestStatus.PULLED)
    )
    return [
        r
        for r in rows
        if r.status is RequestStatus.TO_PULL
        or (r.kind is RequestKind.LOAN and not r.checked_out_to_ill)
    ]


def record_change(
    session: Session,
    actor: Actor,
    req: IllRequest,
    action: str,
    now: datetime,
    before: RequestStatus,
    detail: str = "",
) -> LendingRequestView:
    req.updated_at = now
    audit.record(
        session,
        actor,
        action,
        at=now,
        entity="ill_request",
        entity_id=req.id,
        item_id=req.item_id,
        before={"status": before.value},
        after={"status": req.status.value},
        detail=detail,
    )
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(
            f"Another desk changed request {req.request_number}'s item meanwhile. Refresh "
            "the list and try again; nothing was changed here."
        ) from None
    return request_view(session, req)


def confirm_pulled(rt: Runtime, actor: Actor, number: str) -> LendingRequestView:
    actor.require(Role.CTL, "Confirming an item was pulled")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        req = lending_request(session, number)
        require_status(req, (RequestStatus.TO_PULL,), "marked pulled")
        _require_at_pull_branch(session, actor, req)
        if req.kind is RequestKind.COPY:
            raise Conflict(
                f"Request {req.request_number} is a copy request: record the scan as sent "
                "instead of pulling an item."
            )
        before, req.status = req.status, RequestStatus.PULLED
        return record_change(session, actor, req, "lending.pulled", now, before)


def report_not_on_shelf(rt: Runtime, actor: Actor, number: str, reason: str) -> LendingRequestView:
    """The campus could not find it: the request goes back to the office with the reason."""
    actor.require(Role.CTL, "Reporting an item not on the shelf")
    note = clean_note(reason, "the reason (for example 'not on shelf, checked twice')")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        req = lending_request(session, number)
        require_status(req, (RequestStatus.TO_PULL, RequestStatus.PULLED), "reported missing")
        _require_at_pull_branch(session, actor, req)
        item = session.get(Item, req.item_id) if req.item_id else None
        if item is not None and open_ill_loan(session, item) is not None:
            raise Conflict(
                f"Item {item.barcode} is already checked out to the ILL account and on its way "
                "to the ILL office."
            )
        before, req.status = req.status, RequestStatus.NOT_ON_SHELF
        req.status_note = note
        return record_change(session, actor, req, "lending.not_on_shelf", now, before, note)


def record_scan_sent(rt: Runtime, actor: Actor, number: str) -> LendingRequestView:
    """A copy request: the campus made the scan and sent it to the ILL office."""
    actor.require(Role.CTL, "Recording a scan as sent")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        req = lending_request(session, number)
        if req.kind is not RequestKind.COPY:
            raise Conflict(
                f"Request {req.request_number} is a loan: pull the item and check it out to "
                "the ILL account instead."
            )
        require_status(req, (RequestStatus.TO_PULL,), "recorded as scanned")
        _require_at_pull_branch(session, actor, req)
        before, req.status = req.status, RequestStatus.PULLED
        req.status_note = (
            f"Scan made at {actor.branch_code} and sent to the ILL office on {now.date()}."
        )
        return record_change(session, actor, req, "lending.scan_sent", now, before)


def find_ill_dummy(session: Session, text: str) -> Patron:
    """The ILL dummy account, by the name 'ILL' or by its barcode; nobody else."""
    key = text.strip()
    if not key:
        raise InvalidInput("Scan the ILL account's barcode or type ILL.")
    candidates = session.scalars(
        select(Patron).where(
            or_(Patron.barcode == key, Patron.patron_id == key, Patron.name_key == fold(key))
        )
    ).all()
    dummies = [p for p in candidates if p.is_ill_dummy]
    if dummies:
        return dummies[0]
    if candidates:
        raise InvalidInput(
            f"{key!r} is a patron, not the ILL account. Lent items are checked out only to "
            "the ILL account: scan its barcode or type ILL."
        )
    raise NotFound(
        f"No ILL account matches {key!r}. Scan the ILL account's barcode or type ILL; an "
        "administrator sets the account up if it is missing."
    )


def checkout_to_ill(
    rt: Runtime, actor: Actor, number: str, dummy: str | None = None
) -> IllCheckoutResult:
    """Check the pulled item out to the ILL account; it goes in transit to the ILL office."""
    actor.require(Role.CTL, "Checking an item out to the ILL account")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        settings = library_settings.load(session)
        req = lending_request(session, number)
        if req.kind is RequestKind.COPY:
            raise Conflict(
                f"Request {req.request_number} is a copy: there is no item to check out."
            )
        require_status(
            req, (RequestStatus.TO_PULL, RequestStatus.PULLED), "checked out to the ILL account"
        )
        here = _require_at_pull_branch(session, actor, req)
        patron = find_ill_dummy(session, dummy if dummy is not None else settings.ill_dummy_barcode)
        item = session.get_one(Item, req.item_id)
        if open_ill_loan(session, item) is not None:
            raise Conflict(f"Item {item.barcode} is already checked out to the ILL account.")
        if item.status is not ItemStatus.AVAILABLE:
            raise Conflict(
                f"Item {item.barcode} is {item.status.value.replace('_', ' ')}; check it in "
                "first, or report it not on the shelf."
            )
        office = ill_office_branch(session)
        due = rt.clock.today() + timedelta(days=settings.transit_overdue_days)
        before, req.status = req.status, RequestStatus.PULLED
        session.add(
            Loan(
                item_id=item.id,
                patron_id=patron.id,
                branch_id=here.id,
                staff_id=actor.staff_id or None,
                checked_out_at=now,
                due_date=due,
            )
        )
        transits.start(
            session,
            actor,
            item.id,
            from_branch_id=here.id,
            to_branch_id=office.id,
            reason=TransitReason.TO_ILL_OFFICE,
            at=now,
        )
        item.status = ItemStatus.IN_TRANSIT
        item.current_branch_id = here.id
        try:
            view = record_change(session, actor, req, "lending.checkout_to_ill", now, before)
        except IntegrityError:
            raise Conflict(
                f"Item {item.barcode} already has an open loan or transit. Check it in first."
            ) from None
        where = session.get(Branch, office.location_id) if office.location_id else None
        destination_name = (
            f"{office.code} (the ILL office at {where.code})" if where else office.code
        )
        return IllCheckoutResult(
            request=view,
            dummy_barcode=patron.barcode or patron.patron_id,
            destination=office.code,
            destination_name=destination_name,
            due_date=due,
            reminder=(
                f"Insert the YELLOW FLAG in {item.barcode} and send it by inter-campus mail to "
                f"{destination_name}."
            ),
        )


def ill_account(rt: Runtime, actor: Actor, text: str) -> str:
    """The ILL account a team lead scanned (or typed ILL), as its barcode; else the reason."""
    actor.require(Role.CTL, "Checking out to the ILL account")
    with rt.db.reading() as session:
        patron = find_ill_dummy(session, text)
        return patron.barcode or patron.patron_id


def _request_for_scanned_item(session: Session, actor: Actor, barcode: str) -> str:
    """The open lending request this desk's pull list has for the scanned item, or why not."""
    text = barcode.strip()
    if not text:
        raise InvalidInput("Scan the barcode on the item.")
    item = session.scalar(select(Item).where(Item.barcode == text))
    if item is None:
        raise NotFound(f"No item has the barcode {text}. Scan the barcode on the item itself.")
    requests = session.scalars(
        select(IllRequest)
        .where(
            IllRequest.direction == Direction.LENDING,
            IllRequest.item_id == item.id,
            IllRequest.status.in_((RequestStatus.TO_PULL, RequestStatus.PULLED)),
        )
        .order_by(IllRequest.created_at, IllRequest.id)
    ).all()
    if not requests:
        raise Conflict(
            f"{item.barcode} ({item.title}) is not on the pull list: no library asked to "
            "borrow it. Do not send it; put it back where it belongs."
        )
    branch = branch_by_code(session, actor.branch_code)
    here = [r for r in requests if r.pull_branch_id == branch.id]
    if not here:
        _require_at_pull_branch(session, actor, requests[0])  # says whose list it is on
    return here[0].request_number


def checkout_scanned_to_ill(
    rt: Runtime, actor: Actor, barcode: str, dummy: str
) -> IllCheckoutResult:
    """A scanned item on this campus's pull list, checked out to the ILL account.

    An item not on the pull list is refused with the reason (not asked for, another
    campus's list, already on its way); nothing is checked out then.
    """
    actor.require(Role.CTL, "Checking an item out to the ILL account")
    with rt.db.reading() as session:
        number = _request_for_scanned_item(session, actor, barcode)
    return checkout_to_ill(rt, actor, number, dummy)
