"""ILL office commands: receive, print straps (the waiting ones too), cancel, renewals,
ship back.

Each takes --staff (an ILL office account) and --branch, which defaults to the library's
ILL office branch (WS-ILL in the example library).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from app.borrowing.receiving import ReceiveForm, receive_item
from app.borrowing.renewals import record_renewal
from app.borrowing.requests import cancel_request
from app.borrowing.ship_back import ship_back
from app.borrowing.strap_queue import EMPTY_QUEUE, mark_straps_printed, waiting_straps
from app.cli.context import CliContext, office_options
from app.library.errors import InvalidInput
from app.printing import LAYOUT_NAMES
from app.workstation.private_files import write_owner_only

EXIT_OK = 0


def register(sub: Any) -> None:
    receive = office_options(
        sub.add_parser(
            "receive",
            help="ILL office: receive a borrowed item, make its strap, send it on",
            description="Creates the temporary item with a new strap barcode and starts its "
            "transit to the pickup branch (or puts it on the hold shelf at the ILL office's "
            "campus). Prints the strap to --strap-pdf when given.",
        )
    )
    receive.add_argument("request_number", metavar="REQUEST_NUMBER")
    receive.add_argument("--lender", required=True, metavar="SYMBOL", help="lender's OCLC symbol")
    receive.add_argument("--due", required=True, metavar="YYYY-MM-DD", help="lender's due date")
    receive.add_argument("--in-library-use", action="store_true", help="in-library use only")
    receive.add_argument("--lender-barcode", default="", metavar="X", help="lender's own barcode")
    receive.add_argument("--note", default="", help="a note kept with the item")
    receive.add_argument(
        "--pieces",
        type=int,
        default=1,
        metavar="N",
        help="how many physical pieces came (a book with a CD: 2); the strap says it",
    )
    receive.add_argument(
        "--reason", default="", help="why a lender's date more than two years ahead is right"
    )
    receive.add_argument("--strap-pdf", type=Path, metavar="FILE", help="write the strap here")
    receive.add_argument("--layout", choices=LAYOUT_NAMES, default="letter3")
    receive.set_defaults(handler=_receive)

    for name in ("straps", "strap"):  # `strap print` as before; `straps` reads better
        _register_straps(sub, name)

    cancel = office_options(
        sub.add_parser("cancel", help="ILL office: cancel a request (patron is told)")
    )
    cancel.add_argument("request_number", metavar="REQUEST_NUMBER")
    cancel.add_argument("--reason", required=True, help="why; the patron's notice says it")
    cancel.set_defaults(handler=_cancel)

    renewal = office_options(
        sub.add_parser("renewal", help="ILL office: record the lender's renewal answer")
    )
    renewal.add_argument("request_number", metavar="REQUEST_NUMBER")
    decision = renewal.add_mutually_exclusive_group(required=True)
    decision.add_argument("--approve", action="store_true", help="the lender granted it")
    decision.add_argument("--deny", action="store_true", help="the lender refused it")
    renewal.add_argument("--due", metavar="YYYY-MM-DD", help="new due date (with --approve)")
    renewal.add_argument(
        "--reason", default="", help="why a new date more than two years ahead is right"
    )
    renewal.set_defaults(handler=_renewal)

    ship = office_options(
        sub.add_parser("ship-back", help="ILL office: item shipped back to its lender")
    )
    ship.add_argument("barcode", metavar="BARCODE")
    ship.set_defaults(handler=_ship_back)


def _register_straps(sub: Any, name: str) -> None:
    strap = sub.add_parser(
        name,
        help="ILL office: book straps, and the straps waiting to print"
        + (" (the same as straps)" if name == "strap" else ""),
        description="Straps of received items wait in the ILL office's print queue until "
        "they are printed (items the ILL system receives over NCIP arrive with nobody at "
        "the window). `waiting` lists the queue; `print --waiting` prints it.",
    )
    strap_sub = strap.add_subparsers(dest="strap_command", required=True)
    print_parser = office_options(
        strap_sub.add_parser(
            "print",
            help="write straps for request numbers or strap barcodes (or the waiting ones) "
            "to one PDF; the straps printed leave the print queue",
        )
    )
    print_parser.add_argument("refs", nargs="*", metavar="REQUEST_NUMBER|BARCODE")
    print_parser.add_argument(
        "--waiting", action="store_true", help="every strap waiting to print, oldest first"
    )
    print_parser.add_argument("--out", required=True, type=Path, metavar="FILE.pdf")
    print_parser.add_argument("--layout", choices=LAYOUT_NAMES, default="letter3")
    print_parser.set_defaults(handler=_strap_print)
    waiting = office_options(
        strap_sub.add_parser("waiting", help="the straps waiting to print, oldest first")
    )
    waiting.set_defaults(handler=_straps_waiting)


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{option} '{text}' is not a date; write it as YYYY-MM-DD.") from None


def _write(path: Path, data: bytes) -> None:
    try:
        write_owner_only(path, data)  # a strap names its patron
    except OSError as exc:
        raise InvalidInput(f"Cannot write {path}: {exc.strerror or exc}.") from exc


def _receive(ctx: CliContext) -> int:
    actor = ctx.office_actor()
    form = ReceiveForm(
        request_number=ctx.args.request_number,
        lender_symbol=ctx.args.lender,
        lender_due_date=_date(ctx.args.due, "--due"),
        in_library_use_only=ctx.args.in_library_use,
        lender_barcode=ctx.args.lender_barcode,
        note=ctx.args.note,
        override_reason=ctx.args.reason,
        pieces=ctx.args.pieces,
    )
    rt = ctx.runtime()
    result = receive_item(rt, actor, form)
    strap_file = None
    if ctx.args.strap_pdf is not None:
        from app.borrowing.strap_data import strap_pdf  # ReportLab only when printing

        _write(ctx.args.strap_pdf, strap_pdf(rt, actor, [result.strap_barcode], ctx.args.layout))
        strap_file = str(ctx.args.strap_pdf)
        mark_straps_printed(
            rt, actor, [result.strap_barcode], f"command line: PDF {ctx.args.strap_pdf.name}"
        )
    ctx.emit(
        {
            "strap_barcode": result.strap_barcode,
            "request_number": result.request_number,
            "destination": result.destination,
            "outcome": result.outcome.value,
            "title": result.title,
            "lender": result.lender_symbol,
            "lender_due_date": result.lender_due_date.isoformat(),
            "in_library_use_only": result.in_library_use_only,
            "pieces": result.pieces,
            "pickup_by": result.pickup_by.isoformat() if result.pickup_by else None,
            "instruction": result.instruction,
            "strap_pdf": strap_file,
        },
        f"Received {result.request_number}: strap {result.strap_barcode}. {result.instruction}"
        + (f" Strap written to {strap_file}." if strap_file else ""),
    )
    return EXIT_OK


def _strap_print(ctx: CliContext) -> int:
    from app.borrowing.strap_data import strap_style, straps_for, straps_waiting
    from app.printing.straps import render_straps

    if ctx.args.waiting == bool(ctx.args.refs):
        raise InvalidInput(
            "Give request numbers or strap barcodes, or --waiting for every strap waiting "
            "to print (not both)."
        )
    actor = ctx.office_actor()
    rt = ctx.runtime()
    straps = straps_waiting(rt, actor) if ctx.args.waiting else straps_for(rt, actor, ctx.args.refs)
    if not straps:
        ctx.emit(
            {"out": None, "layout": ctx.args.layout, "straps": [], "marked_printed": []},
            f"Nothing written. {EMPTY_QUEUE}",
        )
        return EXIT_OK
    _write(ctx.args.out, render_straps(straps, strap_style(rt, actor), ctx.args.layout))
    # Written: these straps are printed (a file the office prints), so they leave the queue.
    marked = mark_straps_printed(
        rt, actor, [s.strap_barcode for s in straps], f"command line: PDF {ctx.args.out.name}"
    )
    ctx.emit(
        {
            "out": str(ctx.args.out),
            "layout": ctx.args.layout,
            "straps": [s.strap_barcode for s in straps],
            "marked_printed": marked,
        },
        f"Wrote {len(straps)} strap(s) to {ctx.args.out} ({ctx.args.layout})."
        + (f" {len(marked)} left the print queue." if marked else ""),
    )
    return EXIT_OK


def _straps_waiting(ctx: CliContext) -> int:
    waiting = waiting_straps(ctx.runtime(), ctx.office_actor())
    if not waiting:
        ctx.say(EMPTY_QUEUE)
    for strap in waiting:
        ctx.emit(
            {
                "strap_barcode": strap.strap_barcode,
                "request_number": strap.request_number,
                "title": strap.title,
                "destination": strap.destination,
                "in_library_use_only": strap.in_library_use_only,
                "queued_at": strap.queued_at.isoformat(),
            },
            f"{strap.strap_barcode}  {strap.request_number}  to {strap.destination or '?'}  "
            f"{strap.title}  (waiting since {strap.queued_at:%Y-%m-%d %H:%M} UTC)",
        )
    return EXIT_OK


def _cancel(ctx: CliContext) -> int:
    view = cancel_request(
        ctx.runtime(), ctx.office_actor(), ctx.args.request_number, ctx.args.reason
    )
    ctx.emit(
        {
            "request_number": view.request_number,
            "status": view.status.value,
            "reason": view.cancel_reason,
            "patron_id": view.patron_id,
        },
        f"Cancelled {view.request_number}: {view.cancel_reason} (the patron will be told).",
    )
    return EXIT_OK


def _renewal(ctx: CliContext) -> int:
    if ctx.args.approve and not ctx.args.due:
        raise InvalidInput("--approve needs --due YYYY-MM-DD, the new date the lender gave.")
    if ctx.args.deny and ctx.args.due:
        raise InvalidInput("--deny keeps the due date; leave out --due.")
    new_due = _date(ctx.args.due, "--due") if ctx.args.approve else None
    result = record_renewal(
        ctx.runtime(), ctx.office_actor(), ctx.args.request_number, approved=ctx.args.approve,
        new_due=new_due, override_reason=ctx.args.reason,
    )  # fmt: skip
    text = (
        f"Renewal approved for {result.request_number}: due {result.new_due_date.isoformat()} "
        f"(was {result.old_due_date.isoformat()})."
        if result.approved
        else f"Renewal denied for {result.request_number}: still due "
        f"{result.old_due_date.isoformat()}."
    )
    ctx.emit(result, text + " The patron will be told.")
    return EXIT_OK


def _ship_back(ctx: CliContext) -> int:
    shipped = ship_back(ctx.runtime(), ctx.office_actor(), ctx.args.barcode)
    ctx.emit(
        shipped,
        f"Shipped {shipped.barcode} ({shipped.title}) back to {shipped.lender or 'the lender'}; "
        f"request {shipped.request_number} closed."
        + (f" {shipped.reminder}" if shipped.reminder else ""),
    )
    return EXIT_OK
