"""Reports: statistics for the ILL librarian, with the previous period beside them.

Pick the report, the period and a campus; the figures come as a table (this period,
previous, change, and each campus), the breakdowns below, and the charts beside them.
Double-click a counted figure to list the requests or items behind it. The work runs off
the GUI thread (`ReportJobs`); the window stays usable while the database counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QDate, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.library.branches import BranchInfo, list_branches
from app.reports.compute import compute, require_reports_role
from app.reports.drill import drill
from app.reports.figures import DrillList, Report, ReportKind
from app.reports.periods import Period, parse_period
from app.workstation.private_files import write_owner_only
from ui.desk_session import DeskSession
from ui.screens.report_jobs import ReportJobs
from ui.widgets.panel_parts import Feedback, KeyedTable, button

ALL_CAMPUSES = "All campuses"
Compute = Callable[[Any, Any, ReportKind, Period, str | None], Report]


def _text(value: Any) -> str:
    from app.printing.report_pdf import format_value

    return format_value(value)


class ReportsScreen(QWidget):
    reportShown = Signal(object)  # the Report now on screen
    listShown = Signal(object)  # the DrillList now on screen
    failed = Signal(str)

    def __init__(
        self,
        session: DeskSession,
        parent: QWidget | None = None,
        *,
        computer: Compute = compute,
        jobs: ReportJobs | None = None,
    ) -> None:
        super().__init__(parent)
        require_reports_role(session.actor)
        self.session = session
        self._compute = computer
        self.jobs = jobs or ReportJobs(self)
        self.report: Report | None = None
        self.period: Period | None = None
        self.campus: str | None = None

        layout = QVBoxLayout(self)
        heading = QLabel("Reports", self)
        heading.setProperty("role", "heading")
        layout.addWidget(heading)

        pickers = QHBoxLayout()
        self.kind_box = QComboBox(self)
        self.kind_box.setObjectName("reportKind")
        for kind in ReportKind:
            self.kind_box.addItem(kind.value.title(), kind.value)
        today = QDate.currentDate()
        self.from_edit = self._date_edit("reportFrom", QDate(today.year(), 1, 1))
        self.to_edit = self._date_edit("reportTo", today)
        self.campus_box = QComboBox(self)
        self.campus_box.setObjectName("reportCampus")
        self.campus_box.addItem(ALL_CAMPUSES, "")
        rt, actor = session.rt, session.actor
        session.ops.run(
            lambda: list_branches(rt, actor),
            on_done=self._add_campuses,
            name="reports: campuses",
            owner=self,
        )
        self.show_button = button(self, "Show", "showReportButton", self.show_report)
        self.pdf_button = button(self, "Save PDF...", "saveReportPdfButton", self._save_pdf)
        self.csv_button = button(self, "Save CSV...", "saveReportCsvButton", self._save_csv)
        for label, widget in (
            ("Report", self.kind_box),
            ("From", self.from_edit),
            ("To", self.to_edit),
            ("Campus", self.campus_box),
        ):
            pickers.addWidget(QLabel(label, self))
            pickers.addWidget(widget)
        for push in (self.show_button, self.pdf_button, self.csv_button):
            pickers.addWidget(push)
        pickers.addStretch(1)
        layout.addLayout(pickers)
        self.feedback = Feedback("reportFeedback", self)
        layout.addWidget(self.feedback)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        tables = QWidget(splitter)
        column = QVBoxLayout(tables)
        column.setContentsMargins(0, 0, 0, 0)
        self.figures = KeyedTable(
            "reportFigures",
            ("Figure", "Unit", "This period", "Previous", "Change"),
            tables,
            empty="Choose a report, its dates and campus above, then press Show.",
        )
        self.figures.setToolTip("Double-click a counted figure to list what is behind it.")
        self.figures.cellDoubleClicked.connect(lambda row, _col: self._drill_row(row))
        self.breakdowns = KeyedTable(
            "reportBreakdowns",
            ("Breakdown", "Name", "This period", "Previous"),
            tables,
            empty="The report's figures by campus, lender or kind show here.",
        )
        self.behind_label = QLabel("", tables)
        self.behind_label.setObjectName("reportListLabel")
        self.behind = KeyedTable(
            "reportList",
            ("When", "Campus", "Request / barcode", "Title", "Detail"),
            tables,
            empty="Double-click a counted figure above to list what is behind it.",
        )
        column.addWidget(self.figures, 1)
        column.addWidget(self.breakdowns, 1)
        column.addWidget(self.behind_label)
        column.addWidget(self.behind, 1)
        self.charts_area = QScrollArea(splitter)
        self.charts_area.setObjectName("reportCharts")
        self.charts_area.setWidgetResizable(True)
        self.charts_holder = QWidget(self.charts_area)
        self.charts_layout = QVBoxLayout(self.charts_holder)
        self.charts_area.setWidget(self.charts_holder)
        self.chart_labels: list[QLabel] = []
        splitter.addWidget(tables)
        splitter.addWidget(self.charts_area)
        splitter.setSizes([620, 560])
        layout.addWidget(splitter, 1)

    def _date_edit(self, name: str, value: QDate) -> QDateEdit:
        edit = QDateEdit(value, self)
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    # -- asking ----------------------------------------------------------------------------

    def set_request(self, kind: ReportKind, start: date, end: date, campus: str | None) -> None:
        self.kind_box.setCurrentIndex(self.kind_box.findData(kind.value))
        self.from_edit.setDate(QDate(start.year, start.month, start.day))
        self.to_edit.setDate(QDate(end.year, end.month, end.day))
        self.campus_box.setCurrentIndex(max(0, self.campus_box.findData(campus or "")))

    def _add_campuses(self, branches: Sequence[BranchInfo]) -> None:
        for branch in branches:
            self.campus_box.addItem(f"{branch.code} - {branch.name}", branch.code)

    def show_report(self) -> None:
        try:
            period = parse_period(
                self.from_edit.date().toString("yyyy-MM-dd"),
                self.to_edit.date().toString("yyyy-MM-dd"),
            )
        except Exception as exc:  # InvalidInput: say it on the screen
            self.feedback.problem(getattr(exc, "message", str(exc)))
            return
        kind = ReportKind(self.kind_box.currentData())
        campus = self.campus_box.currentData() or None
        rt, actor, work = self.session.rt, self.session.actor, self._compute
        self.feedback.good(f"Counting {kind.value} for {period.label()}...")
        self.show_button.setEnabled(False)
        self.jobs.run(lambda: work(rt, actor, kind, period, campus), self._shown, self._failed)
        self.period, self.campus = period, campus

    def _drill_row(self, row: int) -> None:
        cell = self.figures.item(row, 0)
        key = cell.data(Qt.ItemDataRole.UserRole + 1) if cell is not None else None
        if not key or self.period is None:
            self.feedback.problem("No list stands behind this figure; pick a count.")
            return
        self.list_behind(str(key))

    def list_behind(self, key: str) -> None:
        period, campus, rt = self.period, self.campus, self.session.rt
        actor = self.session.actor
        assert period is not None
        self.feedback.good("Listing what is behind the figure...")
        self.jobs.run(lambda: drill(rt, actor, key, period, campus), self._listed, self._failed)

    # -- answers ---------------------------------------------------------------------------

    def _failed(self, message: str) -> None:
        self.show_button.setEnabled(True)
        self.feedback.problem(message)
        self.failed.emit(message)

    def _shown(self, report: Report) -> None:
        self.show_button.setEnabled(True)
        self.report = report
        self.feedback.good(
            f"{report.title}, {report.period_label}, {report.campus_label}; previous period "
            f"{report.previous_label}."
        )
        self.figures.fill(
            [
                (
                    f.key,
                    (
                        f.label,
                        f.unit.value,
                        _text(f.current),
                        _text(f.previous),
                        _text(f.change()),
                    ),
                )
                for f in report.figures
            ]
        )
        for row, figure in enumerate(report.figures):
            cell = self.figures.item(row, 0)
            if cell is not None and figure.drill:
                cell.setData(Qt.ItemDataRole.UserRole + 1, figure.drill)
                cell.setToolTip("Double-click to list the requests or items behind it.")
        self.breakdowns.fill(
            [
                (f"{b.key}:{r.name}", (b.label, r.name, _text(r.current), _text(r.previous)))
                for b in report.breakdowns
                for r in b.rows
            ]
        )
        self.behind.fill([])
        self.behind_label.setText("")
        self._draw_charts(report)
        self.reportShown.emit(report)

    def _listed(self, listed: DrillList) -> None:
        more = (
            f" (first {len(listed.rows)} of {listed.total})"
            if len(listed.rows) < listed.total
            else ""
        )
        self.behind_label.setText(f"{listed.label}: {listed.total}{more}")
        self.behind.fill(
            [
                (f"{r.reference}@{r.at}", (r.at[:16], r.campus, r.reference, r.title, r.detail))
                for r in listed.rows
            ]
        )
        self.feedback.good(f"{listed.label}: {listed.total} listed below.")
        self.listShown.emit(listed)

    def _draw_charts(self, report: Report) -> None:
        from app.printing.report_charts import chart_svg

        for label in self.chart_labels:
            self.charts_layout.removeWidget(label)
            label.deleteLater()
        self.chart_labels = []
        for index, chart in enumerate(report.charts):
            renderer = QSvgRenderer(QByteArray(chart_svg(chart, 500, 260)))
            size = QSize(500, 260)
            image = QImage(size * 2, QImage.Format.Format_ARGB32)
            image.fill(QColor("white"))
            painter = QPainter(image)
            renderer.render(painter, QRectF(0, 0, size.width() * 2, size.height() * 2))
            painter.end()
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(2)
            label = QLabel(self.charts_holder)
            label.setObjectName(f"reportChart{index}")
            label.setPixmap(pixmap)
            label.setAccessibleName(f"{chart.title}, {chart.period}, in {chart.unit}")
            self.charts_layout.addWidget(label)
            self.chart_labels.append(label)
        self.charts_layout.addStretch(1)

    # -- saving ----------------------------------------------------------------------------

    def _save_pdf(self) -> None:
        self._save("PDF", "PDF files (*.pdf)", ".pdf")

    def _save_csv(self) -> None:
        self._save("CSV", "CSV files (*.csv)", ".csv")

    def _save(self, what: str, pattern: str, suffix: str) -> None:
        if self.report is None:
            self.feedback.problem("Show a report first, then save it.")
            return
        name = f"ill-{self.report.kind.value}-{self.report.start}-{self.report.end}{suffix}"
        path, _ = QFileDialog.getSaveFileName(self, f"Save report as {what}", name, pattern)
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> None:
        assert self.report is not None
        if path.suffix.lower() == ".csv":
            from app.reports.export import csv_text

            data = csv_text(self.report).encode("utf-8-sig")
        else:
            from app.printing.report_pdf import render_report

            data = render_report(self.report)
        try:
            write_owner_only(path, data)  # typed reasons can name a patron
        except OSError as exc:
            self.feedback.problem(
                f"Cannot write {path}: {exc.strerror or exc}. Choose another place."
            )
            return
        self.feedback.good(f"Saved {path}.")
