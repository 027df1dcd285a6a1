"""The notice outbox and the library's editable templates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, enum_column, utcnow
from db.models.circulation import named_patrons
from db.models.enums import NoticeStatus


class Notice(Base):
    """One message to send. `dedupe_key` makes "once per loan and day" a constraint."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[NoticeStatus] = mapped_column(enum_column(NoticeStatus), index=True)
    recipient: Mapped[str] = mapped_column(String(254), default="")
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"))
    partner_symbol: Mapped[str | None] = mapped_column(String(8))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("ill_requests.id"))
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[str] = mapped_column(Text, default="{}")  # JSON fields for the template
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    held_reason: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (named_patrons("notices"),)


class NoticeTemplate(Base):
    """A library's own wording for a notice kind; absent means the shipped default."""

    __tablename__ = "notice_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), unique=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
