"""The Library settings tab: retention days, patron display, thresholds and printed texts.

Each setting shows its name in words, what it does and what it takes; the editor suits it
(a number box held to the setting's range, a list of choices, yes/no, or a text line).
The service checks the admin role and the value; a refusal says what the setting takes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.records import settings_admin
from app.records.settings_admin import SettingValue
from ui.desk_session import DeskSession
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt

HEADERS = ("Setting", "Value", "Default", "What it takes")


class SettingsTab(QWidget):
    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsTab")
        self.session = session
        self.values: dict[str, SettingValue] = {}
        self.table = KeyedTable("settingsTable", HEADERS, self)
        self.table.itemSelectionChanged.connect(self._selected)
        self.name_label = QLabel("Select a setting", self)
        self.name_label.setObjectName("settingName")
        self.description = QLabel("", self)
        self.description.setObjectName("settingDescription")
        self.description.setWordWrap(True)
        self.value_edit = QLineEdit(self)
        self.value_edit.setObjectName("settingValueEdit")
        self.value_edit.returnPressed.connect(self.save)
        self.number_edit = QSpinBox(self)
        self.number_edit.setObjectName("settingNumberEdit")
        self.choice_edit = QComboBox(self)
        self.choice_edit.setObjectName("settingChoiceEdit")
        self.editors = QStackedWidget(self)
        for editor in (self.value_edit, self.number_edit, self.choice_edit):
            self.editors.addWidget(editor)
        self.save_button = QPushButton("Save", self)
        self.save_button.setObjectName("settingSaveButton")
        self.save_button.clicked.connect(self.save)
        self.feedback = Feedback("settingsMessage", self)
        row = QHBoxLayout()
        row.addWidget(self.name_label)
        row.addWidget(self.editors, 1)
        row.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.description)
        layout.addWidget(self.feedback)
        self.refresh()

    def activate(self) -> None:
        self.refresh()

    def refresh(self, then: Callable[[], object] | None = None) -> None:
        """Reload the settings; `then` runs once they are shown."""
        rt, actor = self.session.rt, self.session.actor

        def shown(rows: Sequence[SettingValue]) -> None:
            self._show(rows)
            if then is not None:
                then()

        attempt(
            self.session.ops,
            self.feedback,
            lambda: settings_admin.library_setting_values(rt, actor),
            shown,
        )

    def _show(self, rows: Sequence[SettingValue]) -> None:
        self.values = {r.name: r for r in rows}
        self.table.fill(
            [
                (r.name, (r.label or r.name, r.value, "" if not r.changed else r.default, r.rule))
                for r in rows
            ]
        )
        self._selected()

    def _selected(self) -> None:
        key = self.table.current_key()
        row = self.values.get(key) if key else None
        self.save_button.setEnabled(row is not None)
        self.editors.setEnabled(row is not None)
        if row is None:
            return
        self.name_label.setText(row.label or row.name)
        self.description.setText(f"{row.description} Takes {row.rule}.")
        if row.kind == "number":
            self.number_edit.setRange(row.low, row.high)
            self.number_edit.setValue(int(row.value) if row.value.isdigit() else row.low)
            self.editors.setCurrentWidget(self.number_edit)
        elif row.kind in ("choice", "yes/no"):
            self.choice_edit.clear()
            self.choice_edit.addItems(list(row.choices) if row.kind == "choice" else ["yes", "no"])
            self.choice_edit.setCurrentText(row.value)
            self.editors.setCurrentWidget(self.choice_edit)
        else:
            hint = "lines separated by |" if row.kind == "list" else row.rule
            self.value_edit.setPlaceholderText(hint)
            self.value_edit.setText(row.value)
            self.editors.setCurrentWidget(self.value_edit)

    def current_text(self) -> str:
        """The value in the editor that suits the selected setting, as text for the service."""
        editor = self.editors.currentWidget()
        if editor is self.number_edit:
            return str(self.number_edit.value())
        if editor is self.choice_edit:
            return self.choice_edit.currentText()
        return self.value_edit.text()

    def save(self) -> None:
        key = self.table.current_key()
        if not key:
            return
        text = self.current_text()
        rt, actor = self.session.rt, self.session.actor

        def saved(row: SettingValue) -> None:
            self.feedback.good(f"{row.label or row.name} is now {row.value}.")
            self.refresh(lambda: self.table.select_key(row.name))

        attempt(
            self.session.ops,
            self.feedback,
            lambda: settings_admin.change_library_setting(rt, actor, key, text),
            saved,
        )
