"""Printables from the command line: pull slips for a campus, the office lists on paper.

illdesk pull-slips --branch METRO --out metro-pulls.pdf --staff ctl
illdesk office-list transit --days 7 --out transit.pdf --staff office
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.cli.context import CliContext
from app.library.errors import InvalidInput
from app.workstation.private_files import write_owner_only

EXIT_OK = 0
LISTS = ("transit", "hold-shelf", "discrepancies")


def register(sub: Any) -> None:
    slips = sub.add_parser(
        "pull-slips",
        help="campus: print one pull slip per item to pull for lending",
        description="One page per lending request waiting to be pulled at the campus: title, "
        "borrower symbol, due date when set, and the item's barcode to scan.",
    )
    slips.add_argument("--branch", required=True, metavar="CODE", help="the campus")
    slips.add_argument("--staff", required=True, help="username (campus team lead or above)")
    slips.add_argument("--out", required=True, type=Path, metavar="FILE.pdf")
    slips.set_defaults(handler=_pull_slips)

    office = sub.add_parser(
        "office-list",
        help="ILL office: print a list (transit, hold-shelf, discrepancies)",
        description="transit: in transit longer than --days; hold-shelf: on the hold shelf "
        "past pickup-by (--branch for one); discrepancies: open due-date discrepancies.",
    )
    office.add_argument("which", choices=LISTS, metavar="LIST", help=", ".join(LISTS))
    office.add_argument(
        "--days",
        type=int,
        default=None,
        help="transit: older than this (default: the library's transit_overdue_days)",
    )
    office.add_argument("--branch", default="", metavar="CODE", help="hold-shelf: one branch")
    office.add_argument("--staff", required=True, help="username of an ILL office account")
    office.add_argument("--out", required=True, type=Path, metavar="FILE.pdf")
    office.set_defaults(handler=_office_list)


def _write(path: Path, data: bytes) -> None:
    try:
        write_owner_only(path, data)  # office lists name patrons; pull slips go the same way
    except OSError as exc:
        raise InvalidInput(f"Cannot write {path}: {exc.strerror or exc}.") from exc


def _pull_slips(ctx: CliContext) -> int:
    from app.lending.pull_slips import pull_slips_pdf

    actor = ctx.actor()
    count, pdf = pull_slips_pdf(ctx.runtime(), actor, ctx.args.branch)
    _write(ctx.args.out, pdf)
    ctx.emit(
        {"branch": actor.branch_code, "slips": count, "pdf": str(ctx.args.out)},
        f"{count} pull slips for {actor.branch_code} written to {ctx.args.out}.",
    )
    return EXIT_OK


def _office_list(ctx: CliContext) -> int:
    from app.borrowing.office_list_print import PrintableList, office_list_pdf

    if ctx.args.days is not None and ctx.args.days < 0:
        raise InvalidInput("--days cannot be negative; give 0 or more days.")
    actor = ctx.office_staff_actor()
    which = PrintableList(ctx.args.which)
    count, pdf = office_list_pdf(
        ctx.runtime(), actor, which, days=ctx.args.days, branch=ctx.args.branch
    )
    _write(ctx.args.out, pdf)
    ctx.emit(
        {"list": which.value, "rows": count, "pdf": str(ctx.args.out)},
        f"{which.value}: {count} rows written to {ctx.args.out}.",
    )
    return EXIT_OK
