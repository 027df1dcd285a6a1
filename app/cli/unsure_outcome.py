"""A CLI scan whose commit reply was lost while the database cannot be asked.

The scan goes into this PC's offline journal with the key it was sent with, so
`illdesk offline replay` checks it once the database answers: "already applied" when the
commit had happened, applied then otherwise. The user is told "not sure", never "nothing
was changed".
"""

from __future__ import annotations

from typing import Any

from app.cli.context import CliContext
from app.library.actors import Actor
from app.library.errors import OutcomeUnknown
from app.library.scanning import InvalidScan, normalize_scan
from app.offline.journal import JournalError, OfflineAction, OfflineJournal

EXIT_DATABASE = 3


def report_unsure(
    ctx: CliContext,
    actor: Actor,
    exc: OutcomeUnknown,
    action: OfflineAction,
    raw: str,
    patron: str | None = None,
) -> int:
    """Journal the scan under its key, say "not sure", and give the database exit code."""
    scan = normalize_scan(raw)
    barcode = scan.shown if isinstance(scan, InvalidScan) else scan.barcode
    journal = OfflineJournal()
    record: dict[str, Any] = {
        "barcode": barcode,
        "outcome": "not_sure",
        "key": exc.key,
        "message": exc.message,
        "journal": str(journal.path),
    }
    try:
        journal.record(
            at=ctx.clock.now(),
            branch=actor.branch_code,
            staff=actor.username,
            action=action,
            barcode=barcode,
            patron=patron,
            workstation=actor.workstation,
            provisional="not_sure",
            key=exc.key,
        )
        text = (
            f"{barcode}  not_sure  {exc.message} It waits in {journal.path}: "
            "`illdesk offline replay` checks it."
        )
    except JournalError as failed:
        record["journal"] = None
        text = (
            f"{barcode}  not_sure  {exc.message} {failed} Key to quote to the ILL office: "
            f"{exc.key}."
        )
    ctx.emit(record, text)
    return EXIT_DATABASE
