"""The Staff tab: accounts, roles, passwords, deactivation and computer-account mapping.

Every button calls an `app.people.staff_admin` service, which checks the admin role itself; the
tab only shows the answer. Passwords are typed into masked fields and cleared at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.library.vocabulary import Role
from app.people import staff_admin
from app.people.staff_admin import StaffAccount
from ui.desk_session import DeskSession
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt, row

HEADERS = ("Username", "Name", "Role", "Active", "Computer account", "Sign-in")


def _role_combo(name: str, parent: QWidget) -> QComboBox:
    combo = QComboBox(parent)
    combo.setObjectName(name)
    for role in Role:
        combo.addItem(role.value, role)
    return combo


def _sign_in_state(account: StaffAccount) -> str:
    if account.locked_until is not None:
        return f"locked until {account.locked_until.astimezone().strftime('%H:%M:%S')}"
    if not account.has_password:
        return "no password"
    if account.failed_sign_ins:
        return f"{account.failed_sign_ins} wrong password(s)"
    return "ok"


class StaffTab(QWidget):
    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("staffTab")
        self.session = session
        self.accounts: dict[str, StaffAccount] = {}

        self.table = KeyedTable("staffTable", HEADERS, self)
        self.table.itemSelectionChanged.connect(self._selected)
        self.feedback = Feedback("staffMessage", self)

        selected = QGroupBox("Selected account", self)
        form = QFormLayout(selected)
        self.role_combo = _role_combo("roleCombo", selected)
        self.set_role_button = self._button("Set role", "setRoleButton", self.set_role, selected)
        form.addRow("Role", row(self, self.role_combo, self.set_role_button))
        self.new_password = self._password("newPasswordEdit", selected)
        self.reset_button = self._button(
            "Reset password", "resetPasswordButton", self.reset_password, selected
        )
        form.addRow("New password", row(self, self.new_password, self.reset_button))
        self.os_user_edit = QLineEdit(selected)
        self.os_user_edit.setObjectName("osUserEdit")
        self.os_user_edit.setPlaceholderText("e.g. jdoe")
        self.os_user_edit.setToolTip(
            "The computer account that signs in as this person; empty removes the mapping"
        )
        self.os_user_edit.setMinimumWidth(
            self.os_user_edit.fontMetrics().horizontalAdvance("m") * 12
        )
        self.map_button = self._button(
            "Map computer account", "mapOsUserButton", self.map_os_user, selected
        )
        form.addRow("Computer account", row(self, self.os_user_edit, self.map_button))
        self.active_button = self._button(
            "Deactivate", "activeButton", self.toggle_active, selected
        )
        form.addRow("", self.active_button)

        new = QGroupBox("New account", self)
        new_form = QFormLayout(new)
        self.new_username = QLineEdit(new)
        self.new_username.setObjectName("newUsernameEdit")
        self.new_full_name = QLineEdit(new)
        self.new_full_name.setObjectName("newFullNameEdit")
        self.new_role = _role_combo("newRoleCombo", new)
        self.new_account_password = self._password("newAccountPasswordEdit", new)
        self.add_button = self._button("Add account", "addStaffButton", self.add_account, new)
        new_form.addRow("Username", self.new_username)
        new_form.addRow("Full name", self.new_full_name)
        new_form.addRow("Role", self.new_role)
        new_form.addRow("Password", self.new_account_password)
        new_form.addRow("", self.add_button)

        forms = QHBoxLayout()
        forms.addWidget(selected, 1)
        forms.addWidget(new, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(forms)
        layout.addWidget(self.feedback)
        self.refresh()

    def _button(self, text: str, name: str, slot: object, parent: QWidget) -> QPushButton:
        button = QPushButton(text, parent)
        button.setObjectName(name)
        button.clicked.connect(slot)
        return button

    def _password(self, name: str, parent: QWidget) -> QLineEdit:
        edit = QLineEdit(parent)
        edit.setObjectName(name)
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        edit.setPlaceholderText("at least 8 characters")
        edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance("at least 8 characters") + 16)
        return edit

    def activate(self) -> None:
        self.refresh()

    def refresh(self, then: Callable[[], object] | None = None) -> None:
        """Reload the accounts; `then` runs once they are shown."""
        rt, actor = self.session.rt, self.session.actor

        def shown(accounts: Sequence[StaffAccount]) -> None:
            self._show(accounts)
            if then is not None:
                then()

        attempt(
            self.session.ops, self.feedback, lambda: staff_admin.staff_accounts(rt, actor), shown
        )

    def _show(self, accounts: Sequence[StaffAccount]) -> None:
        self.accounts = {a.username: a for a in accounts}
        self.table.fill(
            [
                (
                    a.username,
                    (
                        a.username,
                        a.full_name,
                        a.role.value,
                        "yes" if a.active else "deactivated",
                        a.os_user or "",
                        _sign_in_state(a),
                    ),
                )
                for a in accounts
            ]
        )
        self._selected()

    def selected(self) -> StaffAccount | None:
        key = self.table.current_key()
        return self.accounts.get(key) if key else None

    def _selected(self) -> None:
        account = self.selected()
        for widget in (
            self.set_role_button,
            self.reset_button,
            self.map_button,
            self.active_button,
        ):
            widget.setEnabled(account is not None)
        if account is None:
            return
        self.role_combo.setCurrentIndex(self.role_combo.findData(account.role))
        self.os_user_edit.setText(account.os_user or "")
        self.active_button.setText("Deactivate" if account.active else "Reactivate")

    def _change(
        self, action: Callable[[], StaffAccount], said: Callable[[StaffAccount], str]
    ) -> None:
        """Run one change; when done, reload the list on that account and say what changed."""

        def done(account: StaffAccount) -> None:
            self.feedback.good(said(account))
            self.refresh(lambda: self.table.select_key(account.username))

        attempt(self.session.ops, self.feedback, action, done)

    def set_role(self) -> None:
        account = self.selected()
        if account is None:
            return
        role = Role(self.role_combo.currentData())
        rt, actor, username = self.session.rt, self.session.actor, account.username
        self._change(
            lambda: staff_admin.set_role(rt, actor, username, role),
            lambda _done: f"{username} is now {role.value}.",
        )

    def reset_password(self) -> None:
        account = self.selected()
        if account is None:
            return
        password = self.new_password.text()
        self.new_password.clear()
        rt, actor, username = self.session.rt, self.session.actor, account.username
        self._change(
            lambda: staff_admin.reset_password(rt, actor, username, password),
            lambda _done: f"New password set for {username}; any lockout is lifted.",
        )

    def map_os_user(self) -> None:
        account = self.selected()
        if account is None:
            return
        os_user = self.os_user_edit.text()
        rt, actor, username = self.session.rt, self.session.actor, account.username
        self._change(
            lambda: staff_admin.map_os_user(rt, actor, username, os_user),
            lambda done: (
                f"Computer account {done.os_user} signs in as {done.username}."
                if done.os_user
                else f"{done.username} has no computer account now."
            ),
        )

    def toggle_active(self) -> None:
        account = self.selected()
        if account is None:
            return
        active = not account.active
        rt, actor, username = self.session.rt, self.session.actor, account.username
        verb = "can sign in again" if active else "is deactivated and can no longer sign in"
        self._change(
            lambda: staff_admin.set_active(rt, actor, username, active),
            lambda _done: f"{username} {verb}.",
        )

    def add_account(self) -> None:
        password = self.new_account_password.text()
        self.new_account_password.clear()
        role = Role(self.new_role.currentData())
        rt, actor = self.session.rt, self.session.actor
        username, full_name = self.new_username.text(), self.new_full_name.text()

        def said(done: StaffAccount) -> str:
            self.new_username.clear()
            self.new_full_name.clear()
            return f"Added {done.username} ({done.role.value})."

        self._change(
            lambda: staff_admin.create_staff(rt, actor, username, full_name, role, password),
            said,
        )
