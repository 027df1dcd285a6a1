"""The ILL office's NCIP traffic: the ILL system's recent messages and today's failures.

Read-only; one service call (`app.ncip.traffic.recent_traffic`) fills it when the tab is
shown or Refresh is pressed. No patron data is listed, only what each message was and how
it ended.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.ncip.traffic import Traffic, recent_traffic
from ui.desk_session import DeskSession
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt, button, row

HEADERS = ("Time", "Partner", "Service", "Outcome", "Problem", "Element")
LIMIT = 200


class NcipTab(QWidget):
    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ncipTab")
        self.session = session
        self.summary = QLabel(self)
        self.summary.setObjectName("ncipSummary")
        self.table = KeyedTable(
            "ncipTable",
            HEADERS,
            self,
            empty=(
                "No NCIP message received recently. Messages from the ILL system appear here "
                "once an administrator has added it under Admin, NCIP partners."
            ),
        )
        self.feedback = Feedback("ncipMessage", self)
        refresh = button(self, "Refresh", "ncipRefreshButton", self.refresh)
        layout = QVBoxLayout(self)
        layout.addWidget(row(self, self.summary, refresh))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.feedback)

    def activate(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        rt, actor = self.session.rt, self.session.actor
        attempt(
            self.session.ops, self.feedback, lambda: recent_traffic(rt, actor, LIMIT), self._show
        )

    def _show(self, traffic: Traffic) -> None:
        failures = traffic.failures_today
        self.summary.setText(
            f"Today: {traffic.messages_today} NCIP messages, {failures} failed"
            + (" — see the Problem column." if failures else ".")
        )
        self.summary.setStyleSheet("color: #b71c1c; font-weight: bold;" if failures else "")
        self.table.fill(
            [
                (
                    str(index),
                    (
                        f"{r.at.astimezone():%Y-%m-%d %H:%M:%S}",
                        r.partner or "-",
                        r.service or "-",
                        r.outcome,
                        r.problem,
                        r.element,
                    ),
                )
                for index, r in enumerate(traffic.rows)
            ]
        )
