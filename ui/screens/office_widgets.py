"""The small pieces every ILL office tab is built from: tables, fields, message lines, and
running a service call on the desk's runner with its refusal said in the message line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QWidget

from ui.desk_session import DeskSession
from ui.widgets.rows_view import RowsView

T = TypeVar("T")


def say(label: QLabel, text: str, *, error: bool = False) -> None:
    """One message line: red with a warning sign for a refusal, plain otherwise."""
    label.setText(f"⚠ {text}" if error and text else text)
    label.setProperty("error", error)
    label.setStyleSheet("color: #b00020; font-weight: bold;" if error else "")


def fill_table(table: RowsView, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """New headers and rows; nothing stays selected (a row's place is no longer its entry)."""
    table.show_rows(headers, rows)


def table_widget(parent: QWidget | None, name: str) -> RowsView:
    """A list of rows kept as data (fast at thousands of rows), with its empty note."""
    return RowsView(name, parent)


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
