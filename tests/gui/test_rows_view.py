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
