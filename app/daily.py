"""The once-a-day run a desk starts: anonymising old loans, and the closures calendar.

Whichever desk gets there first each library day claims it (`privacy.run_if_due`); the same
run keeps this year's and next year's public holidays in the closures, so a strap date never
lands on a holiday nobody entered. It sits above the packages it uses: privacy (records)
and the calendar (borrowing) know nothing of each other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.borrowing.due_dates import HOLIDAY_RENEWAL, renew_public_holidays
from app.library.actors import Actor
from app.library.errors import ServiceError
from app.library.progress import Progress, no_progress
from app.library.runtime import Runtime
from app.records import privacy

log = logging.getLogger(__name__)


def run_if_due(
    rt: Runtime,
    actor: Actor | None = None,
    *,
    batch: int | None = None,
    keep_going: Callable[[], bool] = lambda: True,
    progress: Progress = no_progress,
) -> privacy.AnonymisationReport | None:
    """Today's run, once per library day; None when another desk has run it already."""
    report = privacy.run_if_due(
        rt, actor, batch=batch, keep_going=keep_going, progress=progress
    )
    if report is not None:
        _renew_public_holidays(rt)
    return report


def _renew_public_holidays(rt: Runtime) -> None:
    """A holiday problem (an unknown holiday country) is logged; the rest of the run stands."""
    try:
        renewal = renew_public_holidays(rt, HOLIDAY_RENEWAL)
    except ServiceError as exc:
        log.warning("public holidays not renewed: %s", exc.message)
        return
    if renewal is not None:
        log.info("public holidays: %s", renewal.message)
