"""Loans, transits, hold-shelf entries and in-house uses.

Each table carries a partial unique index that makes "at most one open X per item"
a database invariant, so two desks racing on one item cannot both succeed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, MetaData, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, enum_column, utcnow
from db.models.enums import HoldStatus, TransitReason

OPEN_WHEN = "open_when"  # Index.info key: the condition that makes a row "open"


def _one_open_per_item(table: str, open_condition: str) -> Index:
    """Unique per item among the open rows only: a partial index on both databases.

    The PostgreSQL form is added by `add_postgresql_conditions` when migrations are written
    or run, so a desk on SQLite never loads SQLAlchemy's PostgreSQL dialect (a twentieth of
    its start-up) for DDL only the migrations emit.
    """
    return Index(
        f"uq_{table}_one_open_per_item",
        "item_id",
        unique=True,
        sqlite_where=text(open_condition),
        info={OPEN_WHEN: open_condition},
    )


def partial_index(name: str, *columns: str, where: str) -> Index:
    """An index over the rows a list or batch job reads (`where`), on both databases.

    Office lists and daily jobs read the few open rows of tables that grow every day;
    indexing only those keeps each read the size of its answer.
    """
    return Index(name, *columns, sqlite_where=text(where), info={OPEN_WHEN: where})


def named_patrons(table: str) -> Index:
    """The rows of `table` that still name a patron, by patron.

    The privacy run clears `patron_id` on finished rows, so after a few years most rows name
    nobody. A plain index then tells the planners (SQLite's statistics above all) that one
    patron has hundreds of thousands of rows, and they scan by date instead: the privacy
    run's look-up of a batch's patrons went from milliseconds to seconds. Indexing only the
    named rows keeps the index, and its statistics, the size of what can still be found.
    """
    return partial_index(f"ix_{table}_patron_id", "patron_id", where="patron_id IS NOT NULL")


def add_postgresql_conditions(metadata: MetaData) -> None:
    """Give every one-open-per-item index its PostgreSQL WHERE clause as well."""
    for table in metadata.tables.values():
        for index in table.indexes:
            condition = index.info.get(OPEN_WHEN)
            if condition is not None:
                index.dialect_options["postgresql"]["where"] = text(condition)


class Loan(Base):
    """A checkout. `patron_id` is cleared when a closed loan is anonymised."""

    __tablename__ = "loans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    checked_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_date: Mapped[date] = mapped_column(Date)
    strap_due_date: Mapped[date | None] = mapped_column(Date)
    adjustment_reason: Mapped[str | None] = mapped_column(String(300))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        _one_open_per_item("loans", "returned_at IS NULL"),
        named_patrons("loans"),
        partial_index(
            "ix_loans_ill_checked_out_at",
            "checked_out_at",
            "branch_id",
            where="strap_due_date IS NOT NULL",  # ILL loans only: the statistics' closure moves
        ),
        # Overdue lists and the notices run: open loans by due date.
        partial_index("ix_loans_open_due", "due_date", where="returned_at IS NULL"),
        # The privacy run: finished loans still linked to a patron.
        partial_index(
            "ix_loans_not_anonymised",
            "id",
            where="anonymised_at IS NULL AND patron_id IS NOT NULL AND returned_at IS NOT NULL",
        ),
    )


class Transit(Base):
    """An item sent by inter-campus mail, open until checked in at its destination."""

    __tablename__ = "transits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    from_branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    to_branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    reason: Mapped[TransitReason] = mapped_column(enum_column(TransitReason))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    __table_args__ = (
        _one_open_per_item("transits", "received_at IS NULL"),
        partial_index("ix_transits_open_started", "started_at", where="received_at IS NULL"),
    )


class HoldShelfEntry(Base):
    """An item waiting on a branch's hold shelf for one patron."""

    __tablename__ = "hold_shelf_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    status: Mapped[HoldStatus] = mapped_column(enum_column(HoldStatus))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    pickup_by: Mapped[date] = mapped_column(Date)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        _one_open_per_item("hold_shelf_entries", "status = 'active'"),
        named_patrons("hold_shelf_entries"),
        Index("ix_hold_shelf_entries_status_ended_at", "status", "ended_at"),
        Index("ix_hold_shelf_entries_placed_at", "placed_at", "item_id", "branch_id"),
        partial_index(
            "ix_hold_shelf_entries_active_pickup",
            "branch_id",
            "pickup_by",
            where="status = 'active'",
        ),
    )


class InHouseUse(Base):
    """One use of an in-library-use-only item; open while the patron has it in hand."""

    __tablename__ = "in_house_uses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        _one_open_per_item("in_house_uses", "ended_at IS NULL"),
        named_patrons("in_house_uses"),
    )
