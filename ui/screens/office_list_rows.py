"""The rows of the ILL office's lists (ListsTab), read on the runner's thread.

Each list is its headers and its rows as plain values; the tab turns them into cells.
"""

from __future__ import annotations

from app.borrowing import office_lists
from app.borrowing.missing_pieces import missing_pieces
from app.borrowing.pieces import pieces_count
from app.library.actors import Actor
from app.library.runtime import Runtime

Rows = tuple[tuple[str, ...], list[tuple[object, ...]]]


def office_list_rows(
    rt: Runtime, actor: Actor, index: int, limit: int | None = None
) -> tuple[Rows, list[int]]:
    """Headers and rows of office list `index` (its first `limit` rows, or all), and the ids
    of the entries to review (on the runner's thread)."""
    if index == 0:
        received = office_lists.received_on(rt, actor, limit=limit)
        return (("Strap", "Request", "Title", "Pieces", "Patron", "To", "Received",
                 "Library use"), [
            (r.strap_barcode, r.request_number, r.title, pieces_count(r.pieces), r.patron,
             r.destination, r.received_at, r.in_library_use_only) for r in received
        ]), []  # fmt: skip
    if index == 1:
        transits = office_lists.in_transit(rt, actor, limit=limit)
        return (("Barcode", "Title", "Pieces", "From", "To", "Days", "Lost in the mail?"), [
            (t.barcode, t.title, pieces_count(t.pieces), t.from_branch, t.to_branch, t.age_days,
             "CHECK: over the limit" if t.overdue else "") for t in transits
        ]), []  # fmt: skip
    if index == 2:
        shelves = office_lists.hold_shelves(rt, actor, limit=limit)
        return (("Branch", "Barcode", "Title", "Pieces", "Patron", "Pick up by", "Expired"), [
            (h.branch, h.barcode, h.title, pieces_count(h.pieces), h.patron, h.pickup_by,
             "(expired): pull it" if h.expired else "") for h in shelves
        ]), []  # fmt: skip
    if index == 3:
        loans = office_lists.overdue_ill_loans(rt, actor, limit=limit)
        return (("Barcode", "Request", "Title", "Patron", "Due", "Days over", "Lender"), [
            (o.barcode, o.request_number, o.title, o.patron, o.due_date, o.days_overdue,
             o.lender) for o in loans
        ]), []  # fmt: skip
    if index == 4:
        entries = office_lists.discrepancies(rt, actor, limit=limit)
        return (("When", "Patron ID", "Request", "System date", "Strap date", "Due date",
                 "Why", "Staff", "Branch"), [
            (d.at, d.patron_id, d.request_number, d.system_date, d.strap_date, d.due_date,
             d.story, d.staff, d.branch) for d in entries
        ]), [d.id for d in entries]  # fmt: skip
    if index == 6:
        flags = missing_pieces(rt, actor, limit=limit)
        return (("When", "Strap", "Title", "Pieces", "Missing", "Patron", "Lender", "Branch",
                 "Staff"), [
            (m.at, m.barcode, m.title, m.pieces, m.note, m.patron, m.lender, m.branch, m.staff)
            for m in flags
        ]), [m.id for m in flags]  # fmt: skip
    scans = office_lists.not_found_scans(rt, actor, limit=limit)
    return (("When", "Barcode", "Branch", "Staff"), [
        (n.at, n.barcode, n.branch, n.staff) for n in scans
    ]), [n.id for n in scans]  # fmt: skip
