"""Admin's NCIP partners: which ILL systems may send NCIP messages, with which secret and from
which networks. Every button calls an `app.ncip.partners` service, which checks the admin
role itself; the secret is typed into a masked field and cleared at once."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QFormLayout, QGroupBox, QLineEdit, QVBoxLayout, QWidget

from app.ncip import partners
from app.ncip.partners import PartnerView
from ui.desk_session import DeskSession
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt, button, row

HEADERS = ("Agency id", "Trusted", "Secret", "Networks")


class NcipPartnersTab(QWidget):
    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ncipPartnersTab")
        self.session = session
        self.table = KeyedTable(
            "ncipPartnersTable",
            HEADERS,
            self,
            empty=(
                "No ILL system may send NCIP messages yet. Type its agency id, a shared secret "
                "and the networks it sends from below, then press Allow."
            ),
        )
        self.table.itemSelectionChanged.connect(self._selected)
        self.feedback = Feedback("ncipPartnersMessage", self)
        box = QGroupBox("Partner", self)
        form = QFormLayout(box)
        self.agency_edit = QLineEdit(box)
        self.agency_edit.setObjectName("ncipAgencyEdit")
        self.agency_edit.setPlaceholderText("the agency id the ILL system sends, e.g. ILLIAD")
        form.addRow("Agency id", self.agency_edit)
        self.secret_edit = QLineEdit(box)
        self.secret_edit.setObjectName("ncipSecretEdit")
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_edit.setPlaceholderText("shared secret (empty: keep the current one)")
        form.addRow("Secret", self.secret_edit)
        self.networks_edit = QLineEdit(box)
        self.networks_edit.setObjectName("ncipNetworksEdit")
        self.networks_edit.setPlaceholderText("e.g. 192.0.2.0/24 10.1.2.3 (empty: any address)")
        form.addRow("Networks", self.networks_edit)
        form.addRow(
            "",
            row(
                box,
                button(box, "Allow", "ncipAllowButton", self.allow),
                button(box, "Deny", "ncipDenyButton", self.deny),
            ),
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(box)
        layout.addWidget(self.feedback)
        self.refresh()

    def activate(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        rt, actor = self.session.rt, self.session.actor
        attempt(
            self.session.ops, self.feedback, lambda: partners.list_partners(rt, actor), self._show
        )

    def _show(self, views: Sequence[PartnerView]) -> None:
        self.table.fill(
            [
                (
                    v.agency_id,
                    (
                        v.agency_id,
                        "yes" if v.active else "no",
                        "yes" if v.has_secret else "no",
                        ", ".join(v.networks) or "any address",
                    ),
                )
                for v in views
            ]
        )

    def _selected(self) -> None:
        key = self.table.current_key()
        if key is not None:
            self.agency_edit.setText(key)

    def allow(self) -> None:
        secret = self.secret_edit.text() or None
        self.secret_edit.clear()
        networks = self.networks_edit.text().replace(",", " ").split()
        rt, actor, agency = self.session.rt, self.session.actor, self.agency_edit.text()

        def allowed(view: PartnerView) -> None:
            self.feedback.good(f"{view.agency_id} may send NCIP messages.")
            self.refresh()

        attempt(
            self.session.ops,
            self.feedback,
            lambda: partners.allow_partner(rt, actor, agency, secret=secret, networks=networks),
            allowed,
        )

    def deny(self) -> None:
        rt, actor, agency = self.session.rt, self.session.actor, self.agency_edit.text()

        def denied(view: PartnerView) -> None:
            self.feedback.good(f"{view.agency_id}'s messages are refused from now on.")
            self.refresh()

        attempt(
            self.session.ops,
            self.feedback,
            lambda: partners.deny_partner(rt, actor, agency),
            denied,
        )
