"""Offline mode: keep scanning when the shared database is away, replay when it is back.

The status bar gets an "offline: N scans waiting" label. A check-in that fails because the
database cannot be reached is written to the offline journal (fsynced) and the banner
shows the snapshot's provisional routing, or "Unknown: keep aside". A checkout is
journaled the same way when the library allows offline checkouts. When the status bar's
connection check answers again the journal is replayed automatically on a worker thread,
and conflicts are named in the status bar (the CLI lists them in full).

While online, the same worker polls `app.records.change_feed` every few seconds (other desks'
changes refresh the current screen's lists) and refreshes the routing snapshot.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import date, datetime

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QLabel

from app.desk.checkin import CheckInResult, refused_scan
from app.desk.routing import Outcome, Tone, tone_of
from app.library.actors import Actor
from app.library.clock import Clock
from app.library.errors import ServiceError
from app.library.scanning import InvalidScan, normalize_scan
from app.offline import snapshot
from app.offline.journal import (
    JournalEntry,
    JournalError,
    OfflineAction,
    OfflineJournal,
    journal_dir,
)
from app.offline.replay import EntryStatus, ReplayReport, replay_journal
from app.records.change_feed import POLL_SECONDS, ChangeFeed
from ui.desk_session import DeskSession
from ui.status_bar import DeskStatusBar

log = logging.getLogger(__name__)

SNAPSHOT_EVERY_SECONDS = 600
OFFLINE_REASON = "offline"

_journals: dict[str, OfflineJournal] = {}


def desk_journal() -> OfflineJournal:
    """This workstation's journal (one object per data directory, so one lock)."""
    directory = journal_dir()
    key = str(directory)
    if key not in _journals:
        _journals[key] = OfflineJournal(directory)
    return _journals[key]


class _Events(QObject):
    journaled = Signal()  # a scan went into the journal (emitted from a worker thread)


_events = _Events()


def journal_check_in(
    clock: Clock, actor: Actor, raw: str, *, key: str | None = None
) -> CheckInResult:
    """Journal one check-in taken offline and say, provisionally, where the item goes.

    Called on the check-in worker thread; the scan is on disk before this returns. `key`
    is the idempotency key the scan was already tried with online, if any.
    """
    scan = normalize_scan(raw)
    now = clock.now()
    if isinstance(scan, InvalidScan):
        return refused_scan(scan, now)
    guess = snapshot.guess(actor.branch_code, scan.barcode, clock.today())
    _journal(
        actor,
        at=now,
        action=OfflineAction.CHECKIN,
        barcode=scan.barcode,
        provisional=guess.outcome,
        key=key,
    )
    saved = "Saved offline: it is checked in when the database is back."
    if not guess.known:
        return CheckInResult(
            barcode=scan.barcode,
            outcome=Outcome.NOT_FOUND,
            routing=Outcome.NOT_FOUND,
            tone=Tone.PROBLEM,
            headline="Unknown: keep aside",
            instructions=(
                "The database cannot be reached and this desk's offline copy does not know "
                "this barcode. Keep the item aside.",
                saved,
            ),
            at=now,
            reason=OFFLINE_REASON,
        )
    outcome = Outcome(guess.outcome)
    lines = [saved, "Provisional: check the result when the scans are replayed."]
    if guess.destination:
        lines.insert(0, f"Likely destination: {guess.destination}.")
    return CheckInResult(
        barcode=scan.barcode,
        outcome=outcome,
        routing=outcome,
        tone=tone_of(outcome),
        headline=guess.headline,
        instructions=tuple(lines),
        at=now,
        destination=guess.destination,
        title=guess.title,
        reason=OFFLINE_REASON,
    )


def journal_check_out(
    clock: Clock,
    actor: Actor,
    patron: str,
    barcode: str,
    strap_due: date,
    *,
    key: str | None = None,
) -> JournalEntry:
    """Journal one checkout taken offline; it is on disk (fsynced) before this returns.

    The replay checks it out to `patron` when the database is back (if the library still
    allows offline checkouts); until then the due date is the lender's date on the strap.
    """
    return _journal(
        actor,
        at=clock.now(),
        action=OfflineAction.CHECKOUT,
        barcode=barcode,
        patron=patron,
        provisional=f"strap_due {strap_due.isoformat()}",
        key=key,
    )


