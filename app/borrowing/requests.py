"""ILL requests from the office's side: the request form, cancelling, delivered copies.

A request always belongs to the patron it serves: notices go to that patron's address.
So a staff member's own patron record (a patron with `staff_id`) is never the requester
on behalf of someone else; staff requesting for themselves is fine and free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.borrowing import request_numbers
from app.borrowing.citation import citation
from app.borrowing.request_numbers import temporary_item_for
from app.library import library_settings
from app.library.actors import Actor
from app.library.branches import branch_by_code
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.library_settings import LibrarySettings
from app.library.runtime import Runtime
from app.notices.outbox import queue_notice
from app.people.patron_ids import parse_oclc_symbol
from app.records import audit
from db.models import (
    Branch,
    CancelReason,
    Direction,
    IllRequest,
    Patron,
    RequestKind,
    RequestStatus,
    Role,
)

MAX_REASON = 500
MAX_FIELD = 500
MAX_SHORT_FIELD = 50  # volume, issue, date, pages: the columns' length


@dataclass(frozen=True)
class RequestForm:
    """What the request form collects. `patron` is the account the request is placed under;
    `for_patron` is who it serves (blank: the same patron)."""

    patron: str
    kind: RequestKind
    title: str
    pickup_branch: str
    author: str = ""
    article_title: str = ""
    article_author: str = ""
    volume: str = ""
    issue: str = ""
    issue_date: str = ""
    pages: str = ""
    lender: str = ""
    request_number: str = ""  # blank: the next free number
    for_patron: str = ""
    # Whether ILL Desk tells the patron the item is ready; False when the ILL system that
    # placed the request (NCIP "Hold For Pickup" without "And Notify") tells them itself.
    notify_patron: bool = True


@dataclass(frozen=True)
class CopyAccess:
    """What is left of a delivered copy's download window."""

    available_since: datetime
    expires_at: datetime
    days_left: int
    views_used: int
    views_left: int
    expired: bool


@dataclass(frozen=True)
class RequestView:
    request_number: str
    kind: RequestKind
    status: RequestStatus
    title: str
    article_title: str
    patron_id: str
    patron_name: str
    pickup_branch: str
    lender: str
    requested_by_staff: bool
    cancel_reason: str
    strap_barcode: str
    copy: CopyAccess | None
    volume: str = ""
    issue: str = ""
    pages: str = ""

    @property
    def citation(self) -> str:
        """Volume, issue and pages as shown after the title ("" when none is given)."""
        return citation(self.volume, self.issue, self.pages)


def copy_access(request: IllRequest, settings: LibrarySettings, now: datetime) -> CopyAccess | None:
    if request.kind is not RequestKind.COPY or request.copy_available_at is None:
        return None
    expires = request.copy_available_at + timedelta(days=settings.copy_available_days)
    seconds_left = (expires - now).total_seconds()
    days_left = max(0, math.ceil(seconds_left / 86400))
    views_left = max(0, settings.copy_max_views - request.copy_views)
    return CopyAccess(
        available_since=request.copy_available_at,
        expires_at=expires,
        days_left=days_left,
        views_used=request.copy_views,
        views_left=views_left,
        expired=seconds_left <= 0 or views_left == 0,
    )


def _view(
    session: Session,
    request: IllRequest,
    settings: LibrarySettings,
    now: datetime,
    *,
    new: bool = False,
) -> RequestView:
    """What the screens show of a request; `new`: just placed, so nothing received yet."""
    patron = session.get(Patron, request.patron_id) if request.patron_id else None
    pickup = session.get(Branch, request.pickup_branch_id) if request.pickup_branch_id else None
    item = None if new else temporary_item_for(session, request)
    return RequestView(
        request_number=request.request_number,
        kind=request.kind,
        status=request.status,
        title=request.title,
        article_title=request.article_title,
        patron_id=patron.patron_id if patron else "",
        patron_name=patron.display_name if patron else "",
        pickup_branch=pickup.code if pickup else "",
        lender=request.lender_symbol or "",
        requested_by_staff=request.requested_by_staff,
        cancel_reason=request.cancel_reason or "",
        strap_barcode=item.barcode if item else "",
        copy=copy_access(request, settings, now),
        volume=request.volume,
        issue=request.issue,
        pages=request.pages,
    )


