"""The Admin screen: one tab per administrative task, each shown only to roles that may use it.

Administrators see every tab; ILL office staff see the audit trail and the CSV import. The
role checks that matter are in the services; hiding a tab only spares staff a refusal.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.library.vocabulary import Role
from ui.desk_session import DeskSession
from ui.widgets.screen_tabs import ScreenTabs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TabSpec:
    key: str
    title: str
    module: str
    class_name: str
    min_role: Role


TABS = (
    TabSpec("staff", "Staff", "ui.admin.staff_tab", "StaffTab", Role.ADMIN),
    TabSpec("audit", "Audit trail", "ui.admin.audit_tab", "AuditTab", Role.ILL_OFFICE),
    TabSpec("closures", "Closures", "ui.admin.closures_tab", "ClosuresTab", Role.ADMIN),
    TabSpec("templates", "Notice templates", "ui.admin.templates_tab", "TemplatesTab", Role.ADMIN),
    TabSpec("settings", "Library settings", "ui.admin.settings_tab", "SettingsTab", Role.ADMIN),
    TabSpec("ncip", "NCIP partners", "ui.admin.ncip_partners_tab", "NcipPartnersTab", Role.ADMIN),
    TabSpec("import", "Import", "ui.admin.import_tab", "ImportTab", Role.ILL_OFFICE),
)


def _unavailable(spec: TabSpec, reason: str, parent: QWidget) -> QWidget:
    label = QLabel(f"{spec.title} is not available: {reason}", parent)
    label.setObjectName(f"{spec.key}TabUnavailable")
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def load_tab(spec: TabSpec, session: DeskSession, parent: QWidget) -> QWidget:
    """The tab's widget, or a plain label saying why it could not be made."""
    try:
        module = importlib.import_module(spec.module)
        widget = getattr(module, spec.class_name)(session, parent)
        if not isinstance(widget, QWidget):
            raise TypeError(f"{spec.class_name} is not a widget")
    except Exception as exc:  # one broken tab must not take the others down
        log.exception("admin tab %s could not be loaded", spec.key)
        return _unavailable(spec, f"{type(exc).__name__}: {exc}", parent)
    return widget


class AdminScreen(QWidget):
    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("adminScreen")
        self.session = session
        self.tabs = ScreenTabs(self)
        self.tabs.setObjectName("adminTabs")
        self.keys: list[str] = []
        for spec in TABS:
            if session.actor.has_role(spec.min_role):
                self.tabs.addTab(load_tab(spec, session, self.tabs), spec.title)
                self.keys.append(spec.key)
        self.tabs.currentChanged.connect(self._activate_current)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

    def tab(self, key: str) -> QWidget | None:
        return self.tabs.widget(self.keys.index(key)) if key in self.keys else None

    def show_tab(self, key: str) -> QWidget | None:
        if key in self.keys:
            self.tabs.setCurrentIndex(self.keys.index(key))
        return self.tab(key)

    def activate(self) -> None:
        self._activate_current()

    def _activate_current(self) -> None:
        widget = self.tabs.currentWidget()
        activate = getattr(widget, "activate", None)
        if callable(activate):
            activate()
