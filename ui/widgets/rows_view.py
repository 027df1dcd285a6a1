"""A read-only table of rows kept as data: Qt asks for the cells it paints, nothing more.

An office list can hold thousands of rows (5,000 overdue loans at a large library). Made as
QTableWidget items, every cell was a Qt object built before the list showed, and sizing the
columns measured every one of them: over a second from the click to the rows painted. Here
a row stays a tuple, a cell's text is made when Qt paints it, and the columns are sized from
the first rows only, measured here (Qt's own sizing asks each cell a dozen questions: four
times slower). A long list can come in two steps: its first screenful, then all of it
(`extend_rows`), the rows on show staying where they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QTableView, QWidget

from ui.widgets.column_fit import fit_columns
from ui.widgets.empty_note import EmptyNote

# Columns are sized to fit the first rows: enough to read, whatever the list's length.
SIZED_ROWS = 50

_Index = QModelIndex | QPersistentModelIndex
_DISPLAY, _TOOLTIP = int(Qt.ItemDataRole.DisplayRole), int(Qt.ItemDataRole.ToolTipRole)


def cell_text(value: object) -> str:
    """A value as the lists show it: dates as ISO, times local, yes/no as "yes" or nothing."""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


class RowsModel(QAbstractTableModel):
    """Headers and rows of values; the text of a cell is made when it is asked for."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers: tuple[str, ...] = ()
        self._rows: Sequence[Sequence[object]] = ()

    def replace(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        self.beginResetModel()
        self._headers, self._rows = tuple(headers), rows
        self.endResetModel()

    def extend(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> bool:
        """All the rows, where the first ones are on show already: those past them are
        added below. False (nothing changed) when the rows on show are not its first."""
        shown = len(self._rows)
        if tuple(headers) != self._headers or len(rows) < shown:
            return False
        if any(tuple(new) != tuple(old) for new, old in zip(rows, self._rows, strict=False)):
            return False
        if len(rows) > shown:
            self.beginInsertRows(QModelIndex(), shown, len(rows) - 1)
            self._rows = rows
            self.endInsertRows()
        return True

    def first_rows(self) -> Sequence[Sequence[object]]:
        return self._rows[:SIZED_ROWS]

    @property
    def headers(self) -> tuple[str, ...]:
        return self._headers

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        # Qt asks each painted cell for a dozen roles; all but two are answered first, with
        # plain integers (comparing with Qt's enum members costs several times more).
        if (role != _DISPLAY and role != _TOOLTIP) or not index.isValid():
            return None
        shown = role == _DISPLAY
        row = self._rows[index.row()]
        text = cell_text(row[index.column()]) if index.column() < len(row) else ""
        if shown:
            return text
        return text if len(text) > 16 else None  # whole, should its column be cut

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._headers[section] if section < len(self._headers) else None
        return str(section + 1)


class RowsView(QTableView):
    """A read-only list of rows, one selected at a time.

    `empty` says why the list has no rows and what to do; `empty_note.say()` changes it.
    """

    def __init__(self, object_name: str, parent: QWidget | None = None, *, empty: str = "") -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.rows_model = RowsModel(self)
        self.setModel(self.rows_model)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # A double-click on a column divider sizes it from the first rows too.
        self.horizontalHeader().setResizeContentsPrecision(SIZED_ROWS)
        rows = self.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row measuring
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.horizontalHeader().setStretchLastSection(True)
        self.empty_note = EmptyNote(self, empty)
        self._natural: tuple[int, ...] = ()

    def show_rows(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """New headers and rows; nothing stays selected (a row's place is no longer its entry)."""
        self.clearSelection()
        self.setCurrentIndex(QModelIndex())
        self.rows_model.replace(headers, rows)
        self._natural = self._content_widths()
        fit_columns(self, self._natural)

    def extend_rows(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """The whole list after its first rows were shown: the rows past them are added below,
        and the selection and scroll position stay. When the first rows changed meanwhile
        (another desk's work), the list is shown afresh."""
        if not self.rows_model.extend(headers, rows):
            self.show_rows(headers, rows)

    def _content_widths(self) -> tuple[int, ...]:
        """Each column's width for its header and its first rows' text, as Qt would size it."""
        metrics, header = self.fontMetrics(), self.horizontalHeader()
        margin = self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self)
        padding = 2 * (margin + 1) + (2 if self.showGrid() else 1)
        first = self.rows_model.first_rows()
        widths = []
        for column in range(len(self.rows_model.headers)):
            widest = max(
                (
                    metrics.horizontalAdvance(cell_text(row[column]))
                    for row in first
                    if column < len(row)
                ),
                default=0,
            )
            widths.append(max(header.sectionSizeHint(column), widest + padding))
        return tuple(widths)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        fit_columns(self, self._natural)

    def rowCount(self) -> int:
        return self.rows_model.rowCount()

    def columnCount(self) -> int:
        return self.rows_model.columnCount()

    def headers(self) -> tuple[str, ...]:
        return self.rows_model.headers

    def text(self, row: int, column: int) -> str:
        value = self.rows_model.data(self.rows_model.index(row, column))
        return value if isinstance(value, str) else ""

    def currentRow(self) -> int:
        index = self.currentIndex()
        return index.row() if index.isValid() else -1
