"""The requests or items behind a figure: what a click on a number in the Reports screen lists.

Rows name the request number or barcode, the title and the moment counted, never the patron.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.runtime import Runtime
from app.library.vocabulary import Role
from app.reports import sources
from app.reports.compute import campus_id
from app.reports.figures import DrillList, DrillRow
from app.reports.measures import Source, in_period
from app.reports.periods import Period
from db.models import Branch, IfmDirection

LIMIT = 1000

_SIMPLE: dict[str, tuple[str, Callable[[], Source]]] = {
    "borrowing.placed": ("Requests placed", sources.requests_placed),
    "borrowing.filled_loans": ("Loans received", sources.loans_received),
    "borrowing.filled_copies": ("Copies delivered", sources.copies_delivered),
    "borrowing.cancelled": ("Requests cancelled", sources.requests_cancelled),
    "borrowing.never_picked_up": ("Items never picked up", sources.never_picked_up),
    "borrowing.in_library_uses": ("In-library-use uses", sources.in_library_uses),
    "lending.received": ("Lending requests received", sources.lending_received),
    "lending.filled": ("Lending requests filled", sources.lending_shipped),
    "lending.not_on_shelf": ("Not on shelf", sources.lending_not_on_shelf),
    "lending.lost": ("Lost at other libraries", sources.lending_lost),
    "desk.check_ins": ("Check-ins", sources.check_ins),
    "desk.not_found_scans": ("Not-found scans", sources.not_found_scans),
    "desk.due_date_discrepancies": ("Due-date discrepancies", sources.discrepancies),
    "desk.closure_moves": ("Due dates moved for a closure", sources.closure_moves),
    "money.charges_raised": ("Charges raised", sources.charges_raised),
    "money.charges_removed": ("Charges removed", sources.charges_removed),
    "money.charges_reported": ("Charges reported to the bursar", sources.charges_reported),
    "money.ifm_received": ("IFM received", lambda: sources.ifm(IfmDirection.WE_RECEIVE)),
    "money.ifm_paid": ("IFM paid", lambda: sources.ifm(IfmDirection.WE_PAY)),
}
_OUTCOMES = {"hold_shelf", "transit", "return_to_ill_office"}


def drill_keys() -> tuple[str, ...]:
    return (
        *_SIMPLE,
        "lending.overdue",
        *(f"desk.check_ins.{o}" for o in sorted(_OUTCOMES)),
    )


def drill(
    rt: Runtime,
    actor: Actor,
    key: str,
    period: Period,
    campus: str | None = None,
    limit: int = LIMIT,
) -> DrillList:
    """The first `limit` records behind figure `key` in `period`, oldest first."""
    actor.require(Role.ILL_OFFICE, "Statistics reports")
    with rt.db.reading() as session:
        conn = session.connection()
        group: str | None = None
        if key == "lending.overdue":
            label, source = (
                "Overdue at other libraries",
                sources.lending_overdue(conn, rt.clock.today()),
            )
        elif key.startswith("desk.check_ins.") and key.rsplit(".", 1)[1] in _OUTCOMES:
            group = key.rsplit(".", 1)[1]
            label, source = f"Check-ins: {group.replace('_', ' ')}", sources.check_ins()
        elif key in _SIMPLE:
            label, make = _SIMPLE[key]
            source = make()
        else:
            raise InvalidInput(f"No list stands behind '{key}'. Pick a counted figure.")
        where: list[Any] = in_period(source, period, campus_id(conn, campus))
        if group is not None:
            where.append(source.group == group)
        total = conn.execute(
            select(func.count()).select_from(source.froms).where(*where)
        ).scalar_one()
        statement = _statement(source, where, limit)
        rows = tuple(
            DrillRow(
                reference=str(r[0] or ""),
                title=str(r[1] or ""),
                at=_iso(r[2]),
                campus=str(r[3] or ""),
                detail="" if len(r) < 5 or r[4] is None else str(r[4]),
            )
            for r in conn.execute(statement)
        )
        return DrillList(key=key, label=label, rows=rows, total=int(total))


def _statement(source: Source, where: list[Any], limit: int) -> Select[Any]:
    named = aliased(Branch)  # the source may join branches itself
    campus = select(named.code).where(named.id == source.campus).scalar_subquery()
    detail = source.group if source.group is not None else None
    columns = [source.reference, source.title, source.at, campus]
    if detail is not None:
        columns.append(detail)
    return select(*columns).select_from(source.froms).where(*where).order_by(source.at).limit(limit)


def _iso(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value or "")
