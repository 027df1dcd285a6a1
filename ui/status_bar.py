"""The status bar: where this desk is, who is signed in, and whether the database answers.

The connection check runs `SELECT 1` on a worker thread every 15 seconds, so a slow or
unreachable server never freezes the scan field; only one check is ever in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.library.branches import BranchInfo
from app.workstation.connection import ping
from ui.desk_session import DeskSession

log = logging.getLogger(__name__)

CHECK_INTERVAL_MS = 15_000
DATABASE_LABEL_CHARS = 40  # longer paths are shortened in the middle; the tooltip has it all


def shorten_middle(text: str, limit: int) -> str:
    """Keep both ends (kind and file name) of a long path, so messages still have room."""
    if len(text) <= limit:
        return text
    head = limit // 3
    return f"{text[:head]}…{text[-(limit - head - 1) :]}"


class _ProbeSignals(QObject):
    finished = Signal(bool, str)  # reachable, reason when not


class _Probe(QRunnable):
    def __init__(self, probe: Callable[[], None], signals: _ProbeSignals) -> None:
        super().__init__()
        self._probe = probe
        self._signals = signals

    def run(self) -> None:
        try:
            self._probe()
        except Exception as exc:  # any failure means "cannot reach it"; the reason is shown
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self._signals.finished.emit(False, first)
        else:
            self._signals.finished.emit(True, "")


def select_one(session: DeskSession) -> Callable[[], None]:
    """The cheapest round trip that proves the database answers."""

    def probe() -> None:
        ping(session.rt.db)

    return probe


class DeskStatusBar(QStatusBar):
    """Branch, staff member with role, and database with its connection state."""

    checked = Signal(bool)  # after each connection check, for whoever cares

    def __init__(
        self,
        session: DeskSession,
        branch: BranchInfo | None = None,
        probe: Callable[[], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.setSizeGripEnabled(False)
        actor = session.actor
        self.branch_label = self._label("statusBranch", f"Branch: {actor.branch_code}")
        if branch is not None:
            self.branch_label.setToolTip(branch.name)
        self.staff_label = self._label(
            "statusStaff", f"Staff: {actor.full_name} ({actor.role.value})"
        )
        self._db_label = session.rt.db.info.label
        kind, _, location = self._db_label.partition(": ")
        self._db_short = f"({kind}): {shorten_middle(location, DATABASE_LABEL_CHARS)}"
        self.database_label = self._label("statusDatabase", "")
        self.database_label.setToolTip(session.rt.db.info.label)
        # Permanent widgets: a temporary message (showMessage) never hides who or where.
        for label in (self.branch_label, self.staff_label, self.database_label):
            self.addPermanentWidget(label)

        self.reachable: bool | None = None  # None until the first check answers
        self.unreachable_since: datetime | None = None
        self.last_reason = ""
        self._show_state()

        self._probe = probe or select_one(session)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _ProbeSignals(self)
        self._signals.finished.connect(self._on_checked)
        self._in_flight = False
        self._timer = QTimer(self)
        self._timer.setObjectName("databaseCheckTimer")
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self.check_now)

    def _label(self, name: str, value: str) -> QLabel:
        label = QLabel(value, self)
        label.setObjectName(name)
        label.setContentsMargins(8, 0, 8, 0)
        return label

    def start(self) -> None:
        self._timer.start()
        self.check_now()

    def stop(self) -> None:
        """Stop checking and wait briefly for a check in flight (the window is going away)."""
        self._timer.stop()
        self._pool.waitForDone(6000)

    def check_now(self) -> None:
        if self._in_flight:
            return
        self._in_flight = True
        self._pool.start(_Probe(self._probe, self._signals))

    def _on_checked(self, reachable: bool, reason: str) -> None:
        self._in_flight = False
        if reachable:
            self.unreachable_since = None
        elif self.unreachable_since is None:
            self.unreachable_since = datetime.now()
            log.warning("database unreachable: %s", reason)
        self.reachable = reachable
        self.last_reason = reason
        self._show_state()
        self.checked.emit(reachable)

    def _show_state(self) -> None:
        if self.reachable is None:
            state = "checking…"
            self.database_label.setProperty("state", "checking")
        elif self.reachable:
            state = "connected"
            self.database_label.setProperty("state", "ok")
            self.database_label.setToolTip(self._db_label)
        else:
            since = self.unreachable_since.strftime("%H:%M") if self.unreachable_since else "?"
            state = f"cannot reach the database since {since}"
            self.database_label.setProperty("state", "down")
            self.database_label.setToolTip(
                f"{self._db_label}\n{self.last_reason}\nWork is not saved until it answers "
                "again; ask IT if this lasts."
            )
        self.database_label.setText(f"Database {self._db_short} — {state}")
        # Re-apply the style sheet so the [state=...] colours follow the property.
        self.database_label.style().unpolish(self.database_label)
        self.database_label.style().polish(self.database_label)
