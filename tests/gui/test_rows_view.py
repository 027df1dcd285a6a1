"""Long office lists: every row is there to scroll to, shown as the office reads it."""

from __future__ import annotations

from datetime import date

from pytestqt.qtbot import QtBot

from ui.widgets.rows_view import RowsView


def test_a_list_of_thousands_keeps_every_row_and_shows_values_as_the_office_reads_them(
    qtbot: QtBot,
) -> None:
    view = RowsView("longList")
    qtbot.addWidget(view)
    rows = [(f"ILL{n:06d}", date(2026, 11, 1), n % 2 == 0, None) for n in range(5_000)]
    view.show_rows(("Barcode", "Due", "Library use", "Lender"), rows)
    assert view.rowCount() == 5_000
    assert view.headers() == ("Barcode", "Due", "Library use", "Lender")
    assert [view.text(4_998, c) for c in range(4)] == ["ILL004998", "2026-11-01", "yes", ""]
    view.selectRow(4_999)
    assert view.currentRow() == 4_999
    view.show_rows(("Barcode",), [])
    assert view.rowCount() == 0 and view.currentRow() == -1


def test_a_long_list_shown_in_two_steps_keeps_the_rows_on_show_and_the_selection(
    qtbot: QtBot,
) -> None:
    view = RowsView("twoSteps")
    qtbot.addWidget(view)
    rows = [(f"ILL{n:06d}", date(2026, 11, 1)) for n in range(1_000)]
    view.show_rows(("Barcode", "Due"), rows[:100])
    view.selectRow(7)
    view.verticalScrollBar().setValue(3)
    view.extend_rows(("Barcode", "Due"), rows)
    assert view.rowCount() == 1_000 and view.text(999, 0) == "ILL000999"
    assert view.currentRow() == 7 and view.verticalScrollBar().value() == 3

    # Another desk's work changed the top of the list between the two reads: shown afresh.
    changed = [("ILL999999", date(2026, 11, 2)), *rows[1:]]
    view.extend_rows(("Barcode", "Due"), changed)
    assert view.rowCount() == 1_000 and view.text(0, 0) == "ILL999999"
    assert view.currentRow() == -1


def test_columns_are_as_wide_as_qt_would_make_them_for_their_first_rows(qtbot: QtBot) -> None:
    view = RowsView("sized")
    qtbot.addWidget(view)
    view.resize(1600, 600)
    rows = [
        (f"ILL{n:06d}", "A title long enough to need room " * (1 + n % 3), date(2026, 11, 1), "")
        for n in range(60)
    ]
    headers = ("Barcode", "Title", "A rather long header", "Lender")
    view.show_rows(headers, rows)
    ours = [view.columnWidth(c) for c in range(3)]
    view.resizeColumnsToContents()
    assert [abs(a - view.columnWidth(c)) <= 1 for c, a in enumerate(ours)] == [True] * 3
    metrics = view.fontMetrics()
    assert ours[0] > metrics.horizontalAdvance("ILL000059")
    assert ours[2] > metrics.horizontalAdvance("A rather long header")