def _patron(session: Session, ref: str, what: str) -> Patron:
    text = ref.strip()
    if not text:
        raise InvalidInput(f"Enter the {what}'s campus ID or barcode.")
    patron = session.scalar(
        select(Patron).where(or_(Patron.patron_id == text.upper(), Patron.barcode == text))
    )
    if patron is None:
        raise NotFound(
            f"No patron has the campus ID or barcode '{text[:40]}'. Check it, or import the "
            "patron first."
        )
    return patron


def _borrowing_request(session: Session, number: str, *, lock: bool = False) -> IllRequest:
    request = request_numbers.find(session, number, lock=lock)
    if request.direction is not Direction.BORROWING:
        raise InvalidInput(
            f"Request {request.request_number} is a lending request; it is handled on the "
            "Lending screen."
        )
    return request


def _next_number(session: Session, year: int) -> str:
    highest = session.scalar(
        select(func.max(IllRequest.request_number)).where(
            func.length(IllRequest.request_number) == 8
        )
    )
    if highest is None or not highest.isdigit():
        return f"{year}0001"
    return str(int(highest) + 1)


def _field(value: str, name: str) -> str:
    text = " ".join(value.split())
    if len(text) > MAX_FIELD:
        raise InvalidInput(f"The {name} is {len(text)} characters; keep it under {MAX_FIELD}.")
    return text


def _short(value: str, name: str) -> str:
    """Volume, issue, date and pages: refused when longer than the column, never cut."""
    text = " ".join(value.split())
    if len(text) > MAX_SHORT_FIELD:
        raise InvalidInput(
            f"The {name} field has {len(text)} characters; at most {MAX_SHORT_FIELD} fit "
            "(for example '2' for the volume, '112-140' for the pages)."
        )
    return text


