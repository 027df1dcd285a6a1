"""Offline mode: keep scanning when the shared database is away, replay when it is back.

The status bar gets an "offline: N scans waiting" label. A check-in taken while the database
cannot be reached is journaled by the desk session's `app.offline.provisional.ProvisionalDesk`
(which `check_in` calls), and the banner shows the snapshot's provisional routing; the
desk tells this indicator through a plain callback. When the status bar's
connection check answers again the journal is replayed automatically on a worker thread,
and conflicts are named in the status bar (the CLI lists them in full).

While online, the same worker polls `app.records.change_feed` every few seconds (other desks'
changes refresh the current screen's lists) and refreshes the routing snapshot.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QLabel

from app.offline import snapshot
from app.offline.replay import EntryStatus, ReplayReport, replay_journal
from app.records.change_feed import POLL_SECONDS, ChangeFeed
from ui.desk_session import DeskSession
from ui.status_bar import DeskStatusBar

log = logging.getLogger(__name__)

SNAPSHOT_EVERY_SECONDS = 600


class _Signals(QObject):
    replayed = Signal(object)  # ReplayReport
    polled = Signal(bool, bool)  # reachable, changed
    journaled = Signal()  # a scan went into the journal (emitted on the thread that wrote it)


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
        self.journal = session.offline.journal
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
        self._signals.journaled.connect(self._on_journaled)
        self._notify = self._signals.journaled.emit
        session.offline.on_journaled = self._notify
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
        if self.session.offline.on_journaled is self._notify:
            self.session.offline.on_journaled = None
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
                report = replay_journal(rt, self.session.actor, self.journal)
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
