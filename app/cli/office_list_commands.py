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
from app.borrowing.missing_pieces import (
    MissingPieceRow,
    clear_missing_piece,
    missing_pieces,
    report_missing_piece,
)
from app.borrowing.pieces import pieces_suffix
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
                "pieces": t.pieces,
            },
            f"{t.barcode}  {t.from_branch} -> {t.to_branch}  {t.age_days} days"
            f"{pieces_suffix(t.pieces)}"
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
                "pieces": h.pieces,
            },
            f"{h.branch:<8} {h.barcode}{pieces_suffix(h.pieces)}  "
            f"pickup by {h.pickup_by.isoformat()}"
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
                "pieces": r.pieces,
            },
            f"{r.received_at:%H:%M}  {r.strap_barcode}{pieces_suffix(r.pieces)}  "
            f"{r.request_number}  -> "
            f"{r.destination or '-'}  {r.patron}  {r.title}",
        )
        for r in office_lists.received_on(rt, actor)
    ]


def missing_piece_record(m: MissingPieceRow) -> Row:
    """One missing-piece flag; keys are part of the CLI's contract."""
    return {
        "id": m.id,
        "at": m.at,
        "barcode": m.barcode,
        "title": m.title,
        "request_number": m.request_number,
        "pieces": m.pieces,
        "patron": m.patron,
        "patron_id": m.patron_id,
        "lender": m.lender,
        "branch": m.branch,
        "staff": m.staff,
        "note": m.note,
        "cleared": m.cleared,
        "clear_note": m.clear_note,
    }


def missing_piece_line(m: MissingPieceRow) -> str:
    return (
        f"{m.id:>6}  {m.at:%Y-%m-%d}  {m.branch:<8} {m.barcode}  {m.pieces} pieces  "
        f"{m.title}{'  (cleared)' if m.cleared else ''}"
    )


def _missing_pieces(rt: Runtime, actor: Actor, ctx: CliContext) -> list[tuple[Row, str]]:
    return [
        (missing_piece_record(m), missing_piece_line(m))
        for m in missing_pieces(rt, actor, include_cleared=ctx.args.all)
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
    "missing-pieces": (_missing_pieces, "No item is waiting for a missing piece."),
}
_WITH_ALL = ("discrepancies", "not-found", "missing-pieces")


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
            "received-today: items received today; missing-pieces: multi-piece items back "
            "without all their pieces (--all: cleared ones too).",
        )
    )
    listing.add_argument("kind", choices=tuple(LISTS), metavar="KIND", help=", ".join(LISTS))
    listing.add_argument("--at", default=None, metavar="CODE", help="hold-shelf: one branch")
    listing.add_argument(
        "--all",
        action="store_true",
        help="discrepancies, not-found, missing-pieces: include closed/reviewed/cleared",
    )
    listing.set_defaults(handler=_office_list)

    clear = office_options(
        office_sub.add_parser(
            "clear-piece",
            help="clear a missing-piece flag once the piece turned up (ILL office)",
            description="Takes a flag off the missing-pieces list, with a note saying what "
            "happened; audited. ID is the flag's `id` in `office list missing-pieces`.",
        )
    )
    clear.add_argument("flag_id", type=int, metavar="ID")
    clear.add_argument("--note", required=True, help="what happened, e.g. 'CD found'")
    clear.set_defaults(handler=_clear_piece)

    missing = sub.add_parser(
        "missing-piece",
        help="flag a multi-piece item that came back without all its pieces",
        description="Puts the item on the ILL office's missing-pieces list (desk staff and "
        "up; audited). Reporting it again while the flag is open changes nothing.",
    )
    missing.add_argument("--branch", required=True, help="branch code this desk runs at")
    missing.add_argument("--staff", required=True, help="username of the staff member")
    missing.add_argument("--note", default="", help="what is missing, e.g. 'the CD'")
    missing.add_argument("barcode", metavar="BARCODE", help="strap barcode of the item")
    missing.set_defaults(handler=_missing_piece)

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
    if ctx.args.all and kind not in _WITH_ALL:
        raise InvalidInput(
            "--all adds closed, reviewed or cleared entries: " + ", ".join(_WITH_ALL) + "."
        )
    lister, empty = LISTS[kind]
    rt, actor = ctx.runtime(), ctx.office_actor()
    rows = lister(rt, actor, ctx)
    shown_patrons(rt, actor, [r.get("patron_id") for r, _ in rows], f"office list {kind}")
    for record, text in rows:
        ctx.emit({"list": kind, **record}, text)
    ctx.say(f"{len(rows)} row{'' if len(rows) == 1 else 's'}." if rows else empty)
    return EXIT_OK


def _clear_piece(ctx: CliContext) -> int:
    rt, actor = ctx.runtime(), ctx.office_actor()
    row = clear_missing_piece(rt, actor, ctx.args.flag_id, ctx.args.note)
    shown_patrons(rt, actor, [row.patron_id], "office clear-piece")
    ctx.emit(missing_piece_record(row), f"Cleared: {missing_piece_line(row)}  {row.clear_note}")
    return EXIT_OK


def _missing_piece(ctx: CliContext) -> int:
    rt, actor = ctx.runtime(), ctx.actor()
    row = report_missing_piece(rt, actor, ctx.args.barcode, ctx.args.note)
    shown_patrons(rt, actor, [row.patron_id], "missing-piece")
    ctx.emit(
        missing_piece_record(row),
        f"Flagged for the ILL office: {missing_piece_line(row)}. Send it to the ILL office "
        "with what did come back.",
    )
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
