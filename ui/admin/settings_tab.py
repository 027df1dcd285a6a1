"""The Library settings tab: retention days, patron display, thresholds and printed texts.

Each setting shows its name in words, what it does and what it takes; the editor suits it:
yes/no a check box, a number a box held to its range, a choice a list, an amount a box in
dollars and cents, a colour a swatch that opens a colour picker, a list one line per entry,
anything else a text line. The service checks the admin role and the value; a refusal says
what the setting takes, naming settings in words rather than by their keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.library import amounts
from app.library.errors import ServiceError
from app.library.setting_specs import LIST_SEPARATOR, in_words, spec_for
from app.records import settings_admin
from app.records.settings_admin import SettingValue
from ui.desk_session import DeskSession
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt

HEADERS = ("Setting", "Value", "Default")


class ColourEdit(QWidget):
    """A #RRGGBB line and a swatch of that colour; the swatch opens the colour picker."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line = QLineEdit(self)
        self.line.setObjectName("settingColourEdit")
        self.line.setPlaceholderText("#RRGGBB")
        self.line.setMaxLength(7)
        self.swatch = QPushButton("Choose...", self)
        self.swatch.setObjectName("settingColourSwatch")
        self.swatch.setToolTip("Pick the colour")
        self.swatch.clicked.connect(self._pick)
        self.line.textChanged.connect(self._paint)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.line)
        layout.addWidget(self.swatch)
        layout.addStretch(1)

    def text(self) -> str:
        return self.line.text().strip()

    def set_text(self, text: str) -> None:
        self.line.setText(text)
        self._paint(text)

    def _paint(self, text: str) -> None:
        colour = QColor(text.strip())
        ok = len(text.strip()) == 7 and colour.isValid()
        ink = "#000000" if ok and colour.lightness() > 140 else "#ffffff"
        self.swatch.setStyleSheet(
            f"background: {colour.name()}; color: {ink}; padding: 4px 12px;" if ok else ""
        )

    def _pick(self) -> None:
        start = QColor(self.text())
        chosen = QColorDialog.getColor(start if start.isValid() else QColor("#1F3A5F"), self)
        if chosen.isValid():
            self.set_text(chosen.name().upper())