def place_request(rt: Runtime, actor: Actor, form: RequestForm) -> RequestView:
    """Enter a request on the form; refuses a staff account standing in for someone else."""
    actor.require(Role.ILL_OFFICE, "Entering ILL requests")
    now = rt.clock.now()
    title = _field(form.title, "title")
    if not title:
        raise InvalidInput("Enter the title (for an article: the journal or book title).")
    if form.kind is RequestKind.COPY and not form.article_title.strip():
        raise InvalidInput("A copy request needs the article or chapter title.")
    lender = parse_oclc_symbol(form.lender) if form.lender.strip() else None
    with rt.db.transaction() as session:
        settings = library_settings.load(session)
        patron = _patron(session, form.patron, "requesting patron")
        served = _patron(session, form.for_patron, "patron") if form.for_patron.strip() else patron
        if patron.is_ill_dummy:
            raise InvalidInput(
                "The ILL dummy account lends our items to other libraries; it cannot request "
                "anything. Place the request under the patron it serves."
            )
        if served.id != patron.id:
            whose = "your own" if patron.staff_id == actor.staff_id else "a staff member's own"
            raise InvalidInput(
                f"{patron.display_name} ({patron.patron_id}) is {whose} patron record. A "
                f"request always belongs to the patron it serves: place it under "
                f"{served.display_name}'s account ({served.patron_id}), so the notices reach "
                "them. Staff may request for themselves (free), never for someone else."
                if patron.staff_id is not None
                else f"A request always belongs to the patron it serves: place it under "
                f"{served.display_name}'s own account ({served.patron_id}), not under "
                f"{patron.display_name}'s."
            )
        pickup = branch_by_code(session, form.pickup_branch or "")
        if pickup.virtual or not pickup.active:
            raise InvalidInput(
                f"{pickup.code} is not a campus where patrons pick items up; choose a campus."
            )
        number = (
            request_numbers.clean_borrowing(form.request_number)
            if form.request_number.strip()
            else _next_number(session, rt.clock.today().year)
        )
        if request_numbers.exists(session, number):
            raise Conflict(f"There is already a request {number}. Check the number.")
        request = IllRequest(
            request_number=number,
            direction=Direction.BORROWING,
            kind=form.kind,
            status=RequestStatus.REQUESTED,
            title=title,
            author=_field(form.author, "author"),
            article_title=_field(form.article_title, "article title"),
            article_author=_field(form.article_author, "article author"),
            volume=_short(form.volume, "volume"),
            issue=_short(form.issue, "issue"),
            issue_date=_short(form.issue_date, "date"),
            pages=_short(form.pages, "pages"),
            patron_id=patron.id,
            pickup_branch_id=pickup.id,
            lender_symbol=lender,
            requested_by_staff=patron.staff_id is not None,
            notify_patron=form.notify_patron,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(request)
                session.flush()
        except IntegrityError:
            raise Conflict(
                f"Request number {number} was just taken at another desk. Save again."
            ) from None
        queue_notice(
            session,
            "request_received",
            at=now,
            patron=patron,
            request_id=request.id,
            context={"title": title, "request_number": number, "kind": form.kind.value},
            dedupe_key=f"request_received:{request.id}",
        )
        audit.record(
            session,
            actor,
            "ill.request_placed",
            at=now,
            entity="ill_request",
            entity_id=request.id,
            patron_id=patron.id,
            after={"request_number": number, "kind": form.kind.value, "pickup": pickup.code},
        )
        return _view(session, request, settings, now, new=True)


def find_request(rt: Runtime, actor: Actor, number: str) -> RequestView:
    actor.require(Role.ILL_OFFICE, "Looking up ILL requests")
    with rt.db.reading() as session:
        request = _borrowing_request(session, number)
        return _view(session, request, library_settings.load(session), rt.clock.now())


def list_requests(
    rt: Runtime, actor: Actor, status: RequestStatus | None = None, limit: int = 500
) -> list[RequestView]:
    """Borrowing requests, newest first (optionally of one status)."""
    actor.require(Role.ILL_OFFICE, "Listing ILL requests")
    with rt.db.reading() as session:
        settings = library_settings.load(session)
        query = (
            select(IllRequest)
            .where(IllRequest.direction == Direction.BORROWING)
            .order_by(IllRequest.created_at.desc(), IllRequest.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(IllRequest.status == status)
        now = rt.clock.now()
        return [_view(session, r, settings, now) for r in session.scalars(query).all()]


def cancel_reasons(rt: Runtime, actor: Actor) -> list[str]:
    """The reasons staff pick from, as the library wrote them."""
    with rt.db.reading() as session:
        return list(
            session.scalars(
                select(CancelReason.text).where(CancelReason.active).order_by(CancelReason.id)
            )
        )


def edit_cancel_reason(rt: Runtime, actor: Actor, text: str, *, active: bool = True) -> list[str]:
    """Add a reason to the list staff pick from, or (active=False) take one off it."""
    actor.require(Role.ILL_OFFICE, "Editing the cancellation reasons")
    reason = " ".join(text.split())
    if not reason:
        raise InvalidInput("Type the reason to add or remove.")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"The reason is {len(reason)} characters; keep it under {MAX_REASON}.")
    with rt.db.transaction() as session:
        row = session.scalar(
            select(CancelReason).where(func.lower(CancelReason.text) == reason.lower())
        )
        if row is None and not active:
            raise NotFound(f"'{reason}' is not in the list of reasons.")
        if row is None:
            row = CancelReason(text=reason, active=True)
            session.add(row)
        row.active = active
        session.flush()
        audit.record(
            session,
            actor,
            "ill.cancel_reason_listed" if active else "ill.cancel_reason_removed",
            at=rt.clock.now(),
            entity="cancel_reason",
            entity_id=row.id,
            detail=row.text,
        )
    return cancel_reasons(rt, actor)


def cancel_request(rt: Runtime, actor: Actor, number: str, reason: str) -> RequestView:
    """Cancel a request that has not arrived; the reason is mandatory and the patron told."""
    actor.require(Role.ILL_OFFICE, "Cancelling ILL requests")
    text = " ".join(reason.split())
    if not text:
        raise InvalidInput(
            "A cancellation needs a reason: pick one from the list or type your own. "
            "The patron is told why."
        )
    if len(text) > MAX_REASON:
        raise InvalidInput(f"The reason is {len(text)} characters; keep it under {MAX_REASON}.")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        settings = library_settings.load(session)
        request = _borrowing_request(session, number, lock=True)
        if request.status is RequestStatus.CANCELLED:
            raise Conflict(
                f"Request {request.request_number} is already cancelled "
                f"({request.cancel_reason or 'no reason recorded'})."
            )
        if request.status is not RequestStatus.REQUESTED:
            raise Conflict(
                f"Request {request.request_number} is {request.status.value}: only a request "
                "still waiting for the lender can be cancelled."
            )
        listed = session.scalar(
            select(CancelReason.text).where(func.lower(CancelReason.text) == text.lower())
        )
        text = listed or text
        request.status = RequestStatus.CANCELLED
        request.cancel_reason = text
        request.closed_at = now
        request.updated_at = now
        patron = session.get(Patron, request.patron_id) if request.patron_id else None
        queue_notice(
            session,
            "request_cancelled",
            at=now,
            patron=patron,
            request_id=request.id,
            context={
                "title": request.title,
                "request_number": request.request_number,
                "reason": text,
            },
            dedupe_key=f"request_cancelled:{request.id}",
        )
        audit.record(
            session,
            actor,
            "ill.request_cancelled",
            at=now,
            entity="ill_request",
            entity_id=request.id,
            patron_id=request.patron_id,
            before={"status": RequestStatus.REQUESTED.value},
            after={"status": RequestStatus.CANCELLED.value, "reason": text},
        )
        return _view(session, request, settings, now)


def mark_copy_available(rt: Runtime, actor: Actor, number: str) -> RequestView:
    """A scanned copy arrived: the patron is told it is available for download."""
    actor.require(Role.ILL_OFFICE, "Delivering copies")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        settings = library_settings.load(session)
        request = _borrowing_request(session, number, lock=True)
        if request.kind is not RequestKind.COPY:
            raise InvalidInput(
                f"Request {request.request_number} is a loan of a physical item: receive it "
                "and print its strap instead."
            )
        if request.status is RequestStatus.AVAILABLE:
            assert request.copy_available_at is not None
            raise Conflict(
                f"Request {request.request_number} is already available for download since "
                f"{request.copy_available_at.date().isoformat()}."
            )
        if request.status is not RequestStatus.REQUESTED:
            raise Conflict(
                f"Request {request.request_number} is {request.status.value}; only a copy "
                "request waiting for its scan can be marked available."
            )
        request.status = RequestStatus.AVAILABLE
        request.copy_available_at = now
        request.copy_views = 0
        request.updated_at = now
        patron = session.get(Patron, request.patron_id) if request.patron_id else None
        access = copy_access(request, settings, now)
        assert access is not None
        queue_notice(
            session,
            "article_available",
            at=now,
            patron=patron,
            request_id=request.id,
            context={
                "title": request.title,
                "article_title": request.article_title,
                "request_number": request.request_number,
                "expires_on": access.expires_at.date().isoformat(),
                "max_views": settings.copy_max_views,
                "days": settings.copy_available_days,
            },
            dedupe_key=f"article_available:{request.id}",
        )
        audit.record(
            session,
            actor,
            "ill.copy_available",
            at=now,
            entity="ill_request",
            entity_id=request.id,
            patron_id=request.patron_id,
            after={"status": RequestStatus.AVAILABLE.value},
        )
        return _view(session, request, settings, now)


def record_copy_view(rt: Runtime, actor: Actor, number: str) -> CopyAccess:
    """Count one download of a delivered copy; refused once the window is used up."""
    actor.require(Role.ILL_OFFICE, "Recording copy downloads")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        settings = library_settings.load(session)
        request = _borrowing_request(session, number, lock=True)
        access = copy_access(request, settings, now)
        if access is None or request.status is not RequestStatus.AVAILABLE:
            raise InvalidInput(
                f"Request {request.request_number} is not a copy available for download."
            )
        if access.expired:
            why = (
                "all its views are used"
                if access.views_left == 0
                else f"its {settings.copy_available_days} days are over"
            )
            raise Conflict(
                f"The copy for request {request.request_number} has expired ({why}). "
                "The patron asks for it again through the ILL system."
            )
        request.copy_views += 1
        request.updated_at = now
        updated = copy_access(request, settings, now)
        assert updated is not None
        return updated
