"""Charges on patron accounts and IFM reimbursement transactions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, enum_column, utcnow
from db.models.circulation import partial_index
from db.models.enums import ChargeKind, IfmDirection, IfmStatus


class Charge(Base):
    __tablename__ = "charges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("ill_requests.id"))
    kind: Mapped[ChargeKind] = mapped_column(enum_column(ChargeKind))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    is_ill: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    transcript_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    removed_reason: Mapped[str | None] = mapped_column(Text)

    # The bursar preview reads only open charges never reported, oldest first.
    __table_args__ = (
        partial_index(
            "ix_charges_unreported",
            "created_at",
            "id",
            where="reported_at IS NULL AND removed_at IS NULL",
        ),
    )


class IfmTransaction(Base):
    """A replacement-cost payment moved through OCLC ILL Fee Management."""

    __tablename__ = "ifm_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("ill_requests.id"), index=True)
    direction: Mapped[IfmDirection] = mapped_column(enum_column(IfmDirection))
    partner_symbol: Mapped[str] = mapped_column(String(8), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    dummy_title: Mapped[str] = mapped_column(String(600))
    verification_note: Mapped[str] = mapped_column(Text)
    lender_string: Mapped[str] = mapped_column(String(100))
    dummy_request_number: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[IfmStatus] = mapped_column(enum_column(IfmStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class IfmSettlement(Base):
    """A cheque or invoice that settled (part of) the IFM balance with one partner library.

    `direction` says who paid: we_receive when the partner paid us (the balance owed to us
    falls), we_pay when we paid the partner. The amount is always positive.
    """

    __tablename__ = "ifm_settlements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_symbol: Mapped[str] = mapped_column(String(8), index=True)
    direction: Mapped[IfmDirection] = mapped_column(enum_column(IfmDirection))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    reference: Mapped[str] = mapped_column(String(100))
    settled_on: Mapped[date] = mapped_column(Date)
    balance_before: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
