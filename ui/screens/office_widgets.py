"""The small pieces every ILL office tab is built from: tables, fields, message lines, and
running a service call on the desk's runner with its refusal said in the message line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TypeVar

from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ui.desk_session import DeskSession

T = TypeVar("T")


def say(label: QLabel, text: str, *, error: bool = False) -> None:
    """One message line: red with a warning sign for a refusal, plain otherwise."""
    label.setText(f"⚠ {text}" if error and text else text)
    label.setProperty("error", error)
    label.setStyleSheet("color: #b00020; font-weight: bold;" if error else "")


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def fill_table(
    table: QTableWidget, headers: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    table.clear()
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(_cell(value)))
    table.resizeColumnsToContents()


def table_widget(parent: QWidget, name: str) -> QTableWidget:
    table = QTableWidget(parent)
    table.setObjectName(name)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    return table


def line_edit(parent: QWidget, name: str, placeholder: str = "") -> QLineEdit:
    field = QLineEdit(parent)
    field.setObjectName(name)
    field.setPlaceholderText(placeholder)
    return field


def push_button(parent: QWidget, name: str, text: str, slot: Callable[[], None]) -> QPushButton:
    button = QPushButton(text, parent)
    button.setObjectName(name)
    button.clicked.connect(slot)
    return button


def message_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    return label


def run_on_desk(
    session: DeskSession, message: QLabel, action: Callable[[], T], then: Callable[[T], object]
) -> None:
    """Run a service call on the desk's runner; a refusal is said in `message`."""
    session.ops.run(
        action,
        on_done=then,
        on_error=lambda error: say(message, error.message, error=True),
        owner=message,
    )
