"""Branches (campus libraries and virtual branches) and their closures."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base


class Branch(Base):
    """A place a desk can run at. Branches are data: each library configures its own.

    A virtual branch (such as `WS-ILL`) has no desk of its own; `location_id` names the
    campus where its stock physically sits. `ill_office` marks the ILL office's branch:
    items "returned to the ILL office" are routed there.
    """

    __tablename__ = "branches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    virtual: Mapped[bool] = mapped_column(Boolean, default=False)
    ill_office: Mapped[bool] = mapped_column(Boolean, default=False)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    # Weekdays the branch is closed every week, as Python weekday digits ("56" = Sat, Sun).
    closed_weekdays: Mapped[str] = mapped_column(String(7), default="56")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Closure(Base):
    """A closed period (holiday, break). `branch_id` None means every branch."""

    __tablename__ = "closures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))
