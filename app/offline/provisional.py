"""The desk's answer while the database is away: journal the scan, guess from the snapshot.

`ProvisionalDesk` is the `app.desk.offline_fallback.OfflineFallback` a desk session hands
to `check_in` (and the check-out screen): built once per desk, it owns this workstation's
journal, so every scan of the desk goes through one lock. Whoever shows the count of
waiting scans (the status bar) passes `on_journaled`, a plain callback run on the thread
that journaled, or asks `waiting()`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from app.borrowing.pieces import pieces_line
from app.desk.checkin import CheckInResult
from app.desk.checkin_wording import provisional
from app.desk.offline_fallback import ProvisionalCheckout
from app.desk.routing import Outcome, Tone, tone_of
from app.library.actors import Actor
from app.library.clock import Clock
from app.library.errors import ServiceError
from app.offline import snapshot
from app.offline.journal import JournalEntry, JournalError, OfflineAction, OfflineJournal

OFFLINE_REASON = "offline"  # `CheckInResult.reason` of a check-in taken offline


class ProvisionalDesk:
    """Journals a desk's check-ins and checkouts while the shared database cannot be reached."""

    def __init__(
        self,
        journal: OfflineJournal,
        clock: Clock,
        *,
        snapshot_at: Path | None = None,
        on_journaled: Callable[[], None] | None = None,
    ) -> None:
        self.journal = journal
        self.clock = clock
        self.snapshot_at = snapshot_at or journal.directory / snapshot.SNAPSHOT_NAME
        self.on_journaled = on_journaled
        # Offline checkouts are a library setting; until it has been read online, no.
        self.checkouts_allowed = False

    def waiting(self) -> int:
        """Scans in the journal, not yet replayed."""
        return self.journal.pending()

    def check_in(self, actor: Actor, barcode: str, key: str | None) -> CheckInResult:
        """Journal one check-in and say, provisionally, where the item goes.

        The scan is on disk (fsynced) before this returns. `key` is the idempotency key the
        scan was already tried with online, if any: the replay applies it once.
        """
        now = self.clock.now()
        guess = snapshot.guess(actor.branch_code, barcode, self.clock.today(), self.snapshot_at)
        self._journal(
            actor,
            at=now,
            action=OfflineAction.CHECKIN,
            barcode=barcode,
            provisional=guess.outcome,
            key=key,
        )
        wording = provisional(guess.headline, guess.destination, known=guess.known)
        if not guess.known:
            return CheckInResult(
                barcode=barcode,
                outcome=Outcome.NOT_FOUND,
                routing=Outcome.NOT_FOUND,
                tone=Tone.PROBLEM,
                headline=wording.headline,
                instructions=wording.instructions,
                at=now,
                reason=OFFLINE_REASON,
            )
        outcome = Outcome(guess.outcome)
        instructions = wording.instructions
        if guess.pieces > 1:  # first, as online: before the item leaves the desk
            instructions = (pieces_line(guess.pieces), *instructions)
        return CheckInResult(
            barcode=barcode,
            outcome=outcome,
            routing=outcome,
            tone=tone_of(outcome),
            headline=wording.headline,
            instructions=instructions,
            at=now,
            destination=guess.destination,
            title=guess.title,
            reason=OFFLINE_REASON,
            pieces=guess.pieces,
        )

    def check_out(
        self, actor: Actor, patron: str, barcode: str, strap_due: date, *, key: str | None = None
    ) -> ProvisionalCheckout:
        """Journal one checkout; the replay checks it out to `patron` when the database is
        back (if the library still allows offline checkouts). Until then the due date is the
        lender's date on the strap.
        """
        self._journal(
            actor,
            at=self.clock.now(),
            action=OfflineAction.CHECKOUT,
            barcode=barcode,
            patron=patron,
            provisional=f"strap_due {strap_due.isoformat()}",
            key=key,
        )
        return ProvisionalCheckout(barcode, patron, strap_due)

    def _journal(
        self,
        actor: Actor,
        *,
        at: datetime,
        action: OfflineAction,
        barcode: str,
        patron: str | None = None,
        provisional: str = "",
        key: str | None = None,
    ) -> JournalEntry:
        try:
            written = self.journal.record(
                at=at,
                branch=actor.branch_code,
                staff=actor.username,
                action=action,
                barcode=barcode,
                patron=patron,
                workstation=actor.workstation,
                provisional=provisional,
                key=key,
            )
        except JournalError as exc:
            raise ServiceError(exc.args[0]) from exc
        if self.on_journaled is not None:
            self.on_journaled()
        return written
