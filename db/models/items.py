"""Items: the library's own, and temporary records for borrowed ILL items."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, enum_column, utcnow
from db.models.circulation import partial_index
from db.models.enums import ItemKind, ItemStatus


class Item(Base):
    """A physical thing with a barcode we scan.

    For a temporary ILL item `barcode` is the strap barcode (ours); `lender_barcode`
    is the lender's own label, recorded only to recognise a wrong scan.
    `version` increases on every change so two desks cannot both win a race.
    """

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    barcode: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[ItemKind] = mapped_column(enum_column(ItemKind))
    status: Mapped[ItemStatus] = mapped_column(enum_column(ItemStatus), index=True)
    title: Mapped[str] = mapped_column(String(500))
    title_key: Mapped[str] = mapped_column(String(500), index=True, default="")
    author: Mapped[str] = mapped_column(String(300), default="")
    home_branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    current_branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("ill_requests.id"), index=True)
    lender_barcode: Mapped[str | None] = mapped_column(String(64), index=True)
    lender_due_date: Mapped[date | None] = mapped_column(Date)
    in_library_use_only: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # received today
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    # The statistics: borrowed items received over a period, and their requests (covering).
    # Overdue lists and the notices run join open loans to borrowed items: indexing only the
    # borrowed items' requests keeps PostgreSQL's walk over them short (60,000 of 1,000,000).
    __table_args__ = (
        Index("ix_items_received_at", "received_at", "kind", "request_id"),
        partial_index("ix_items_temporary_request", "request_id", where="kind = 'temporary'"),
    )


class StrapPrint(Base):
    """A borrowed item's strap, from receipt until it is printed: the ILL office's queue.

    Made when the item is received (at the window or by the ILL system over NCIP, when
    nobody may be at the window); `printed_at` is set once a print or PDF of it succeeded.
    Rows stay: when each strap was first printed, and by whom, remains answerable.
    """

    __tablename__ = "strap_prints"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    printed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    # The queue is the few rows not printed yet, in the order they arrived.
    __table_args__ = (
        partial_index("ix_strap_prints_waiting", "queued_at", where="printed_at IS NULL"),
    )
