"""Fit a table's columns to its window: the words in the last column are kept readable.

Used by every office and admin table, whether its rows are Qt items or plain data.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QTableView

NARROWEST_CUT = 120  # px: columns are not cut narrower to fit; the table scrolls instead
LAST_COLUMN_ROOM = 240  # px: what the last column keeps before the others are cut


def natural_widths(view: QTableView) -> tuple[int, ...]:
    """Each column's width for its contents (after `resizeColumnsToContents`)."""
    return tuple(view.columnWidth(c) for c in range(view.model().columnCount()))


def fit_columns(view: QTableView, natural: Sequence[int]) -> None:
    """Fit every column on screen: the last (the words: details, title, next step) is cut
    first, down to LAST_COLUMN_ROOM; then the widest others to one width.

    Never below NARROWEST_CUT (then the table scrolls); short columns keep their natural
    width. A cut cell ends in "..." and keeps its tooltip.
    """
    if not natural:
        return
    room = view.viewport().width() - min(natural[-1], LAST_COLUMN_ROOM)
    cap = max(natural[:-1], default=0)  # nothing is cut while everything fits
    while cap > NARROWEST_CUT and sum(min(w, cap) for w in natural[:-1]) > room:
        cap -= 10
    for column, width in enumerate(natural[:-1]):
        view.setColumnWidth(column, min(width, cap))
    header = view.horizontalHeader()  # sized to its contents, the last column stopped
    header.setStretchLastSection(False)  # short of the edge: stretch it again
    header.setStretchLastSection(True)
