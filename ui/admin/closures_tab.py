"""Admin: the closures calendar that moves due dates off days a branch is closed.

Weekly closed days per branch, dated closures (holidays, breaks) for one branch or all,
and a button that pre-fills a year's public holidays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.borrowing.closures import (
    WEEKDAY_NAMES,
    ClosureInfo,
    WeeklyClosedDays,
    add_closure,
    list_closures,
    list_weekly_closed_days,
    remove_closure,
    set_closed_weekdays,
)
from app.borrowing.due_dates import HolidayFill, add_public_holidays
from app.library.branches import BranchInfo, list_branches
from app.library.errors import ServiceError
from ui.desk_session import DeskSession
from ui.screens.patrons_screen import fill, table

ALL_BRANCHES = "All branches"


T = TypeVar("T")


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class ClosuresTab(QWidget):
    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("closuresTab")
        self.session = session
        today = session.rt.clock.today()
        self.closures: list[ClosureInfo] = []

        self.message = QLabel("", self)
        self.message.setObjectName("closuresMessage")
        self.message.setWordWrap(True)

        self.year = QSpinBox(self)
        self.year.setObjectName("closuresYear")
        self.year.setRange(1950, 2150)
        self.year.setValue(today.year)
        self.holidays_button = QPushButton("", self)
        self.holidays_button.setObjectName("addHolidaysButton")
        self.table = table("closuresTable", ("Where", "From", "To", "Reason"), self)
        self.remove_button = QPushButton("Remove selected closure", self)
        self.remove_button.setObjectName("removeClosureButton")
        year_row = QHBoxLayout()
        year_row.addWidget(QLabel("Year", self))
        year_row.addWidget(self.year)
        year_row.addWidget(self.holidays_button)
        year_row.addStretch(1)
        year_row.addWidget(self.remove_button)

        self.where = QComboBox(self)
        self.where.setObjectName("closureBranch")
        self.start = QDateEdit(_qdate(today), self)
        self.start.setObjectName("closureStart")
        self.end = QDateEdit(_qdate(today), self)
        self.end.setObjectName("closureEnd")
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.reason = QLineEdit(self)
        self.reason.setObjectName("closureReason")
        self.reason.setPlaceholderText("Reason, e.g. Winter break")
        self.add_button = QPushButton("Add closure", self)
        self.add_button.setObjectName("addClosureButton")
        add_box = QGroupBox("Add a closure", self)
        add_row = QHBoxLayout(add_box)
        for label, widget in (("Where", self.where), ("From", self.start), ("To", self.end)):
            add_row.addWidget(QLabel(label, add_box))
            add_row.addWidget(widget)
        add_row.addWidget(self.reason, 1)
        add_row.addWidget(self.add_button)

        week_box = QGroupBox("Closed every week", self)
        self.week_branch = QComboBox(week_box)
        self.week_branch.setObjectName("weeklyBranch")
        self.day_boxes: list[QCheckBox] = []
        week_row = QHBoxLayout(week_box)
        week_row.addWidget(self.week_branch)
        for number, name in enumerate(WEEKDAY_NAMES):
            box = QCheckBox(name[:3], week_box)
            box.setObjectName(f"closedDay{number}")
            box.setToolTip(name)
            self.day_boxes.append(box)
            week_row.addWidget(box)
        self.save_week_button = QPushButton("Save closed days", week_box)
        self.save_week_button.setObjectName("saveWeekdaysButton")
        week_row.addWidget(self.save_week_button)
        week_row.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(week_box)
        layout.addLayout(year_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(add_box)
        layout.addWidget(self.message)

        self.where.addItem(ALL_BRANCHES, None)
        self.year.valueChanged.connect(lambda _year: self.refresh())
        self.holidays_button.clicked.connect(self.add_holidays)
        self.add_button.clicked.connect(self.add)
        self.remove_button.clicked.connect(self.remove_selected)
        self.week_branch.currentIndexChanged.connect(lambda _index: self._show_weekdays())
        self.save_week_button.clicked.connect(self.save_weekdays)
        rt, actor = session.rt, session.actor
        self._run(lambda: list_branches(rt, actor), self._show_branches)
        self.refresh()

    def _run(
        self,
        action: Callable[[], T],
        then: Callable[[T], object],
        refused: Callable[[], object] | None = None,
    ) -> None:
        """Run a service call on the desk's runner; a refusal is said, then `refused` runs."""

        def said(error: ServiceError) -> None:
            self._say(error.message, problem=True)
            if refused is not None:
                refused()

        self.session.ops.run(action, on_done=then, on_error=said, owner=self)

    def _show_branches(self, branches: Sequence[BranchInfo]) -> None:
        self.week_branch.blockSignals(True)
        for info in branches:
            self.week_branch.addItem(f"{info.code} — {info.name}", info.code)
            self.where.addItem(info.code, info.code)
        self.week_branch.blockSignals(False)
        self._show_weekdays()

    def refresh(self) -> None:
        year = self.year.value()
        self.holidays_button.setText(f"Add public holidays for {year}")
        rt, actor = self.session.rt, self.session.actor
        self._run(lambda: list_closures(rt, actor, year=year), self._show_closures)

    def _show_closures(self, closures: list[ClosureInfo]) -> None:
        self.closures = closures
        fill(
            self.table,
            [
                (c.where, c.start_date.isoformat(), c.end_date.isoformat(), c.reason)
                for c in self.closures
            ],
        )

    def _say(self, text: str, *, problem: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #a4161a;" if problem else "color: #1b6e34;")

    def add_holidays(self) -> None:
        rt, actor, year = self.session.rt, self.session.actor, self.year.value()

        def added(fill_result: HolidayFill) -> None:
            self.refresh()
            kept = (
                f"; {fill_result.already_there} were already there"
                if fill_result.already_there
                else ""
            )
            self._say(
                f"Added {len(fill_result.added)} public holidays for {fill_result.year}{kept}."
            )

        self._run(lambda: add_public_holidays(rt, actor, year), added)

    def add(self) -> None:
        rt, actor = self.session.rt, self.session.actor
        start, end = _date(self.start.date()), _date(self.end.date())
        reason, where = self.reason.text(), self.where.currentData()

        def added(info: ClosureInfo) -> None:
            self.reason.clear()
            if info.start_date.year != self.year.value():
                self.year.setValue(info.start_date.year)  # refreshes
            else:
                self.refresh()
            self._say(f"Added: {info.where} closed {info.start_date} to {info.end_date}.")

        self._run(lambda: add_closure(rt, actor, start, end, reason, where), added)

    def remove_selected(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.closures):
            self._say("Select the closure to remove in the list first.", problem=True)
            return
        rt, actor, closure_id = self.session.rt, self.session.actor, self.closures[row].id

        def removed(info: ClosureInfo) -> None:
            self.refresh()
            self._say(f"Removed: {info.reason} ({info.where}).")

        self._run(lambda: remove_closure(rt, actor, closure_id), removed, self.refresh)

    def _show_weekdays(self) -> None:
        code = self.week_branch.currentData()
        rt = self.session.rt

        def shown(weekly: Sequence[WeeklyClosedDays]) -> None:
            if self.week_branch.currentData() != code:
                return  # another branch was chosen meanwhile; its answer follows
            days = {w.branch_code: w.weekdays for w in weekly}
            for number, box in enumerate(self.day_boxes):
                box.setChecked(number in days.get(code, ()))

        self._run(lambda: list_weekly_closed_days(rt, self.session.actor), shown)

    def save_weekdays(self) -> None:
        code = self.week_branch.currentData()
        chosen = [
            n for n, box in enumerate(self.day_boxes) if box.checkState() == Qt.CheckState.Checked
        ]
        rt, actor = self.session.rt, self.session.actor
        self._run(
            lambda: set_closed_weekdays(rt, actor, str(code), chosen),
            lambda result: self._say(f"{result.branch_code} is closed: {result.label}."),
            self._show_weekdays,
        )
