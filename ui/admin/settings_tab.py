"""The Library settings tab: retention days, patron display, thresholds and printed texts.

Select a setting, type its new value, press Enter or Save. The service checks the admin
role and the value; a refusal says what the setting takes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.records import settings_admin
from app.records.settings_admin import SettingValue
from ui.desk_session import DeskSession
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt

HEADERS = ("Setting", "Value", "Default", "Kind")


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
        self.value_edit = QLineEdit(self)
        self.value_edit.setObjectName("settingValueEdit")
        self.value_edit.setPlaceholderText("new value; lists are lines separated by |")
        self.value_edit.returnPressed.connect(self.save)
        self.save_button = QPushButton("Save", self)
        self.save_button.setObjectName("settingSaveButton")
        self.save_button.clicked.connect(self.save)
        self.feedback = Feedback("settingsMessage", self)
        row = QHBoxLayout()
        row.addWidget(self.name_label)
        row.addWidget(self.value_edit, 1)
        row.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
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
            [(r.name, (r.name, r.value, "" if not r.changed else r.default, r.kind)) for r in rows]
        )
        self._selected()

    def _selected(self) -> None:
        key = self.table.current_key()
        row = self.values.get(key) if key else None
        self.save_button.setEnabled(row is not None)
        self.value_edit.setEnabled(row is not None)
        if row is not None:
            self.name_label.setText(row.name)
            self.value_edit.setText(row.value)

    def save(self) -> None:
        key = self.table.current_key()
        if not key:
            return
        text = self.value_edit.text()
        rt, actor = self.session.rt, self.session.actor

        def saved(row: SettingValue) -> None:
            self.feedback.good(f"{row.name} is now {row.value}.")
            self.refresh(lambda: self.table.select_key(row.name))

        attempt(
            self.session.ops,
            self.feedback,
            lambda: settings_admin.change_library_setting(rt, actor, key, text),
            saved,
        )
