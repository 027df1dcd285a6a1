"""NCIP partners (ILL systems trusted to drive the desk) and the messages they sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, utcnow


class NcipPartner(Base):
    """An ILL system allowed to send NCIP messages, known by the agency id it sends.

    `secret_hash` is an argon2 hash of the shared secret (none: no secret asked);
    `networks` lists the CIDR blocks it may call from (empty: from anywhere).
    """

    __tablename__ = "ncip_partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str | None] = mapped_column(String(255))
    networks: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class NcipMessage(Base):
    """One message received, for the ILL office's traffic list. No patron data.

    A message that changed something keeps its `idempotency_key` (a digest of the
    partner and the message's content) and the answer given, so the same message sent
    again is answered the same without doing anything.
    """

    __tablename__ = "ncip_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    partner: Mapped[str] = mapped_column(String(64), default="")
    service: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(16))  # "ok", "repeat", "problem"
    problem_type: Mapped[str] = mapped_column(String(100), default="")
    problem_element: Mapped[str] = mapped_column(String(100), default="")
    http_status: Mapped[int] = mapped_column(Integer, default=200)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    response: Mapped[str | None] = mapped_column(Text)
