"""`illdesk closures`: the closures calendar from the command line, as Admin edits it.

Closures move due dates (see `app.borrowing.due_dates`), so changing them is an
administrator's action, audited like the window's; listing them is open to anyone.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from app.borrowing import closures, due_dates
from app.borrowing.closures import ClosureInfo
from app.cli.context import CliContext
from app.library.errors import InvalidInput

EXIT_OK = 0


def _acting(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--staff", required=True, help="your staff username (an administrator)")
    parser.add_argument("--branch", required=True, help="the branch you work at, e.g. NEC")


def _for_branch(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--for", dest="for_branch", default=None, metavar="CODE", help=f"{what} (default: all)"
    )


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "closures",
        help="the closures calendar: holidays and breaks that move due dates",
        description="Dated closures (one branch, or every branch) and public holidays. Due "
        "dates that fall on a closed day move (library setting due_date_direction).",
    )
    closures_sub = parser.add_subparsers(dest="closures_command", required=True)
    listing = closures_sub.add_parser("list", help="closures in date order")
    listing.add_argument("--year", type=int, default=None, help="only closures in this year")
    _for_branch(listing, "only this branch's closures and those of every branch")

    add = closures_sub.add_parser("add", help="close from START to END (one day without END)")
    add.add_argument("start", metavar="START", help="first closed day, YYYY-MM-DD")
    add.add_argument("end", metavar="END", nargs="?", default=None, help="last closed day")
    add.add_argument("--reason", required=True, help="e.g. 'Winter break'")
    _for_branch(add, "close only this branch")
    _acting(add)

    remove = closures_sub.add_parser("remove", help="remove a closure by its id (see list)")
    remove.add_argument("id", type=int, metavar="ID")
    _acting(remove)

    holidays = closures_sub.add_parser(
        "holidays",
        help="add a year's public holidays (settings holiday_country, holiday_subdivision)",
        description="Adds each public holiday as a one-day closure; a day that already has "
        "one is left alone, so running it twice adds nothing.",
    )
    holidays.add_argument("year", type=int, metavar="YEAR")
    _for_branch(holidays, "close only this branch on those days")
    _acting(holidays)
    parser.set_defaults(handler=_closures)


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{what} '{text}' is not a date; write it as YYYY-MM-DD.") from None


def _record(info: ClosureInfo) -> dict[str, object]:
    return {
        "id": info.id,
        "branch": info.branch_code,
        "start_date": info.start_date,
        "end_date": info.end_date,
        "reason": info.reason,
    }


def _line(info: ClosureInfo) -> str:
    days = (
        info.start_date.isoformat()
        if info.start_date == info.end_date
        else f"{info.start_date.isoformat()} to {info.end_date.isoformat()}"
    )
    return f"{info.id:>5}  {days:<24}  {info.where:<12}  {info.reason}"


def _closures(ctx: CliContext) -> int:
    command, args, rt = ctx.args.closures_command, ctx.args, ctx.runtime()
    if command == "list":
        found = closures.list_closures(
            rt, ctx.reader(), year=args.year, branch_code=args.for_branch
        )
        for info in found:
            ctx.emit(_record(info), _line(info))
        if not found:
            ctx.say("No closures. `illdesk closures holidays YEAR` adds a year's public holidays.")
        return EXIT_OK
    actor = ctx.actor()
    if command == "add":
        start = _date(args.start, "START")
        end = _date(args.end, "END") if args.end else start
        info = closures.add_closure(rt, actor, start, end, args.reason, args.for_branch)
        ctx.emit(_record(info), f"Added closure {info.id}: {_line(info).strip()}")
    elif command == "remove":
        info = closures.remove_closure(rt, actor, args.id)
        ctx.emit(_record(info), f"Removed closure {info.id}: {_line(info).strip()}")
    else:
        fill = due_dates.add_public_holidays(rt, actor, args.year, branch_code=args.for_branch)
        where = f"{fill.country}/{fill.subdivision}" if fill.subdivision else fill.country
        ctx.emit(
            {
                "year": fill.year,
                "country": fill.country,
                "subdivision": fill.subdivision,
                "added": [{"date": day, "name": name} for day, name in fill.added],
                "already_there": fill.already_there,
            },
            f"Added {len(fill.added)} public holidays for {fill.year} ({where}); "
            f"{fill.already_there} were already in the calendar.",
        )
    return EXIT_OK