def _journal(
    actor: Actor,
    *,
    at: datetime,
    action: OfflineAction,
    barcode: str,
    patron: str | None = None,
    provisional: str = "",
    key: str | None = None,
) -> JournalEntry:
    """Write one desk action to this desk's journal (fsynced) and tell the status bar."""
    try:
        written = desk_journal().record(
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
    _events.journaled.emit()
    return written


class _Signals(QObject):
    replayed = Signal(object)  # ReplayReport
    polled = Signal(bool, bool)  # reachable, changed


class _Job(QRunnable):
    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self._work = work

    def run(self) -> None:
        self._work()


class OfflineMode(QObject):
    """Status-bar indicator, automatic replay, change polling and snapshot refresh."""

    changedElsewhere = Signal()  # another desk changed something: refresh lists
    replayFinished = Signal(object)  # ReplayReport

    def __init__(self, session: DeskSession, status: DeskStatusBar, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.status = status
        self.journal = desk_journal()
        self.feed = ChangeFeed(session.rt.db)
        self.label = QLabel("", status)
        self.label.setObjectName("statusOffline")
        self.label.setContentsMargins(8, 0, 8, 0)
        status.addPermanentWidget(self.label)
        self.label.hide()
        self.last_report: ReplayReport | None = None
        self._offline = False
        self._replaying = False
        self._polling = False
        self._snapshot_at = 0.0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.replayed.connect(self._on_replayed)
        self._signals.polled.connect(self._on_polled)
        _events.journaled.connect(self._on_journaled)
        status.checked.connect(self._on_checked)
        self._timer = QTimer(self)
        self._timer.setObjectName("changeFeedTimer")
        self._timer.setInterval(int(POLL_SECONDS * 1000))
        self._timer.timeout.connect(self.poll_now)
        self.update_label()

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        with contextlib.suppress(RuntimeError, TypeError):  # already stopped
            _events.journaled.disconnect(self._on_journaled)
        self._pool.waitForDone(6000)

    @property
    def waiting(self) -> int:
        return self.journal.pending()

    def update_label(self) -> None:
        waiting = self.waiting
        if self._offline:
            text = f"offline: {waiting} scans waiting"
        elif waiting:
            text = f"{waiting} offline scans waiting to be replayed"
        elif self.last_report is not None and self.last_report.conflicts:
            report = self.last_report
            text = f"offline replay: {len(report.conflicts)} conflicts to check (hover to read)"
            lines = [f"{c.barcode or '?'}: {c.code}: {c.explanation}" for c in report.conflicts]
            if report.archived:
                lines.append(f"Listed again by: illdesk offline replay {report.archived}")
            self.label.setToolTip("\n".join(lines))
        else:
            self.label.hide()
            return
        self.label.setText(text)
        self.label.setProperty("state", "down" if self._offline else "warn")
        self.label.show()

    # -- events -----------------------------------------------------------------------

    def _on_journaled(self) -> None:
        self._offline = True
        self.update_label()
        self.status.check_now()

    def _on_checked(self, reachable: bool) -> None:
        self._offline = not reachable
        if reachable and self.waiting and not self._replaying:
            self.replay_now()
        self.update_label()

    def replay_now(self) -> None:
        """Replay the journal on the worker thread (also on demand)."""
        if self._replaying:
            return
        self._replaying = True
        rt, signals = self.session.rt, self._signals

        def work() -> None:
            try:
                report = replay_journal(rt, self.journal)
            except Exception:  # keep the journal; the next check tries again
                log.exception("offline replay failed")
                report = ReplayReport(())
            signals.replayed.emit(report)

        self._pool.start(_Job(work))

    def _on_replayed(self, report: ReplayReport) -> None:
        self._replaying = False
        if report.entries:
            self.last_report = report
            log.info(
                "offline replay: %d applied, %d conflicts, %d not replayed",
                report.count(EntryStatus.APPLIED),
                report.count(EntryStatus.CONFLICT),
                report.count(EntryStatus.NOT_REPLAYED),
            )
            self.changedElsewhere.emit()
        self.update_label()
        self.replayFinished.emit(report)

    def poll_now(self) -> None:
        if self._polling or self._replaying:
            return
        self._polling = True
        feed, signals, db = self.feed, self._signals, self.session.rt.db
        refresh_snapshot = time.monotonic() - self._snapshot_at > SNAPSHOT_EVERY_SECONDS

        def work() -> None:
            try:
                changed = feed.poll()
                if refresh_snapshot:
                    snapshot.refresh(db)
            except Exception as exc:
                log.info("change poll failed: %s", str(exc).splitlines()[0] if str(exc) else exc)
                signals.polled.emit(False, False)
            else:
                signals.polled.emit(True, changed)

        if refresh_snapshot:
            self._snapshot_at = time.monotonic()
        self._pool.start(_Job(work))

    def _on_polled(self, reachable: bool, changed: bool) -> None:
        self._polling = False
        if not reachable and not self._offline:
            self.status.check_now()  # the status bar confirms and says so at once
            self._snapshot_at = 0.0
        if reachable and self._offline:
            self.status.check_now()
        if changed:
            self.changedElsewhere.emit()
