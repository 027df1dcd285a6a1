"""Append-only records staff review: audit trail, unknown scans, due-date discrepancies."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, utcnow
from db.models.circulation import named_patrons, partial_index

CHECK_IN_CONDITION = "action = 'check_in'"  # its detail is the outcome code: short
CHECK_IN_INDEX = "ix_audit_events_check_in_at"


class AuditEvent(Base):
    """Who did what, where and when, with the state before and after."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    branch_code: Mapped[str] = mapped_column(String(16))
    workstation: Mapped[str] = mapped_column(String(128), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    item_id: Mapped[int | None] = mapped_column(Integer, index=True)
    patron_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, object] | None] = mapped_column(JSON)
    after: Mapped[dict[str, object] | None] = mapped_column(JSON)
    detail: Mapped[str] = mapped_column(Text, default="")

    # The statistics count events of one kind over a period (check-ins, shipments, ...).
    # Covering, for the statistics: an event's campus and request come from the index alone;
    # check-ins (the most numerous events) also their outcome.
    __table_args__ = (
        Index("ix_audit_events_action_at", "action", "at", "branch_code", "entity_id"),
        named_patrons("audit_events"),
        partial_index(
            CHECK_IN_INDEX, "at", "branch_code", "detail", "action", where=CHECK_IN_CONDITION
        ),
    )


class NotFoundScan(Base):
    """A barcode scanned at check-in that matched nothing, for the ILL office to review."""

    __tablename__ = "not_found_scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    barcode: Mapped[str] = mapped_column(String(64))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str] = mapped_column(Text, default="")


class DueDateDiscrepancy(Base):
    """The system's due date differed from the lender's strap; the strap won."""

    __tablename__ = "due_date_discrepancies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"))
    patron_campus_id: Mapped[str] = mapped_column(String(32))
    request_number: Mapped[str] = mapped_column(String(32))
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    system_date: Mapped[date] = mapped_column(Date)
    strap_date: Mapped[date] = mapped_column(Date)
    # The loan's due date: the strap date moved off a day the checkout branch was closed,
    # and why it moved (None when the strap date stood). Null on entries logged before.
    due_date: Mapped[date | None] = mapped_column(Date)
    adjustment_reason: Mapped[str | None] = mapped_column(String(300))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    review_note: Mapped[str] = mapped_column(Text, default="")
