"""A printable statistics report: title, period, tables with the previous period, charts.

Pure rendering: a `Report` value in, PDF bytes out, no database. Charts are ReportLab
vector drawings (`app.printing.report_charts`).
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from app.printing.report_charts import chart_drawing
from app.reports.figures import Number, Report

GRID = colors.HexColor("#999999")
HEAD = colors.HexColor("#E8EEF4")


def format_value(value: Number) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:,.0f}"
    return f"{value:,}"


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD),
                ("GRID", (0, 0), (-1, -1), 0.25, GRID),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def render_report(report: Report) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=letter,
        leftMargin=0.7 * inch,
        rightMargin=0.7 * inch,
        topMargin=0.7 * inch,
        bottomMargin=0.7 * inch,
        title=f"ILL statistics: {report.title}",
        author="ILL Desk",
        invariant=1,
    )
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["Normal"], fontSize=8, leading=10)
    story: list[Any] = [
        Paragraph(f"ILL statistics: {report.title}", styles["Title"]),
        Paragraph(
            f"Period {report.period_label}, {report.campus_label}. Previous period "
            f"{report.previous_label}. Generated {report.generated_at:%Y-%m-%d %H:%M} UTC.",
            styles["Normal"],
        ),
        Spacer(1, 10),
    ]
    header = ["Figure", "Unit", "This period", "Previous", "Change"]
    rows: list[list[Any]] = [header]
    for f in report.figures:
        change = f.change()
        rows.append(
            [
                Paragraph(f.label, small),
                f.unit.value,
                format_value(f.current),
                format_value(f.previous),
                format_value(change),
            ]
        )
    story.append(_table(rows, [3.0 * inch, 0.8 * inch, 1.0 * inch, 1.0 * inch, 1.0 * inch]))

    campuses = [c.campus or "(none)" for c in report.figures[0].by_campus] if report.figures else []
    if len(campuses) > 1:
        story += [Spacer(1, 10), Paragraph("By campus (this period / previous)", styles["h3"])]
        rows = [["Figure", *campuses]]
        for f in report.figures:
            cells = {c.campus or "(none)": c for c in f.by_campus}
            rows.append(
                [Paragraph(f.label, small)]
                + [
                    f"{format_value(cells[c].current)} / {format_value(cells[c].previous)}"
                    if c in cells
                    else "-"
                    for c in campuses
                ]
            )
        width = (7.1 * inch - 2.6 * inch) / len(campuses)
        story.append(_table(rows, [2.6 * inch] + [width] * len(campuses)))

    months = [m for m, _ in report.figures[0].by_month] if report.figures else []
    for start in range(0, len(months), 6):
        chunk = months[start : start + 6]
        story += [Spacer(1, 10), Paragraph("By month (this period)", styles["h3"])]
        rows = [["Figure", *chunk]]
        for f in report.figures:
            values = dict(f.by_month)
            rows.append([Paragraph(f.label, small)] + [format_value(values.get(m)) for m in chunk])
        width = (7.1 * inch - 2.6 * inch) / 6
        story.append(_table(rows, [2.6 * inch] + [width] * len(chunk)))

    for b in report.breakdowns:
        rows = [[b.column, "This period", "Previous"]]
        rows += [[r.name, format_value(r.current), format_value(r.previous)] for r in b.rows]
        if len(rows) == 1:
            rows.append(["(none)", "-", "-"])
        story.append(
            KeepTogether(
                [
                    Spacer(1, 10),
                    Paragraph(f"{b.label} ({b.unit.value})", styles["h3"]),
                    _table(rows, [3.5 * inch, 1.2 * inch, 1.2 * inch]),
                ]
            )
        )
    for s in report.series:
        for start in range(0, len(s.months), 6):
            span = list(s.months[start : start + 6])
            grid: list[list[Any]] = [["Partner", *span]]
            for name, line in s.lines:
                grid.append([name, *(format_value(v) for v in line[start : start + 6])])
            if len(grid) == 1:
                grid.append(["(none)", *("-" for _ in span)])
            story.append(
                KeepTogether(
                    [
                        Spacer(1, 10),
                        Paragraph(f"{s.label} ({s.unit.value}, end of month)", styles["h3"]),
                        _table(grid, [1.6 * inch] + [0.9 * inch] * len(span)),
                    ]
                )
            )
    for note in report.notes:
        story += [Spacer(1, 6), Paragraph(note, small)]
    for chart in report.charts:
        story += [CondPageBreak(3.8 * inch), Spacer(1, 12), chart_drawing(chart, 500, 260)]
    doc.build(story)
    return buffer.getvalue()
