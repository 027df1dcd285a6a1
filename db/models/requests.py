"""ILL requests, borrowing and lending, and the cancellation reasons a library offers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, enum_column, utcnow
from db.models.circulation import named_patrons
from db.models.enums import Direction, RequestKind, RequestStatus


class IllRequest(Base):
    """One ILL transaction.

    Borrowing: our `patron` asked for an item that `lender_symbol` supplies.
    Lending: `borrower_symbol` asked for one of our items (`item_id`), to be pulled at
    `pull_branch_id`; `partner_request_number` is their number for it.
    """

    __tablename__ = "ill_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_number: Mapped[str] = mapped_column(String(32), unique=True)
    direction: Mapped[Direction] = mapped_column(enum_column(Direction), index=True)
    kind: Mapped[RequestKind] = mapped_column(enum_column(RequestKind))
    status: Mapped[RequestStatus] = mapped_column(enum_column(RequestStatus), index=True)
    title: Mapped[str] = mapped_column(String(500))
    author: Mapped[str] = mapped_column(String(300), default="")
    article_title: Mapped[str] = mapped_column(String(500), default="")
    article_author: Mapped[str] = mapped_column(String(300), default="")
    volume: Mapped[str] = mapped_column(String(50), default="")
    issue: Mapped[str] = mapped_column(String(50), default="")
    issue_date: Mapped[str] = mapped_column(String(50), default="")
    pages: Mapped[str] = mapped_column(String(50), default="")
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"))
    pickup_branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    lender_symbol: Mapped[str | None] = mapped_column(String(8))
    borrower_symbol: Mapped[str | None] = mapped_column(String(8))
    partner_request_number: Mapped[str | None] = mapped_column(String(32))
    # use_alter: items and requests point at each other (temporary item -> its request).
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", use_alter=True), index=True)
    pull_branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    lend_due_date: Mapped[date | None] = mapped_column(Date)
    status_note: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Copy (article) delivery: available 30 days or 5 views, whichever comes first.
    copy_available_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    copy_views: Mapped[int] = mapped_column(Integer, default=0)
    requested_by_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether ILL Desk tells the patron the item is ready (its ready-for-pickup notice). The
    # ILL system's "Hold For Pickup" (without "And Notify") means it tells the patron itself.
    # A server default: bulk loads (COPY) that leave the column out mean "notify".
    notify_patron: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # What the statistics count by: requests placed or received, closed (cancelled),
    # copies delivered and lending due dates, each over a period.
    __table_args__ = (
        named_patrons("ill_requests"),
        # Covers the count by campus (no row read): placed / received per period and campus.
        Index(
            "ix_ill_requests_direction_created_at",
            "direction",
            "created_at",
            "pickup_branch_id",
            "pull_branch_id",
        ),
        Index("ix_ill_requests_status_closed_at", "status", "closed_at"),
        Index("ix_ill_requests_copy_available_at", "copy_available_at"),
        Index("ix_ill_requests_lend_due_date", "lend_due_date"),
    )


class CancelReason(Base):
    """A cancellation reason staff pick from; the library edits the list."""

    __tablename__ = "cancel_reasons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(300), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
