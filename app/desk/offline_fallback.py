"""What the desk does with a scan when the database cannot be reached.

`check_in` and `check_out` hand a scan to an `OfflineFallback` when the engine
raises `DatabaseUnavailable`. `app.offline.provisional` implements it (journal the scan,
guess from the snapshot); it is given to the desk through its session, so `app.desk` never
imports `app.offline` (whose replay imports `app.desk`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol

from app.borrowing.due_dates import say_date
from app.library import library_settings
from app.library.actors import Actor
from app.library.errors import DatabaseUnavailable, InvalidInput
from app.library.runtime import Runtime
from app.library.scanning import InvalidScan, normalize_scan

OFFLINE_NOT_ALLOWED = (
    "The database cannot be reached and this library does not allow check-outs offline: "
    "keep the item on the hold shelf and check it out when the database is back."
)
ONLINE_ONLY = (
    "The database cannot be reached. This checkout is done online only: keep the item on "
    "the hold shelf and check it out when the database is back."
)
STRAP_DATE_NEEDED = (
    "Type the lender's date printed on the strap (a date after today). If that date has "
    "passed, keep the item on the hold shelf for the ILL office."
)

if TYPE_CHECKING:
    from app.desk.checkin import CheckInResult


@dataclass(frozen=True)
class ProvisionalCheckout:
    """A checkout saved offline: the replay checks it out when the database is back."""

    barcode: str
    patron: str
    strap_due: date  # the lender's date on the strap: the due date until the replay
    unsure: str = ""  # the reply to COMMIT was lost: why; the replay says whether it happened

    @property
    def headline(self) -> str:
        if self.unsure:
            return "Not sure it was checked out"
        return f"Saved offline: {self.barcode} for {self.patron}"

    @property
    def instructions(self) -> tuple[str, ...]:
        if self.unsure:
            return (self.unsure,)
        return (
            "Saved offline: checked out when the database is back; due date is provisional: "
            f"the lender's date on the strap, {say_date(self.strap_due)}.",
        )


class OfflineFallback(Protocol):
    """Takes a desk action while the database is away; it is on disk before this returns."""

    checkouts_allowed: bool  # the library's setting, as last read while online

    def check_in(self, actor: Actor, barcode: str, key: str | None) -> CheckInResult:
        """Journal a check-in of a cleaned barcode; say, provisionally, where it goes."""
        ...

    def check_out(
        self, actor: Actor, patron: str, barcode: str, strap_due: date, *, key: str | None = None
    ) -> ProvisionalCheckout:
        """Journal a checkout to `patron`, due by the strap's date until the replay."""
        ...


def offline_checkouts_allowed(rt: Runtime, actor: Actor) -> bool:
    """Whether this library lets a desk check out while the database is away (read online)."""
    with rt.db.reading() as session:
        return library_settings.load(session).offline_checkouts_allowed


def journal_checkout(
    rt: Runtime,
    actor: Actor,
    offline: OfflineFallback,
    patron_ref: str,
    barcode: str,
    strap_due: date,
) -> ProvisionalCheckout:
    """Save a checkout on this PC while the database is away; the replay makes it.

    Only the strap can say when the item is due, so its date must be after today; a strap
    whose date has passed goes back to the ILL office instead.
    """
    if not offline.checkouts_allowed:
        raise DatabaseUnavailable(OFFLINE_NOT_ALLOWED)
    if strap_due <= rt.clock.today():
        raise InvalidInput(STRAP_DATE_NEEDED, code="strap_date_needed")
    scan = normalize_scan(barcode)
    if isinstance(scan, InvalidScan):
        raise InvalidInput(scan.reason)
    return offline.check_out(actor, patron_ref, scan.barcode, strap_due)
