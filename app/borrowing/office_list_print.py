"""The office lists on paper: in transit too long, hold shelf past pickup-by, due-date
discrepancies, as the ILL office screens show them."""

from __future__ import annotations

from enum import StrEnum

from app.borrowing import office_lists
from app.borrowing.pieces import pieces_suffix
from app.library import library_settings
from app.library.actors import Actor
from app.library.runtime import Runtime
from app.printing.office_list_pdf import render_office_list


class PrintableList(StrEnum):
    TRANSIT = "transit"
    HOLD_SHELF = "hold-shelf"
    DISCREPANCIES = "discrepancies"


def office_list_pdf(
    rt: Runtime,
    actor: Actor,
    which: PrintableList,
    *,
    days: int | None = None,
    branch: str = "",
) -> tuple[int, bytes]:
    """How many rows, and the printable list. `days` defaults to the library's
    `transit_overdue_days` (when an item is probably lost in the inter-campus mail)."""
    today = rt.clock.today()
    if which is PrintableList.TRANSIT:
        if days is None:
            with rt.db.reading() as session:
                days = library_settings.load(session).transit_overdue_days
        transits = [t for t in office_lists.in_transit(rt, actor) if t.age_days > days]
        rows = [
            [t.barcode, t.title + pieces_suffix(t.pieces), t.from_branch, t.to_branch,
             t.reason.replace("_", " "),
             t.started_at.date().isoformat(), str(t.age_days)]
            for t in transits
        ]  # fmt: skip
        title = f"In transit longer than {days} days"
        headers = ["Barcode", "Title", "From", "To", "Why", "Sent", "Days"]
        subtitle = "Items sent by inter-campus mail and not yet checked in where they went."
    elif which is PrintableList.HOLD_SHELF:
        holds = [h for h in office_lists.hold_shelves(rt, actor, branch) if h.expired]
        rows = [
            [h.branch, h.barcode, h.title + pieces_suffix(h.pieces), h.patron,
             h.pickup_by.isoformat(),
             "yes" if h.in_library_use_only else ""]
            for h in holds
        ]  # fmt: skip
        title = "On the hold shelf past pickup-by"
        headers = ["Branch", "Barcode", "Title", "For", "Pickup by", "Library use only"]
        subtitle = f"Branch {branch.upper()}." if branch else "All branches."
    else:
        entries = office_lists.discrepancies(rt, actor)
        rows = [
            [e.at.date().isoformat(), e.request_number, e.patron_id, e.system_date.isoformat(),
             e.strap_date.isoformat(), e.due_date.isoformat() if e.due_date else "",
             e.adjustment_reason or "", e.staff, e.branch]
            for e in entries
        ]  # fmt: skip
        title = "Due-date discrepancies to review"
        headers = ["Date", "ILL number", "Patron ID", "System date", "Strap date", "Due date",
                   "Why the due date moved", "Who", "Where"]  # fmt: skip
        subtitle = (
            "The strap date won at checkout, then moved off a day the branch was closed; "
            "open entries, newest first."
        )
    return len(rows), render_office_list(title, subtitle, headers, rows, today)
