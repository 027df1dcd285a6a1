"""Patron data printed by a command is a look at those patrons' records, audited as at the window.

The window records a `patron.view` when staff open a patron's account, a notice or their
charges; a command that prints a list of patrons' data records one for each patron it
shows, naming the signed-in staff member, before anything is printed.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.library.actors import Actor
from app.library.runtime import Runtime
from app.records.patron_views import record_patrons_listed

COMMAND_LINE = "command line"


def shown_patrons(rt: Runtime, actor: Actor, campus_ids: Iterable[str | None], what: str) -> int:
    """Audit that `actor` is about to see these patrons' data (campus IDs) via `what`."""
    return record_patrons_listed(rt, actor, campus_ids, detail=f"{COMMAND_LINE}: {what}")
