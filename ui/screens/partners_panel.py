"""The partner directory: each partner library's name and ILL office e-mail, by OCLC symbol."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.lending import partner_directory
from app.lending.partner_directory import PartnerView
from ui.desk_session import DeskSession
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt


class PartnersPanel(QWidget):
    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("partnersPanel")
        self.session = session
        self.rows: dict[str, PartnerView] = {}
        layout = QVBoxLayout(self)
        self.table = KeyedTable(
            "partnersTable",
            ("Symbol", "Library", "ILL office e-mail", "Changed by"),
            self,
            empty=(
                "No partner library yet. Type its OCLC symbol, name and ILL office e-mail "
                "below and press Save partner: overdue and lost messages go to that address."
            ),
        )
        layout.addWidget(self.table, 1)
        form = QHBoxLayout()
        self.symbol_input = QLineEdit(self)
        self.symbol_input.setObjectName("partnerSymbolInput")
        self.symbol_input.setPlaceholderText("OCLC symbol, e.g. UIU")
        self.symbol_input.setMaxLength(8)
        self.symbol_input.setMinimumWidth(
            self.symbol_input.fontMetrics().horizontalAdvance("OCLC symbol, e.g. UIU") + 24
        )
        self.name_input = QLineEdit(self)
        self.name_input.setObjectName("partnerNameInput")
        self.name_input.setPlaceholderText("Library name")
        self.name_input.setMaxLength(partner_directory.NAME_MAX)
        self.email_input = QLineEdit(self)
        self.email_input.setObjectName("partnerEmailInput")
        self.email_input.setPlaceholderText("ILL office e-mail address")
        self.email_input.setMaxLength(254)
        self.save_button = QPushButton("Save partner", self)
        self.save_button.setObjectName("savePartnerButton")
        form.addWidget(self.symbol_input)
        form.addWidget(self.name_input, 1)
        form.addWidget(self.email_input, 1)
        form.addWidget(self.save_button)
        layout.addLayout(form)
        self.feedback = Feedback("partnersFeedback", self)
        layout.addWidget(self.feedback)
        self.table.itemSelectionChanged.connect(self._pick)
        self.save_button.clicked.connect(self._save)
        self.email_input.returnPressed.connect(self._save)
        self.refresh()

    def refresh(self) -> None:
        s = self.session
        attempt(
            s.ops, self.feedback, lambda: partner_directory.list_partners(s.rt, s.actor), self._show
        )

    def _show(self, rows: Sequence[PartnerView]) -> None:
        self.rows = {r.symbol: r for r in rows}
        self.table.fill([(r.symbol, (r.symbol, r.name, r.email, r.updated_by)) for r in rows])

    def _pick(self) -> None:
        row = self.rows.get(self.table.current_key() or "")
        if row is not None:
            self.symbol_input.setText(row.symbol)
            self.name_input.setText(row.name)
            self.email_input.setText(row.email)

    def _save(self) -> None:
        s = self.session
        symbol, name, email = (
            self.symbol_input.text(),
            self.name_input.text(),
            self.email_input.text(),
        )

        def saved(row: PartnerView) -> None:
            self.feedback.good(
                f"{row.symbol} saved: messages to it go to {row.email or 'nobody (no e-mail)'}."
            )
            self.refresh()

        attempt(
            s.ops,
            self.feedback,
            lambda: partner_directory.set_partner(s.rt, s.actor, symbol, email=email, name=name),
            saved,
        )
