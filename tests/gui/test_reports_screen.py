"""The Reports screen: figures for the office, computed off the GUI thread, with drill-down."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from app.library.errors import PermissionDenied
from app.reports.compute import compute
from app.reports.figures import ReportKind
from tests.gui.waiting import settle
from tests.reports import known_library
from ui.desk_session import DeskSession
from ui.main_window import visible_screens
from ui.screens import SCREENS
from ui.screens.reports_screen import ReportsScreen

pytestmark = pytest.mark.gui

SessionAt = Callable[[str, str], DeskSession]
START, END = date(2024, 3, 1), date(2024, 4, 30)


def readable_by_all(path: Path) -> Path:
    """A file left from before, readable by everyone on the PC."""
    path.write_bytes(b"an older file")
    path.chmod(0o644)
    return path


def owner_only(path: Path) -> bool:
    """Saved files can name patrons: only their owner may read them (no mode bits on Windows)."""
    return os.name != "posix" or stat.S_IMODE(path.stat().st_mode) == 0o600


def _screen(qtbot: QtBot, session: DeskSession, **kwargs: Any) -> ReportsScreen:
    known_library.build(session.rt)
    screen = ReportsScreen(session, **kwargs)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    qtbot.waitUntil(lambda: screen.campus_box.count() > 1)  # the campuses come from the runner
    return screen


def _row(screen: ReportsScreen, label: str) -> list[str]:
    table = screen.figures
    for row in range(table.rowCount()):
        if table.item(row, 0).text() == label:
            return [table.item(row, c).text() for c in range(table.columnCount())]
    raise AssertionError(label)


def test_figures_tables_and_charts_for_the_chosen_period(
    qtbot: QtBot, desk_session: SessionAt, tmp_path: Path
) -> None:
    screen = _screen(qtbot, desk_session("office", "WS-ILL"))
    screen.set_request(ReportKind.BORROWING, START, END, None)
    with qtbot.waitSignal(screen.reportShown, timeout=30_000):
        qtbot.mouseClick(screen.show_button, Qt.MouseButton.LeftButton)
    assert _row(screen, "Requests placed") == ["Requests placed", "requests", "27", "15", "12"]
    assert _row(screen, "Request to received, median")[2:4] == ["3", "2"]
    assert screen.breakdowns.rowCount() == 2
    assert len(screen.chart_labels) == 2
    for label in screen.chart_labels:  # drawn on white (no black clip box), with its bars
        image = label.pixmap().toImage()
        assert image.pixelColor(4, image.height() // 2) == QColor("white")
        colours = {
            image.pixelColor(x, y).getRgb()[:3]
            for x in range(0, image.width(), 4)
            for y in range(0, image.height(), 4)
        }
        for wanted in ("#0072b2", "#e69f00", "#009e73"):  # the palette's first three
            rgb = QColor(wanted).getRgb()[:3]  # SVG keeps colours to 1%: allow that
            assert any(max(abs(a - b) for a, b in zip(rgb, c, strict=True)) <= 4 for c in colours)
    assert "Borrowing requests by month" in screen.chart_labels[0].accessibleName()
    assert "2024-03-01 to 2024-04-30" in screen.feedback.text()

    row = screen.figures.keys().index("borrowing.cancelled")
    with qtbot.waitSignal(screen.listShown, timeout=30_000):
        screen.figures.cellDoubleClicked.emit(row, 0)
    assert screen.behind.rowCount() == 9
    assert screen.behind_label.text() == "Requests cancelled: 9"

    readable_by_all(tmp_path / "r.csv")
    screen.save_to(tmp_path / "r.pdf")
    screen.save_to(tmp_path / "r.csv")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    assert "borrowing.placed" in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert owner_only(tmp_path / "r.pdf") and owner_only(tmp_path / "r.csv")


def test_one_campus(qtbot: QtBot, desk_session: SessionAt) -> None:
    screen = _screen(qtbot, desk_session("admin", "WS-ILL"))
    screen.set_request(ReportKind.DESK, START, END, "NEC")
    with qtbot.waitSignal(screen.reportShown, timeout=30_000):
        screen.show_report()
    assert _row(screen, "Not-found scans")[2:4] == ["5", "3"]


def test_the_window_stays_usable_while_the_database_counts(
    qtbot: QtBot, desk_session: SessionAt
) -> None:
    release = threading.Event()

    def slow(*args: Any) -> Any:
        assert release.wait(30)
        return compute(*args)

    screen = _screen(qtbot, desk_session("office", "WS-ILL"), computer=slow)
    screen.set_request(ReportKind.LENDING, START, END, None)
    screen.show_report()  # returns at once: the count runs on the worker
    assert "Counting lending" in screen.feedback.text()
    assert not screen.show_button.isEnabled()
    screen.kind_box.setCurrentIndex(0)  # the GUI still answers
    with qtbot.waitSignal(screen.reportShown, timeout=30_000):
        release.set()
    assert screen.show_button.isEnabled()
    assert _row(screen, "Requests received from other libraries")[2:4] == ["9", "5"]


def test_a_bad_period_is_said_on_the_screen(qtbot: QtBot, desk_session: SessionAt) -> None:
    screen = _screen(qtbot, desk_session("office", "WS-ILL"))
    screen.set_request(ReportKind.DESK, END, START, None)
    screen.show_report()
    assert "before it starts" in screen.feedback.text()


def test_only_the_ill_office_and_administrators_see_reports(desk_session: SessionAt) -> None:
    keys = lambda s: [spec.key for spec in visible_screens(s, SCREENS)]  # noqa: E731
    assert "reports" in keys(desk_session("office", "WS-ILL"))
    assert "reports" in keys(desk_session("admin", "WS-ILL"))
    assert "reports" not in keys(desk_session("desk", "METRO"))
    assert "reports" not in keys(desk_session("ctl", "METRO"))
    with pytest.raises(PermissionDenied):
        ReportsScreen(desk_session("desk", "METRO"))


def test_pull_slips_and_office_lists_print_from_their_screens(
    qtbot: QtBot, desk_session: SessionAt, tmp_path: Path
) -> None:
    from ui.screens.lending_pull_panel import PullPanel
    from ui.screens.office_lists_tab import ListsTab

    panel = PullPanel(desk_session("ctl", "METRO"))
    qtbot.addWidget(panel)
    panel.print_slips_to(readable_by_all(tmp_path / "slips.pdf"))
    settle(qtbot)
    assert "1 pull slips saved" in panel.feedback.text()
    assert (tmp_path / "slips.pdf").read_bytes().startswith(b"%PDF")
    assert owner_only(tmp_path / "slips.pdf")

    lists = ListsTab(desk_session("office", "WS-ILL"))
    qtbot.addWidget(lists)
    lists.choice.setCurrentIndex(0)  # received today: shown, not printed
    settle(qtbot)
    assert not lists.print_button.isEnabled()
    lists.choice.setCurrentIndex(4)  # due-date discrepancies
    settle(qtbot)
    assert lists.print_button.isEnabled()
    lists.print_to(readable_by_all(tmp_path / "discrepancies.pdf"))
    settle(qtbot)
    assert "saved to" in lists.message.text()
    assert (tmp_path / "discrepancies.pdf").read_bytes().startswith(b"%PDF")
    assert owner_only(tmp_path / "discrepancies.pdf")


def test_line_charts_draw_lines_not_black_shapes() -> None:
    """Qt read ReportLab's "fill: None" as no value and filled each polyline in black."""
    from PySide6.QtCore import QByteArray, QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    from app.printing.report_charts import chart_svg
    from app.reports.figures import Chart, ChartKind

    chart = Chart(
        "Borrowing turnaround by month",
        "days",
        ChartKind.LINE,
        ("2026-01", "2026-06", "2026-12"),
        (("median", (0.0, 2.0, 15.0)), ("90th percentile", (0.0, 1.0, 3.0))),
        "2026-01-01 to 2026-12-06",
    )
    image = QImage(1000, 520, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    QSvgRenderer(QByteArray(chart_svg(chart, 500, 260))).render(painter, QRectF(0, 0, 1000, 520))
    painter.end()
    samples = [
        image.pixelColor(x, y).getRgb()[:3] for x in range(0, 1000, 3) for y in range(0, 520, 3)
    ]
    black = sum(1 for rgb in samples if max(rgb) < 60)
    assert black / len(samples) < 0.03  # axes, ticks and words only (it was 7.5%)
