"""The ILL office's lists and barcode recovery, for scripts: what the window shows, as JSON.

illdesk office list overdue --staff office --json
illdesk recover --title "beloved" --staff desk --branch METRO --json

`office list` reads the same services as ILL Office > Lists; `recover` the same as the
check-in screen's barcode recovery panel. Patron data printed is audited (`patron_reads`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.borrowing import office_lists
from app.cli.context import CliContext, office_options
from app.cli.patron_reads import shown_patrons
from app.desk.barcode_recovery import (
    RecoveredItem,
    items_with_patron,
    search_temporary_by_title,
)
from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.runtime import Runtime

EXIT_OK = 0

Row = dict[str, Any]


def _in_transit(rt: Runtime, actor: Actor, ctx: CliContext) -> list[tuple[Row, str]]:
    return [
        (
            {
                "barcode": t.barcode,
                "title": t.title,
                "from_branch": t.from_branch,
                "to_branch": t.to_branch,
                "reason": t.reason,
                "started_at": t.started_at,
                "age_days": t.age_days,
                "overdue": t.overdue,
            },
            f"{t.barcode}  {t.from_branch} -> {t.to_branch}  {t.age_days} days"
            f"{'  (overdue: probably lost)' if t.overdue else ''}  {t.title}",
        )
        for t in office_lists.in_transit(rt, actor)
    ]


def _hold_shelf(rt: Runtime, actor: Actor, ctx: CliContext) -> list[tuple[Row, str]]:
    return [
        (
            {
                "branch": h.branch,
                "barcode": h.barcode,
                "title": h.title,
                "patron": h.patron,
                "patron_id": h.patron_id,
                "pickup_by": h.pickup_by,
                "expired": h.expired,
                "in_library_use_only": h.in_library_use_only,
            },
            f"{h.branch:<8} {h.barcode}  pickup by {h.pickup_by.isoformat()}"
            f"{' (expired): pull it' if h.expired else ''}  {h.patron}  {h.title}",
        )
        for h in office_lists.hold_shelves(rt, actor, ctx.args.at or "")
    ]


def _overdue(rt: Runtime, actor: Actor, ctx: CliContext) -> list[tuple[Row, str]]:
    return [
        (
            {
                "barcode": o.barcode,
                "request_number": o.request_number,
                "title": o.title,
                "patron": o.patron,
                "patron_id": o.patron_id,
                "due_date": o.due_date,
                "days_overdue": o.days_overdue,
                "lender": o.lender,
            },
            f"{o.barcode}  due {o.due_date.isoformat()} ({o.days_overdue} days)  {o.patron}  "
            f"{o.lender}  {o.title}",
        )
        for o in office_lists.overdue_ill_loans(rt, actor)
    ]


def _discrepancies(rt: Runtime, actor: Actor, ctx: CliContext) -> list[tuple[Row, str]]:
    return [
        (
            {
                "id": d.id,
                "at": d.at,
                "patron_id": d.patron_id,
                "request_number": d.request_number,
                "system_date": d.system_date,
                "strap_date": d.strap_date,
                "due_date": d.due_date,
                "adjustment_reason": d.adjustment_reason,
                "story": d.story,
                "staff": d.staff,
                "branch": d.branch,
                "closed": d.closed,
                "review_note": d.review_note,
            },
            f"{d.id:>6}  {d.at:%Y-%m-%d}  {d.branch:<8} {d.request_number}  {d.story}"
            f"{'  (closed)' if d.closed else ''}",
        )
        for d in office_lists.discrepancies(rt, actor, include_closed=ctx.args.all)
    ]


def _not_found(rt: Runtime, actor: Actor, ctx: CliContext) -> list[tuple[Row, str]]:
    return [
        (
            {
                "id": n.id,
                "at": n.at,
                "barcode": n.barcode,
                "branch": n.branch,
                "staff": n.staff,
                "reviewed": n.reviewed,
                "review_note": n.review_note,
            },
            f"{n.id:>6}  {n.at:%Y-%m-%d %H:%M}  {n.branch:<8} {n.barcode}  {n.staff}"
            f"{'  (reviewed)' if n.reviewed else ''}",
        )
        for n in office_lists.not_found_scans(rt, actor, include_reviewed=ctx.args.all)
    ]


def _received_today(rt: Runtime, actor: Actor, ctx: CliContext) -> list[tuple[Row, str]]:
    return [
        (
            {
                "strap_barcode": r.strap_barcode,
                "request_number": r.request_number,
                "title": r.title,
                "patron": r.patron,
                "patron_id": r.patron_id,
                "destination": r.destination,
                "received_at": r.received_at,
                "in_library_use_only": r.in_library_use_only,
            },
            f"{r.received_at:%H:%M}  {r.strap_barcode}  {r.request_number}  -> "
            f"{r.destination or '-'}  {r.patron}  {r.title}",
        )
        for r in office_lists.received_on(rt, actor)
    ]


Lister = Callable[[Runtime, Actor, CliContext], list[tuple[Row, str]]]
# KIND -> (the list, what the list is called when it is empty). The KIND names are a contract.
LISTS: dict[str, tuple[Lister, str]] = {
    "in-transit": (_in_transit, "Nothing is in transit."),
    "hold-shelf": (_hold_shelf, "No hold shelf has anything waiting."),
    "overdue": (_overdue, "No borrowed ILL item is overdue."),
    "discrepancies": (_discrepancies, "No open due-date discrepancy."),
    "not-found": (_not_found, "No not-found scan waits for review."),
    "received-today": (_received_today, "Nothing was received today."),
}


def register(sub: Any) -> None:
    office = sub.add_parser("office", help="ILL office: the office's lists, as text or JSON")
    office_sub = office.add_subparsers(dest="office_command", required=True, metavar="STEP")
    listing = office_options(
        office_sub.add_parser(
            "list",
            help="one of the ILL office's lists: " + ", ".join(LISTS),
            description="The lists of ILL Office > Lists, one result per row (ILL office and "
            "administrators). in-transit: open transits, oldest first; hold-shelf: active "
            "hold-shelf entries by branch (--at CODE for one); overdue: borrowed items past "
            "their due date; discrepancies: open due-date discrepancies (--all: closed ones "
            "too); not-found: not-found scans to review (--all: reviewed ones too); "
            "received-today: items received today.",
        )
    )
    listing.add_argument("kind", choices=tuple(LISTS), metavar="KIND", help=", ".join(LISTS))
    listing.add_argument("--at", default=None, metavar="CODE", help="hold-shelf: one branch")
    listing.add_argument(
        "--all", action="store_true", help="discrepancies, not-found: include closed/reviewed"
    )
    listing.set_defaults(handler=_office_list)

    recover = office_options(
        sub.add_parser(
            "recover",
            help="find the strap barcode of an ILL item whose strap came off",
            description="By the patron's campus ID or card (the ILL items in their hands), or "
            "by a few words of the title (temporary items still with us, at most 50). The "
            "barcode recovery of the check-in screen; desk staff and up.",
        )
    )
    how = recover.add_mutually_exclusive_group(required=True)
    how.add_argument("--patron", metavar="ID", help="campus ID or patron barcode")
    how.add_argument("--title", metavar="TEXT", help="words of the title (3 letters or more)")
    recover.set_defaults(handler=_recover)


def _office_list(ctx: CliContext) -> int:
    kind = ctx.args.kind
    if ctx.args.at and kind != "hold-shelf":
        raise InvalidInput("--at CODE chooses one branch's hold shelf; use it with hold-shelf.")
    if ctx.args.all and kind not in ("discrepancies", "not-found"):
        raise InvalidInput("--all adds closed or reviewed entries: discrepancies, not-found.")
    lister, empty = LISTS[kind]
    rt, actor = ctx.runtime(), ctx.office_actor()
    rows = lister(rt, actor, ctx)
    shown_patrons(rt, actor, [r.get("patron_id") for r, _ in rows], f"office list {kind}")
    for record, text in rows:
        ctx.emit({"list": kind, **record}, text)
    ctx.say(f"{len(rows)} row{'' if len(rows) == 1 else 's'}." if rows else empty)
    return EXIT_OK


def recovered_record(item: RecoveredItem) -> Row:
    """One item found by barcode recovery; keys are part of the CLI's contract."""
    return {
        "barcode": item.barcode,
        "title": item.title,
        "status": item.status,
        "status_words": item.status_words,
        "branch": item.branch,
        "patron_id": item.patron_id,
        "patron_name": item.patron_name,
        "has_it": item.has_it,
        "due_date": item.due_date,
        "request_number": item.request_number,
    }


def _recovered_line(item: RecoveredItem) -> str:
    who = f"{item.patron_name} ({item.patron_id})" if item.patron_id else "-"
    holds = "has it" if item.has_it else "requested it"
    due = f"  due {item.due_date.isoformat()}" if item.due_date else ""
    return f"{item.barcode}  {item.title}  {item.status_words}  {who} {holds}{due}"


def _recover(ctx: CliContext) -> int:
    rt, actor = ctx.runtime(), ctx.actor()
    if ctx.args.patron is not None:
        found = items_with_patron(rt, actor, ctx.args.patron)  # audited by the service
        items = found.items
        empty = f"{found.patron_name} ({found.patron_id}) has no ILL item in hand."
    else:
        items = search_temporary_by_title(rt, actor, ctx.args.title)
        shown_patrons(rt, actor, [i.patron_id for i in items], "recover")
        empty = "No ILL item with us has a title with those words."
    for item in items:
        ctx.emit(recovered_record(item), _recovered_line(item))
    ctx.say(f"{len(items)} item{'' if len(items) == 1 else 's'}." if items else empty)
    return EXIT_OK
