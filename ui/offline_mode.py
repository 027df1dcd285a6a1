"""Offline mode: keep scanning when the shared database is away, replay when it is back.

The status bar gets an "offline: N scans waiting" label. A check-in taken while the database
cannot be reached is journaled by the desk session's `app.offline.provisional.ProvisionalDesk`
(which `check_in` calls), and the banner shows the snapshot's provisional routing; the
desk tells this indicator through a plain callback. When the status bar's connection check
answers again the journal is replayed automatically on the desk's operations runner, and
conflicts are named in the status bar (the CLI lists them in full). A long replay shows its
progress under the screen with a Stop button: the desk's runner is busy with it meanwhile,
so a desk that must scan now stops it; the scans replayed so far stay applied, the rest wait
in the journal until "Replay the rest" (or the next sign-in).

While online, the same runner polls `app.records.change_feed` every few seconds (other desks'
changes refresh the current screen's lists) and refreshes the routing snapshot.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from app.library.errors import ServiceError
from app.library.progress import JobWatch
from app.offline import snapshot
from app.offline.replay import EntryStatus, ReplayReport, replay_journal
from app.records.change_feed import POLL_SECONDS, ChangeFeed
from ui.desk_session import DeskSession
from ui.status_bar import DeskStatusBar
from ui.widgets.job_progress import show_long_work

log = logging.getLogger(__name__)

SNAPSHOT_EVERY_SECONDS = 600
REPLAY_SHOW_AFTER_MS = 1_000
REPLAY_HIDE_AFTER_MS = 30_000


class _Signals(QObject):
    journaled = Signal()  # a scan went into the journal (emitted on the thread that wrote it)


class OfflineMode(QObject):
    """Status-bar indicator, automatic replay, change polling and snapshot refresh."""

    changedElsewhere = Signal()  # another desk changed something: refresh lists
    replayFinished = Signal(object)  # ReplayReport

    def __init__(
        self,
        session: DeskSession,
        status: DeskStatusBar,
        parent: QObject | None = None,
        *,
        strip: QWidget | None = None,
    ):
        super().__init__(parent)
        self.session = session
        self.status = status
        self.journal = session.offline.journal
        self.feed = session.feed or ChangeFeed(session.rt.db)
        self.label = QLabel("", status)
        self.label.setObjectName("statusOffline")
        self.label.setContentsMargins(8, 0, 8, 0)
        status.addPermanentWidget(self.label)
        self.label.hide()
        self.progress = show_long_work(
            "replayProgress",
            strip or status,
            unit="scans",
            show_after_ms=REPLAY_SHOW_AFTER_MS,
            hide_after_ms=REPLAY_HIDE_AFTER_MS,
        )
        self.held = False  # staff stopped a replay: no automatic one until they carry on
        self.last_report: ReplayReport | None = None
        self._offline = False
        self._replaying = False
        self._polling = False
        self._snapshot_at = 0.0
        self._ops = session.ops
        self._signals = _Signals(self)
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
        self.progress.rest()
        if self.session.offline.on_journaled is self._notify:
            self.session.offline.on_journaled = None

    @property
    def waiting(self) -> int:
        return self.journal.pending()

    def update_label(self) -> None:
        waiting = self.waiting
        if self._replaying and not self._offline:
            self.label.hide()  # the replay's progress says it
            return
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
        if reachable and self.waiting and not self._replaying and not self.held:
            self.replay_now()
        self.update_label()

    def replay_now(self) -> None:
        """Replay the journal on the desk's runner (also on demand)."""
        if self._replaying:
            return
        self.held = False
        rt, actor, journal = self.session.rt, self.session.actor, self.journal

        def work(watch: JobWatch) -> ReplayReport:
            return replay_journal(rt, actor, journal, watch.progress, watch.keep_going)

        job = self.progress.run(
            self._ops, "Replaying offline scans", work, self._on_replayed, self._not_replayed
        )
        self._replaying = job is not None
        self.update_label()

    def _not_replayed(self, _error: ServiceError) -> None:
        self._on_replayed(ReplayReport(()))  # the journal is kept; the next check tries again

    def _on_replayed(self, report: ReplayReport) -> None:
        self._replaying = False
        if report.stopped:
            self.held = True
            left = report.count(EntryStatus.NOT_REPLAYED)
            self.progress.say(f"Stopped: the scans replayed stay applied; {left:,} wait.")
            self.progress.offer_again("Replay the rest", self.replay_now)
        else:
            self.progress.say_end("replayed")
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
        feed, db = self.feed, self.session.rt.db
        refresh_snapshot = time.monotonic() - self._snapshot_at > SNAPSHOT_EVERY_SECONDS

        def work() -> bool:
            changed = feed.poll()
            if refresh_snapshot:
                snapshot.refresh(db)
            return changed

        if refresh_snapshot:
            self._snapshot_at = time.monotonic()
        job = self._ops.run(
            work,
            on_done=lambda changed: self._on_polled(True, changed),
            on_error=lambda _error: self._on_polled(False, False),
            name="change feed poll",
            owner=self,
        )
        self._polling = job is not None

    def _on_polled(self, reachable: bool, changed: bool) -> None:
        self._polling = False
        if not reachable and not self._offline:
            self.status.check_now()  # the status bar confirms and says so at once
            self._snapshot_at = 0.0
        if reachable and self._offline:
            self.status.check_now()
        if changed:
            self.changedElsewhere.emit()
