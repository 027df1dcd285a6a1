"""The status bar: where this desk is, who is signed in, and whether the database answers.

The connection check runs `SELECT 1` on the desk's operations runner every 15 seconds, so a
slow or unreachable server never freezes the scan field; only one check is ever in flight.
Any other job that finds the database away turns the label to "cannot reach" at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.library.branches import BranchInfo
from app.library.errors import DatabaseUnavailable, ServiceError
from app.workstation.connection import ping
from ui.desk_session import DeskSession
from ui.operations import first_line
from ui.sounds import sounds_off_reason

log = logging.getLogger(__name__)

CHECK_INTERVAL_MS = 15_000
DATABASE_LABEL_CHARS = 40  # longer paths are shortened in the middle; the tooltip has it all


def shorten_middle(text: str, limit: int) -> str:
    """Keep both ends (kind and file name) of a long path, so messages still have room."""
    if len(text) <= limit:
        return text
    head = limit // 3
    return f"{text[:head]}…{text[-(limit - head - 1) :]}"


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
        self.sounds_label = self._label("statusSounds", "Sounds off")
        reason = sounds_off_reason()
        self.sounds_label.setVisible(reason is not None)
        self.sounds_label.setToolTip(
            f"No audio output: check-in sounds cannot play on this computer ({reason}). "
            "Scans still work; "
            "watch the screen for each answer. Ask IT to connect speakers or headphones."
        )
        # Permanent widgets: a temporary message (showMessage) never hides who or where.
        for label in (self.branch_label, self.staff_label, self.sounds_label, self.database_label):
            self.addPermanentWidget(label)

        self.reachable: bool | None = None  # None until the first check answers
        self.unreachable_since: datetime | None = None
        self.last_reason = ""
        self._show_state()

        self._probe = probe or select_one(session)
        self._ops = session.ops
        self._ops.databaseUnavailable.connect(self._went_away)
        self._ops.unhandled.connect(lambda message: self.showMessage(message, 10_000))
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
        """Stop checking (the window is going away; its runner drops a check not started)."""
        self._timer.stop()

    def check_now(self) -> None:
        if self._in_flight:
            return
        self._in_flight = True
        job = self._ops.run(
            self._check,
            on_done=lambda _: self._checked(True, ""),
            on_error=self._probe_refused,
            name="database connection check",
        )
        self._in_flight = job is not None

    def _check(self) -> None:
        """The probe, on the runner: any failure means "cannot reach it", with the reason."""
        try:
            self._probe()
        except (ServiceError, DatabaseUnavailable):
            raise
        except Exception as exc:
            raise DatabaseUnavailable(first_line(exc)) from exc

    def _probe_refused(self, error: ServiceError) -> None:
        if error.code == "database_unavailable":  # `_went_away` has shown it already
            self._in_flight = False
            return
        self._checked(False, error.message)

    def _checked(self, reachable: bool, reason: str) -> None:
        self._in_flight = False
        self._on_checked(reachable, reason)

    def _went_away(self, reason: str) -> None:
        """A job (or the check) found the database away: say so now, not at the next check."""
        self._on_checked(False, reason)

    def _on_checked(self, reachable: bool, reason: str) -> None:
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
