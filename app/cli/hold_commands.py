"""`illdesk holds expired --branch CODE`: the campus's holds to pull today.

illdesk holds expired --branch METRO --staff desk --json
"""

from __future__ import annotations

import argparse
from typing import Any

from app.borrowing.pieces import pieces_to_pull
from app.cli.context import CliContext
from app.cli.patron_reads import shown_patrons
from app.desk.holds_to_pull import HoldToPull, holds_to_pull

EXIT_OK = 0


def register(sub: Any) -> None:
    holds = sub.add_parser("holds", help="campus: hold-shelf lists")
    holds_sub = holds.add_subparsers(dest="holds_command", required=True, metavar="LIST")
    expired: argparse.ArgumentParser = holds_sub.add_parser(
        "expired",
        help="holds past their pickup-by date: pull them today",
        description="The items on the campus's hold shelf whose pickup-by date has passed, the "
        "oldest first. Pull each and check it in: it goes back to the ILL office (WS-ILL).",
    )
    expired.add_argument("--branch", required=True, metavar="CODE", help="the campus")
    expired.add_argument("--staff", required=True, help="username of the staff member")
    expired.set_defaults(handler=_expired)


def record(row: HoldToPull) -> dict[str, Any]:
    """The JSON object for one hold; keys are part of the CLI's contract."""
    return {
        "branch": row.branch,
        "barcode": row.barcode,
        "title": row.title,
        "patron": row.patron,
        "patron_id": row.patron_id,
        "pickup_by": row.pickup_by.isoformat(),
        "days_past": row.days_past,
        "in_library_use_only": row.in_library_use_only,
        "pieces": row.pieces,
    }


def _expired(ctx: CliContext) -> int:
    rt, actor = ctx.runtime(), ctx.actor()
    rows = holds_to_pull(rt, actor, ctx.args.branch)
    shown_patrons(rt, actor, [r.patron_id for r in rows], "holds expired")
    for row in rows:
        flags = (
            "in library use only" if row.in_library_use_only else "",
            pieces_to_pull(row.pieces),
        )
        flag = "".join(f"  ({words})" for words in flags if words)
        ctx.emit(
            record(row),
            f"{row.barcode}  {row.title[:40]:40}  {row.patron}  pickup by "
            f"{row.pickup_by.isoformat()} ({row.days_past} days ago){flag}",
        )
    if not ctx.json:
        ctx.out.write(f"{len(rows)} holds to pull at {ctx.args.branch.upper()}.\n")
    return EXIT_OK
