"""A report as plain JSON values and as CSV a spreadsheet opens safely.

A cancellation reason or a title is typed by people, so the CSV is made by
app.library.spreadsheet_cells: a cell that would start a formula is shown as text.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.library.spreadsheet_cells import spreadsheet_csv
from app.reports.figures import Number, Report

CSV_COLUMNS = ("report", "figure", "label", "unit", "by", "name", "current", "previous")


def _number(value: Number) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


def _cell(value: Number) -> str:
    return "" if value is None else str(value)


def as_json(report: Report) -> dict[str, Any]:
    """The report's --json object (keys documented in the README)."""
    return {
        "report": report.kind.value,
        "title": report.title,
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "previous_from": report.previous_start.isoformat(),
        "previous_to": report.previous_end.isoformat(),
        "campus": report.campus,
        "generated_at": report.generated_at.isoformat(),
        "figures": [
            {
                "key": f.key,
                "label": f.label,
                "unit": f.unit.value,
                "current": _number(f.current),
                "previous": _number(f.previous),
                "by_month": {m: _number(v) for m, v in f.by_month},
                "by_campus": {
                    c.campus: {"current": _number(c.current), "previous": _number(c.previous)}
                    for c in f.by_campus
                },
                "drill": f.drill,
            }
            for f in report.figures
        ],
        "breakdowns": [
            {
                "key": b.key,
                "label": b.label,
                "unit": b.unit.value,
                "column": b.column,
                "rows": [
                    {"name": r.name, "current": _number(r.current), "previous": _number(r.previous)}
                    for r in b.rows
                ],
            }
            for b in report.breakdowns
        ],
        "series": [
            {
                "key": s.key,
                "label": s.label,
                "unit": s.unit.value,
                "months": list(s.months),
                "lines": {name: [_number(v) for v in values] for name, values in s.lines},
            }
            for s in report.series
        ],
        "notes": list(report.notes),
    }


def csv_rows(report: Report) -> list[tuple[str, ...]]:
    """One row per value: the total, each month, each campus, each breakdown row (raw text)."""
    rows: list[tuple[str, ...]] = [CSV_COLUMNS]
    kind = report.kind.value

    def add(key: str, label: str, unit: str, by: str, name: str, cur: Number, prev: Number) -> None:
        cells = (kind, key, label, unit, by, name, _cell(cur), _cell(prev))
        rows.append(cells)

    for f in report.figures:
        add(f.key, f.label, f.unit.value, "total", report.campus_label, f.current, f.previous)
        for month, value in f.by_month:
            add(f.key, f.label, f.unit.value, "month", month, value, None)
        for c in f.by_campus:
            add(f.key, f.label, f.unit.value, "campus", c.campus, c.current, c.previous)
    for b in report.breakdowns:
        for r in b.rows:
            add(b.key, b.label, b.unit.value, b.column, r.name, r.current, r.previous)
    for s in report.series:
        for name, values in s.lines:
            for month, value in zip(s.months, values, strict=True):
                add(s.key, s.label, s.unit.value, f"month {month}", name, value, None)
    return rows


def csv_text(report: Report) -> str:
    """The CSV file's text: formula-like cells are shown as text (spreadsheet_cells)."""
    return spreadsheet_csv(csv_rows(report))
