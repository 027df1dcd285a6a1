"""Office lists at library size: from the click to the rows painted, as a person sees them.

The ILL office's Lists tab reads a list in two steps (ui/screens/office_lists_tab.py): its
first screenful (`FIRST_ROWS`), painted at once, then, when there may be more, the whole
list, added below the rows on show. Both are measured here through the tab's own code
(`office_list_rows`, the same table widget, painted offscreen): "first rows painted" is what
a person waits for before reading, "all rows" is when the scroll bar and the count are
complete. The bursar preview and the pull list are read in one step, as their panels show
them: the preview as the Charges panel's line (how many charges, the total, how many held
back), the pull list as a table.

The review logs are filled to a busy library's size first (20,000 not-found scans and 10,000
due-date discrepancies waiting for review), once per generated library.
"""

from __future__ import annotations

import dataclasses
import os
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from app.library.runtime import Runtime
from app.people import staff
from bench.timing import Figure, timed
from db.engine import Database, create_database_engine
from db.models import Branch, DueDateDiscrepancy, NotFoundScan

LIST_SAMPLES = 50
WARMUP = 3
LIST_TARGET_MS = 200.0
NOT_FOUND_SCANS, DISCREPANCIES = 20_000, 10_000
# The Lists tab's lists, by their place in its choice box.
TAB_LISTS = (
    ("Received today", 0),
    ("In transit", 1),
    ("Hold shelves", 2),
    ("Overdue ILL loans", 3),
    ("Due-date discrepancies", 4),
    ("Not-found scans", 5),
)

Painter = Callable[[Sequence[str], Sequence[Sequence[object]], bool], None]


def seed_review_logs(url: str, say: Callable[[str], None]) -> None:
    """Not-found scans and due-date discrepancies waiting for review (once)."""
    engine = create_database_engine(url)
    try:
        with engine.begin() as c:
            if c.scalar(select(func.count()).select_from(NotFoundScan)):
                return
            rng = random.Random(11)
            now = datetime.now(UTC)
            branch_ids = list(c.scalars(select(Branch.id).where(Branch.virtual.is_(False))))
            staff_id = c.scalar(select(text("id")).select_from(text("staff")).limit(1))
            c.execute(
                insert(NotFoundScan),
                [
                    {
                        "at": now - timedelta(minutes=7 * n),
                        "barcode": f"31999{rng.randrange(10**9):09d}",
                        "branch_id": branch_ids[n % len(branch_ids)],
                        "staff_id": staff_id,
                        "review_note": "",
                    }
                    for n in range(NOT_FOUND_SCANS)
                ],
            )
            today = now.date()
            c.execute(
                insert(DueDateDiscrepancy),
                [
                    {
                        "at": now - timedelta(minutes=13 * n),
                        "patron_campus_id": f"T{n:08d}",
                        "request_number": str(30_000_000 + n),
                        "system_date": today + timedelta(days=28),
                        "strap_date": today + timedelta(days=21),
                        "due_date": today + timedelta(days=21),
                        "staff_id": staff_id,
                        "branch_id": branch_ids[n % len(branch_ids)],
                        "review_note": "",
                    }
                    for n in range(DISCREPANCIES)
                ],
            )
        say(
            f"  review logs seeded: {NOT_FOUND_SCANS:,} not-found scans, "
            f"{DISCREPANCIES:,} discrepancies"
        )
    finally:
        engine.dispose()


