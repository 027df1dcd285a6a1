"""Admin > Notice templates: the library's wording for each notice, checked before saving.

A template may use only the fields listed for its kind; one naming anything else is refused
with a message saying which field and which ones exist, and nothing is stored. Preview fills
the template with sample values so the wording can be read as a patron will read it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.notices import templates
from app.notices.templates import TemplateText
from ui.desk_session import DeskSession
from ui.widgets.panel_parts import Feedback, attempt, button


class TemplatesTab(QWidget):
    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("templatesTab")
        self.session = session
        self.ops = session.ops
        self.templates: dict[str, TemplateText] = {}

        self.kind_list = QListWidget(self)
        self.kind_list.setObjectName("templateKindList")
        self.kind_list.currentItemChanged.connect(self._chosen)

        self.fields_label = QLabel(self)
        self.fields_label.setObjectName("templateFieldsLabel")
        self.fields_label.setWordWrap(True)
        self.fields_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subject_edit = QLineEdit(self)
        self.subject_edit.setObjectName("templateSubjectEdit")
        self.body_edit = QPlainTextEdit(self)
        self.body_edit.setObjectName("templateBodyEdit")
        self.preview_view = QPlainTextEdit(self)
        self.preview_view.setObjectName("templatePreview")
        self.preview_view.setReadOnly(True)
        self.preview_button = button(self, "Preview", "previewTemplateButton", self.preview)
        self.save_button = button(self, "Save", "saveTemplateButton", self.save)
        self.reset_button = button(
            self, "Back to the default wording", "resetTemplateButton", self.reset
        )
        buttons = QHBoxLayout()
        for each in (self.preview_button, self.save_button, self.reset_button):
            buttons.addWidget(each)
        buttons.addStretch(1)

        editor = QWidget(self)
        form = QFormLayout(editor)
        form.addRow("Fields", self.fields_label)
        form.addRow("Subject", self.subject_edit)
        form.addRow("Message", self.body_edit)
        form.addRow("", self._row(buttons, editor))
        form.addRow("Preview", self.preview_view)

        split = QSplitter(self)
        split.setObjectName("templatesSplitter")
        split.addWidget(self.kind_list)
        split.addWidget(editor)
        split.setStretchFactor(1, 3)
        self.feedback = Feedback("templatesMessage", self)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addWidget(self.feedback)
        self.refresh()

    def _row(self, layout: QHBoxLayout, parent: QWidget) -> QWidget:
        holder = QWidget(parent)
        layout.setContentsMargins(0, 0, 0, 0)
        holder.setLayout(layout)
        return holder

    def activate(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        rt, actor = self.session.rt, self.session.actor
        attempt(self.ops, self.feedback, lambda: templates.list_templates(rt, actor), self._listed)

    def _listed(self, found: tuple[TemplateText, ...]) -> None:
        keep = self.current_kind()
        self.templates = {t.kind: t for t in found}
        self.kind_list.blockSignals(True)
        self.kind_list.clear()
        for t in found:
            item = QListWidgetItem(f"{t.label}{'  (edited)' if t.customised else ''}")
            item.setData(Qt.ItemDataRole.UserRole, t.kind)
            self.kind_list.addItem(item)
        self.kind_list.blockSignals(False)
        self.choose(keep or found[0].kind)

    def current_kind(self) -> str | None:
        item = self.kind_list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def choose(self, kind: str) -> None:
        for row in range(self.kind_list.count()):
            item = self.kind_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == kind:
                self.kind_list.setCurrentRow(row)
                self._show(kind)
                return

    def _chosen(self, current: QListWidgetItem | None, _previous: object = None) -> None:
        if current is not None:
            self._show(str(current.data(Qt.ItemDataRole.UserRole)))

    def _show(self, kind: str) -> None:
        t = self.templates.get(kind)
        if t is None:
            return
        self.fields_label.setText(", ".join(f"{{{{ {name} }}}}" for name in t.fields))
        self.subject_edit.setText(t.subject)
        self.body_edit.setPlainText(t.body)
        self.reset_button.setEnabled(t.customised)
        self.preview_view.clear()

    def preview(self) -> None:
        kind = self.current_kind()
        if kind is None:
            return
        subject, body = self.subject_edit.text(), self.body_edit.toPlainText()

        def shown(made: templates.RenderedNotice) -> None:
            self.preview_view.setPlainText(f"Subject: {made.subject}\n\n{made.body}")
            self.feedback.good("Preview filled with sample values.")

        attempt(self.ops, self.feedback, lambda: templates.preview(kind, subject, body), shown)

    def save(self) -> None:
        kind = self.current_kind()
        if kind is None:
            return
        rt, actor = self.session.rt, self.session.actor
        subject, body = self.subject_edit.text(), self.body_edit.toPlainText()

        def saved(view: TemplateText) -> None:
            self.refresh()
            self.feedback.good(f"The '{view.label}' notice now uses your wording.")

        attempt(
            self.ops,
            self.feedback,
            lambda: templates.save_template(rt, actor, kind, subject, body),
            saved,
        )

    def reset(self) -> None:
        kind = self.current_kind()
        if kind is None:
            return
        rt, actor = self.session.rt, self.session.actor

        def back(view: TemplateText) -> None:
            self.refresh()
            self.feedback.good(f"The '{view.label}' notice uses the default wording again.")

        attempt(self.ops, self.feedback, lambda: templates.reset_template(rt, actor, kind), back)
