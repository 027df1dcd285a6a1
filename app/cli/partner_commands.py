"""`illdesk partners ...`: the partner directory (OCLC symbol, name, ILL office e-mail).

Lender-side overdue and lost messages are e-mailed to the address kept here
(`illdesk lend message ID --email`). Keys are part of the command line's contract.
"""

from __future__ import annotations

from typing import Any

from app.cli.context import CliContext, office_options
from app.lending import partner_directory
from app.lending.partner_directory import PartnerView

EXIT_OK = 0


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "partners",
        help="the partner directory: partner libraries' names and ILL office e-mail",
        description="Partner libraries by OCLC symbol, with the address lender-side and IFM "
        "messages are e-mailed to. ILL office and administrators. One JSON object per "
        "partner: symbol, name, email, updated_at, updated_by.",
    )
    steps = parser.add_subparsers(dest="partners_command", required=True, metavar="STEP")
    listing = steps.add_parser("list", help="list the partner directory, by symbol")
    office_options(listing)
    listing.set_defaults(handler=_list)
    put = steps.add_parser(
        "set",
        help="add a partner or change its e-mail or name (audited)",
        description="Add a partner library or change it. What is not given stays as it "
        "was; an empty --email '' removes the address.",
    )
    put.add_argument("symbol", metavar="SYMBOL", help="the partner's OCLC symbol, e.g. UIU")
    put.add_argument("--email", help="the partner's ILL office e-mail address")
    put.add_argument("--name", help="the library's name")
    office_options(put)
    put.set_defaults(handler=_set)


def partner_record(row: PartnerView) -> dict[str, Any]:
    return {
        "symbol": row.symbol,
        "name": row.name,
        "email": row.email,
        "updated_at": row.updated_at.isoformat(),
        "updated_by": row.updated_by,
    }


def _text(row: PartnerView) -> str:
    return f"{row.symbol:6} {row.email or '(no e-mail)':40} {row.name}"


def _list(ctx: CliContext) -> int:
    rows = partner_directory.list_partners(ctx.runtime(), ctx.office_actor())
    for row in rows:
        ctx.emit(partner_record(row), _text(row))
    if not rows:
        ctx.say("The partner directory is empty: add one with `illdesk partners set`.")
    return EXIT_OK


def _set(ctx: CliContext) -> int:
    a = ctx.args
    row = partner_directory.set_partner(
        ctx.runtime(), ctx.office_actor(), a.symbol, email=a.email, name=a.name
    )
    ctx.emit(partner_record(row), _text(row))
    return EXIT_OK
