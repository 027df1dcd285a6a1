"""`illdesk checkin`: check in barcodes given as arguments or, with `-`, one per line on stdin.

Made for a book-drop bin processed as a batch: every barcode gets one answer (one JSON
object with --json), an unusable one included, and each check-in commits on its own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from app.cli.context import CliContext
from app.cli.unsure_outcome import report_unsure
from app.desk.checkin import CheckInResult, check_in
from app.desk.routing import Outcome
from app.library.errors import OutcomeUnknown
from app.offline.journal import OfflineAction

EXIT_OK, EXIT_REFUSED = 0, 1


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "checkin",
        help="check in items and say where each goes",
        description="Check in each barcode at the branch. Use - to read barcodes from "
        "standard input, one per line. Exit code 1 when any scan was not accepted.",
    )
    parser.add_argument("--branch", required=True, help="branch code this desk runs at, e.g. METRO")
    parser.add_argument("--staff", required=True, help="username of the staff member")
    parser.add_argument("barcodes", nargs="+", metavar="BARCODE", help="barcode, or - for stdin")
    parser.set_defaults(handler=_checkin)


def _barcodes(ctx: CliContext) -> Iterator[str]:
    for value in ctx.args.barcodes:
        if value == "-":
            for line in sys.stdin:
                if line.strip():
                    yield line.rstrip("\r\n")
        else:  # several barcodes pasted into one argument are several scans
            lines = [line for line in value.splitlines() if line.strip()]
            yield from lines or [value]


def record(result: CheckInResult) -> dict[str, Any]:
    """The JSON object for one barcode; keys are part of the CLI's contract."""
    return {
        "barcode": result.barcode,
        "outcome": result.outcome.value,
        "routing": result.routing.value,
        "destination": result.destination,
        "patron_id": result.patron_id,
        "patron_name": result.patron_name,
        "title": result.title,
        "item_barcode": result.item_barcode,
        "pickup_by": result.pickup_by.isoformat() if result.pickup_by else None,
        "headline": result.headline,
        "instructions": list(result.instructions),
        "reason": result.reason,
        "pieces": result.pieces,
    }


def _text(result: CheckInResult) -> str:
    lines = [f"{result.barcode or '(empty)'}  {result.outcome.value}  {result.headline}"]
    lines.extend(f"    {line}" for line in result.instructions)
    return "\n".join(lines)


def _checkin(ctx: CliContext) -> int:
    actor = ctx.actor()
    rt = ctx.runtime()
    refused = False
    for raw in _barcodes(ctx):
        try:
            result = check_in(rt, actor, raw)
        except OutcomeUnknown as exc:
            return report_unsure(ctx, actor, exc, OfflineAction.CHECKIN, raw)
        refused = refused or result.outcome is Outcome.INVALID_SCAN
        ctx.emit(record(result), _text(result))
    return EXIT_REFUSED if refused else EXIT_OK