def measure_lists(
    url: str, backend: str, say: Callable[[str], None], calls: int = LIST_SAMPLES
) -> list[Figure]:
    from app.lending import pull_list
    from app.money import bursar
    from ui.screens.office_list_rows import office_list_rows
    from ui.screens.office_lists_tab import FIRST_ROWS

    database = Database(url)
    rt = Runtime(database)
    office = staff.actor_for(rt, "office", "WS-ILL", "bench")
    paint, summary = _painter()
    figures: list[Figure] = []
    try:
        for name, index in TAB_LISTS:
            first_ms, whole_ms, painting = [], [], []
            rows = 0
            for n in range(WARMUP + calls):
                started = time.perf_counter()
                (headers, shown), _ids = office_list_rows(rt, office, index, FIRST_ROWS)
                answered = time.perf_counter()
                paint(headers, shown, False)
                first = time.perf_counter()
                rows = len(shown)
                if len(shown) >= FIRST_ROWS:
                    (headers, every), _ids = office_list_rows(rt, office, index)
                    paint(headers, every, True)
                    rows = len(every)
                if n >= WARMUP:
                    first_ms.append((first - started) * 1000)
                    whole_ms.append((time.perf_counter() - started) * 1000)
                    painting.append((first - answered) * 1000)
            figures.append(_figure(name, backend, first_ms, rows, painting, "first rows"))
            if rows > FIRST_ROWS:
                figures.append(
                    timed(
                        f"Office list: {name}, all rows",
                        backend,
                        whole_ms,
                        limit_ms=None,
                        target="baseline (the first rows are on show meanwhile)",
                        note=f"{rows:,} rows from the click to the last added; {_load()}",
                    )
                )
            say(f"  {backend} {name}: {_said(figures[-2 if rows > FIRST_ROWS else -1])}")
        # The Charges panel shows the preview as one line (count, total, held back); the pull
        # list is a table of its rows.
        samples, painting = [], []
        for n in range(WARMUP + calls):
            started = time.perf_counter()
            preview = bursar.preview(rt, office)
            answered = time.perf_counter()
            summary(
                f"Next report: {len(preview.to_report)} charge(s), {preview.total}; "
                f"{len(preview.held_back)} held back"
            )
            if n >= WARMUP:
                samples.append((time.perf_counter() - started) * 1000)
                painting.append((time.perf_counter() - answered) * 1000)
        rows = len(preview.to_report) + len(preview.held_back)
        figures.append(
            _figure("Bursar preview", backend, samples, rows, painting, "the panel's summary")
        )
        say(f"  {backend} Bursar preview: {_said(figures[-1])}")
        samples, painting = [], []
        for n in range(WARMUP + calls):
            started = time.perf_counter()
            found = pull_list.pull_list(rt, office, "METRO")
            answered = time.perf_counter()
            paint(*_as_rows(found), False)
            if n >= WARMUP:
                samples.append((time.perf_counter() - started) * 1000)
                painting.append((time.perf_counter() - answered) * 1000)
        figures.append(_figure("Pull list (METRO)", backend, samples, len(found), painting, "rows"))
        say(f"  {backend} Pull list (METRO): {_said(figures[-1])}")
    finally:
        database.dispose()
    return figures


def _figure(
    name: str, backend: str, samples: list[float], rows: int, painting: list[float], what: str
) -> Figure:
    painted = sorted(painting)[len(painting) // 2]
    return timed(
        f"Office list: {name}",
        backend,
        samples,
        limit_ms=LIST_TARGET_MS,
        note=f"{rows:,} rows, {what} painted; painting {painted:.1f} ms (median); {_load()}",
    )


def _said(figure: Figure) -> str:
    return f"{figure.median:.1f} / {figure.p99:.1f} ms ({figure.note})"


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def _as_rows(found: Sequence[Any]) -> tuple[list[str], list[tuple[object, ...]]]:
    rows = [
        tuple(getattr(row, f.name) for f in dataclasses.fields(row))
        if dataclasses.is_dataclass(row)
        else (row,)
        for row in found
    ]
    width = len(rows[0]) if rows else 1
    return [f"column {n}" for n in range(width)], rows


def _painter() -> tuple[Painter, Callable[[str], None]]:
    """Rows shown as the ILL office's list tab shows them: one table, painted offscreen;
    `more` adds the whole list below the first rows on show, as the tab does. And a line of
    text shown as the Charges panel shows the bursar preview."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication, QLabel

    from ui.widgets.rows_view import RowsView

    app = QApplication.instance() or QApplication([])
    view = RowsView("benchOfficeList")
    view.resize(1600, 900)
    view.show()

    def paint(headers: Sequence[str], rows: Sequence[Sequence[object]], more: bool) -> None:
        if more:
            view.extend_rows(headers, rows)
        else:
            view.show_rows(headers, rows)
        view.viewport().repaint()
        app.processEvents()

    label = QLabel()
    label.setWordWrap(True)
    label.resize(1200, 60)
    label.show()

    def summary(text: str) -> None:
        label.setText(text)
        label.repaint()
        app.processEvents()

    return paint, summary
