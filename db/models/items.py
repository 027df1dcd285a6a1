"""Items: the library's own, and temporary records for borrowed ILL items."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Sequence, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, enum_column, utcnow
from db.models.circulation import OPEN_WHEN, partial_index
from db.models.enums import ItemKind, ItemStatus

# Strap serials on PostgreSQL: receipts arriving together (NCIP, several office PCs) each
# take the next number at once, instead of taking turns to read the highest in use.
STRAP_SERIALS = Sequence("strap_serials")


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
    # A book with a CD, a two-volume set: every desk checks that all of them are there.
    pieces: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
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


class MissingPiece(Base):
    """A multi-piece item that came back without all its pieces, for the ILL office.

    Reported at the desk when the item is checked in (or by the ILL office itself); open
    until the ILL office clears it, saying what happened (the piece turned up, the lender
    was told). Rows stay: who reported and who cleared remain answerable.
    """

    __tablename__ = "missing_pieces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    clear_note: Mapped[str] = mapped_column(Text, default="")

    # The office list reads the open flags; at most one open flag per item.
    __table_args__ = (
        partial_index("ix_missing_pieces_open", "at", where="cleared_at IS NULL"),
        Index(
            "uq_missing_pieces_one_open_per_item",
            "item_id",
            unique=True,
            sqlite_where=text("cleared_at IS NULL"),
            info={OPEN_WHEN: "cleared_at IS NULL"},
        ),
    )