class SettingsTab(QWidget):
    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsTab")
        self.session = session
        self.values: dict[str, SettingValue] = {}
        self.table = KeyedTable("settingsTable", HEADERS, self)
        self.table.itemSelectionChanged.connect(self._selected)

        box = QGroupBox("Selected setting", self)
        self.name_label = QLabel("Select a setting in the list above.", box)
        self.name_label.setObjectName("settingName")
        self.name_label.setStyleSheet("font-weight: bold;")
        self.description = QLabel("", box)
        self.description.setObjectName("settingDescription")
        self.description.setWordWrap(True)
        self.value_edit = QLineEdit(box)
        self.value_edit.setObjectName("settingValueEdit")
        self.value_edit.returnPressed.connect(self.save)
        self.number_edit = QSpinBox(box)
        self.number_edit.setObjectName("settingNumberEdit")
        self.choice_edit = QComboBox(box)
        self.choice_edit.setObjectName("settingChoiceEdit")
        self.flag_edit = QCheckBox("Yes", box)
        self.flag_edit.setObjectName("settingFlagEdit")
        self.amount_edit = QDoubleSpinBox(box)
        self.amount_edit.setObjectName("settingAmountEdit")
        self.amount_edit.setDecimals(2)
        self.amount_edit.setPrefix("$ ")
        self.amount_edit.setGroupSeparatorShown(True)
        self.colour_edit = ColourEdit(box)
        self.colour_edit.line.returnPressed.connect(self.save)
        self.lines_edit = QPlainTextEdit(box)
        self.lines_edit.setObjectName("settingLinesEdit")
        self.lines_edit.setPlaceholderText("One entry a line")
        self.lines_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 6 + 12)
        self.editors: tuple[QWidget, ...] = (
            self.value_edit,
            self.number_edit,
            self.choice_edit,
            self.flag_edit,
            self.amount_edit,
            self.colour_edit,
            self.lines_edit,
        )
        self.editor: QWidget = self.value_edit  # the one that suits the selected setting
        self.save_button = QPushButton("Save", box)
        self.save_button.setObjectName("settingSaveButton")
        self.save_button.clicked.connect(self.save)
        self.feedback = Feedback("settingsMessage", self)

        edit_row = QHBoxLayout()
        for editor in self.editors:
            edit_row.addWidget(editor, 1)
        edit_row.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignTop)
        inner = QVBoxLayout(box)
        inner.addWidget(self.name_label)
        inner.addWidget(self.description)
        inner.addLayout(edit_row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(box)
        layout.addWidget(self.feedback)
        self._show_editor(None)
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
            [(r.name, (r.label or r.name, r.value, r.default if r.changed else "")) for r in rows]
        )
        self._selected()

    def _show_editor(self, editor: QWidget | None) -> None:
        for each in self.editors:
            each.setVisible(each is editor)
        self.editor = editor if editor is not None else self.value_edit
        self.save_button.setEnabled(editor is not None)

    def _selected(self) -> None:
        key = self.table.current_key()
        row = self.values.get(key) if key else None
        if row is None:
            self._show_editor(None)
            return
        self.name_label.setText(row.label or row.name)
        rule = row.rule.replace(f", separated by {LIST_SEPARATOR}", ", one a line")
        self.description.setText(in_words(f"{row.description} Takes {rule}."))
        self._show_editor(self._load_editor(row))

    def _load_editor(self, row: SettingValue) -> QWidget:
        """The editor that suits `row`, holding its current value."""
        if row.kind == "number":
            self.number_edit.setRange(row.low, row.high)
            self.number_edit.setValue(int(row.value) if row.value.isdigit() else row.low)
            return self.number_edit
        if row.kind == "yes/no":
            self.flag_edit.setChecked(row.value == "yes")
            return self.flag_edit
        if row.kind == "choice":
            self.choice_edit.clear()
            self.choice_edit.addItems(list(row.choices))
            self.choice_edit.setCurrentText(row.value)
            return self.choice_edit
        if row.kind == "amount":
            self.amount_edit.setRange(*self._amount_range(row.name))
            self.amount_edit.setValue(float(row.value or 0))
            return self.amount_edit
        if row.kind == "colour":
            self.colour_edit.set_text(row.value)
            return self.colour_edit
        if row.kind == "list":
            lines = [part.strip() for part in row.value.split(LIST_SEPARATOR) if part.strip()]
            self.lines_edit.setPlainText("\n".join(lines))
            return self.lines_edit
        self.value_edit.setPlaceholderText(in_words(row.rule))
        self.value_edit.setText(row.value)
        return self.value_edit

    def _amount_range(self, name: str) -> tuple[float, float]:
        """From 0.00 (or 0.01) to the library's largest amount (the ledger's, for that one)."""
        low = 0.0 if spec_for(name).allow_zero else 0.01
        if name == "amount_maximum":
            return low, float(amounts.HARD_MAXIMUM)
        cap = self.values.get("amount_maximum")
        return low, float(amounts.amount_maximum(cap.value) if cap else amounts.HARD_MAXIMUM)

    def current_text(self) -> str:
        """The value in the editor that suits the selected setting, as text for the service."""
        editor = self.editor
        if editor is self.number_edit:
            return str(self.number_edit.value())
        if editor is self.choice_edit:
            return self.choice_edit.currentText()
        if editor is self.flag_edit:
            return "yes" if self.flag_edit.isChecked() else "no"
        if editor is self.amount_edit:
            return f"{Decimal(str(self.amount_edit.value())):.2f}"
        if editor is self.colour_edit:
            return self.colour_edit.text()
        if editor is self.lines_edit:
            lines = self.lines_edit.toPlainText().splitlines()
            return LIST_SEPARATOR.join(line.strip() for line in lines if line.strip())
        return self.value_edit.text()

    def save(self) -> None:
        key = self.table.current_key()
        if not key:
            return
        text = self.current_text()
        if self.editor is self.lines_edit and LIST_SEPARATOR in self.lines_edit.toPlainText():
            self.feedback.problem(f"A line cannot contain {LIST_SEPARATOR}: it separates lines.")
            return
        rt, actor = self.session.rt, self.session.actor

        def saved(row: SettingValue) -> None:
            said = f"{row.label or row.name} is now {row.value or '(empty)'}"
            self.feedback.good(said if said.endswith(".") else f"{said}.")
            self.refresh(lambda: self.table.select_key(row.name))

        def refused(error: ServiceError) -> None:
            self.feedback.problem(in_words(error.message))

        self.session.ops.run(
            lambda: settings_admin.change_library_setting(rt, actor, key, text),
            on_done=saved,
            on_error=refused,
            owner=self.feedback,
        )
