"""Sign-in: confirm this desk's branch, then username and password.

Refusals (wrong password, lockout, a virtual branch for non-ILL-office staff) are shown in
the dialog itself, so the next try is one keystroke away. The branch chosen is remembered in
this workstation's settings file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import demo
from app.library import library_settings
from app.library.actors import Actor, this_workstation
from app.library.branches import BranchInfo
from app.library.database_errors import DatabaseError
from app.library.errors import ServiceError
from app.library.runtime import Runtime
from app.people.own_login import SignedIn, sign_in_connected, sign_in_os_user_connected
from app.people.staff import current_os_user, sign_in_facts
from app.workstation.config import WorkstationSettings, save_settings
from ui.icons import resource_icon
from ui.operations import Operations

log = logging.getLogger(__name__)

FIRST_ACCOUNT_COMMAND = (
    'illdesk staff add USERNAME --name "Full Name" --role admin --password-stdin'
)


class SignInDialog(QDialog):
    """Returns Accepted with `actor` set once a staff member is signed in."""

    refused = Signal(str)  # a sign-in was refused; the message is shown in the dialog

    def __init__(
        self,
        rt: Runtime,
        settings: WorkstationSettings,
        parent: QWidget | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self._meanwhile = meanwhile
        self.ops = Operations(self, name="signIn")
        self.setWindowTitle("ILL Desk — Sign in")
        self.rt = rt
        self.settings = settings
        self.actor: Actor | None = None
        # The runtime the desk works with once signed in: on PostgreSQL with staff roles,
        # connected as the staff member; otherwise the one the desk started with.
        self.session_rt: Runtime = rt
        self.settings_warning = ""

        self.branches: list[BranchInfo] = []
        self.staff_count = 0
        self.library = library_settings.LibrarySettings()
        load_error = self._load_database_facts()

        outer = QVBoxLayout(self)
        self._outer = outer
        outer.setContentsMargins(28, 24, 28, 20)
        outer.setSpacing(14)
        heading = QLabel(self.library.library_name, self)
        heading.setObjectName("signInLibrary")
        heading.setProperty("role", "heading")
        subtitle = QLabel("Sign in to ILL Desk", self)
        subtitle.setObjectName("signInSubtitle")
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(heading)
        titles.addWidget(subtitle)
        top = QHBoxLayout()
        top.setSpacing(14)
        logo = QLabel(self)
        logo.setObjectName("signInLogo")
        logo.setPixmap(resource_icon("illdesk").pixmap(56, 56))
        top.addWidget(logo)
        top.addLayout(titles, 1)
        outer.addLayout(top)

        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        self.branch_box = QComboBox(self)
        self.branch_box.setObjectName("signInBranch")
        self.branch_box.setAccessibleName("Workstation branch")
        self.branch_box.view().setObjectName("signInBranchList")
        for branch in self.branches:
            label = f"{branch.code} — {branch.name}"
            if branch.virtual:
                label += "  (ILL office staff only)"
            self.branch_box.addItem(label, branch.code)
        remembered = self.branch_box.findData(settings.branch_code.upper())
        self.branch_box.setCurrentIndex(max(remembered, 0))
        self.user_edit = QLineEdit(self)
        self.user_edit.setObjectName("signInUser")
        self.user_edit.setAccessibleName("Username")
        self.user_edit.setPlaceholderText("username")
        self.password_edit = QLineEdit(self)
        self.password_edit.setObjectName("signInPassword")
        self.password_edit.setAccessibleName("Password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.branch_box.setToolTip("The branch this desk stands at; routing depends on it.")
        form.addRow("&Branch:", self.branch_box)
        form.addRow("&Username:", self.user_edit)
        form.addRow("&Password:", self.password_edit)
        outer.addLayout(form)

        self.message = QLabel("", self)
        self.message.setObjectName("signInMessage")
        self.message.setProperty("role", "error")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setVisible(False)
        outer.addWidget(self.message)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.quit_button = QPushButton("&Quit", self)
        self.quit_button.setObjectName("signInQuit")
        self.quit_button.setAutoDefault(False)
        self.quit_button.clicked.connect(self.reject)
        self.sign_in_button = QPushButton("&Sign in", self)
        self.sign_in_button.setObjectName("signInButton")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.try_sign_in)
        buttons.addWidget(self.quit_button)
        self.os_user_button: QPushButton | None = None
        if settings.os_user_sign_in:
            self.os_user_button = QPushButton(f"Sign in as {current_os_user()}", self)
            self.os_user_button.setObjectName("signInOsUser")
            self.os_user_button.setAutoDefault(False)
            self.os_user_button.setToolTip(
                "This desk trusts the computer's own login: no password needed when the "
                "computer account is mapped to your staff account."
            )
            self.os_user_button.clicked.connect(self.try_os_user_sign_in)
            buttons.addWidget(self.os_user_button)
        buttons.addWidget(self.sign_in_button)
        outer.addLayout(buttons)

        self.demo_list: QTreeWidget | None = None
        if self.library.demo_database and self.staff_count:
            outer.addWidget(self._demo_panel())
        self.setup_note = QLabel("", self)
        self.setup_note.setObjectName("signInSetupNote")
        self.setup_note.setProperty("role", "note")
        self.setup_note.setWordWrap(True)
        self.setup_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setup_note.setVisible(False)
        outer.addWidget(self.setup_note)
        self._explain_setup(load_error)

        self.setTabOrder(self.branch_box, self.user_edit)
        self.setTabOrder(self.user_edit, self.password_edit)
        self.setTabOrder(self.password_edit, self.sign_in_button)
        self.setTabOrder(self.sign_in_button, self.quit_button)
        if self.demo_list is not None:
            self.setTabOrder(self.quit_button, self.demo_list)
        self.user_edit.setFocus()
        self.setMinimumWidth(640)

    # -- what the database holds ----------------------------------------------

    def _load_database_facts(self) -> str:
        """Branches, staff count and library settings; the error text if unreadable."""
        try:
            facts = sign_in_facts(self.rt)
            self.branches, self.staff_count, self.library = (
                facts.branches,
                facts.staff_count,
                facts.library,
            )
        except (ServiceError, DatabaseError) as exc:
            log.exception("sign-in could not read the database")
            return str(getattr(exc, "message", exc)).splitlines()[0]
        return ""

    def _explain_setup(self, load_error: str) -> None:
        if load_error:
            self._set_note(
                f"The database cannot be read: {load_error}. Check the network and the "
                "database server, then restart ILL Desk."
            )
        elif not self.branches:
            self._set_note(
                "This database has no branches yet, so nobody can sign in. "
                "An administrator sets up the library first "
                "(`illdesk demo` loads an example library to try ILL Desk)."
            )
        elif not self.staff_count:
            self._set_note(
                "There are no staff accounts yet. Create the first one on the command line, "
                f"typing the password when asked:\n\n    {FIRST_ACCOUNT_COMMAND}\n\n"
                "Then sign in here with that username."
            )
        else:
            return
        self.sign_in_button.setEnabled(False)

    def _set_note(self, text: str) -> None:
        self.setup_note.setText(text)
        self.setup_note.setVisible(True)

    def _demo_panel(self) -> QWidget:
        panel = QFrame(self)
        panel.setObjectName("signInDemoPanel")
        panel.setProperty("role", "panel")
        col = QVBoxLayout(panel)
        col.setContentsMargins(12, 10, 12, 10)
        title = QLabel(
            f"Demo library — every account's password is <b>{demo.DEMO_PASSWORD}</b>", panel
        )
        title.setObjectName("signInDemoTitle")
        title.setTextFormat(Qt.TextFormat.RichText)
        title.setWordWrap(True)
        hint = QLabel(
            "Select an account and press Enter to sign in with it. "
            "The ILL office account signs in at WS-ILL.",
            panel,
        )
        hint.setWordWrap(True)
        self.demo_list = QTreeWidget(panel)
        self.demo_list.setObjectName("signInDemoAccounts")
        self.demo_list.setAccessibleName("Demo accounts")
        self.demo_list.setHeaderLabels(["Username", "Name", "Role"])
        self.demo_list.setRootIsDecorated(False)
        self.demo_list.setAllColumnsShowFocus(True)
        for username, full_name, role in demo.DEMO_ACCOUNTS:
            item = QTreeWidgetItem([username, full_name, role.value])
            item.setData(0, Qt.ItemDataRole.UserRole, username)
            self.demo_list.addTopLevelItem(item)
        for column in range(3):
            self.demo_list.resizeColumnToContents(column)
            self.demo_list.setColumnWidth(column, self.demo_list.columnWidth(column) + 24)
        rows = self.demo_list.topLevelItemCount()
        row_height = self.demo_list.sizeHintForRow(0)
        header = self.demo_list.header().sizeHint().height()
        self.demo_list.setFixedHeight(header + row_height * rows + 6)
        self.demo_list.itemActivated.connect(self._use_demo_account)
        col.addWidget(title)
        col.addWidget(hint)
        col.addWidget(self.demo_list)
        return panel

    def _use_demo_account(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        username = str(item.data(0, Qt.ItemDataRole.UserRole))
        self.user_edit.setText(username)
        self.password_edit.setText(demo.DEMO_PASSWORD)
        if username == "office":
            ill = self.branch_box.findData("WS-ILL")
            if ill >= 0:
                self.branch_box.setCurrentIndex(ill)
        self.sign_in_button.setFocus()

    # -- signing in -------------------------------------------------------------

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow to fit a message (wrapped lines need the height for this width)."""
        layout = self._outer
        if layout.hasHeightForWidth():
            needed = layout.totalHeightForWidth(self.width())
        else:
            needed = layout.totalSizeHint().height()
        if needed > self.height():
            self.resize(self.width(), needed)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_height()

    def try_os_user_sign_in(self) -> None:
        """Sign in with the computer account mapped to a staff account (a workstation setting)."""
        branch_code = self.branch_box.currentData()
        if not branch_code:
            self.show_message("Choose the branch this desk stands at.")
            self.branch_box.setFocus()
            return
        self._finish_sign_in(
            lambda: sign_in_os_user_connected(
                self.rt, current_os_user(), branch_code, this_workstation()
            )
        )

    def try_sign_in(self) -> None:
        branch_code = self.branch_box.currentData()
        username = self.user_edit.text().strip()
        if not branch_code:
            self.show_message("Choose the branch this desk stands at.")
            self.branch_box.setFocus()
            return
        if not username:
            self.show_message("Type your username.")
            self.user_edit.setFocus()
            return
        if not self.password_edit.text():
            self.show_message("Type your password.")
            self.password_edit.setFocus()
            return
        password = self.password_edit.text()
        self._finish_sign_in(
            lambda: sign_in_connected(self.rt, username, password, branch_code, this_workstation())
        )

    def _finish_sign_in(self, attempt: Callable[[], SignedIn]) -> None:
        """Check the password on the sign-in runner while this thread does `meanwhile`
        (loading the main window's code, the first time): argon2 holds no interpreter lock,
        so the two overlap and the window follows the sign-in sooner; the dialog never waits
        on the database."""
        self.ops.run(attempt, on_done=self._signed_in, on_error=self._refused, name="sign-in")
        meanwhile, self._meanwhile = self._meanwhile, None  # once is enough
        if meanwhile is not None:
            try:
                meanwhile()
            except Exception:  # the window's own start-up reports it again, with context
                log.exception("loading the main window's code failed during sign-in")

    def _refused(self, error: ServiceError) -> None:
        self.refused.emit(error.message)
        if error.code == "database_unavailable":
            self.show_message("The database did not answer. Check the network, then try again.")
            return
        self.show_message(error.message)
        self.password_edit.clear()
        self.password_edit.setFocus()

    def _signed_in(self, signed: SignedIn) -> None:
        if self.actor is not None:
            if signed.rt is not self.rt:  # a second Enter while the first was being checked
                signed.rt.db.dispose()
            return
        self.actor, self.session_rt = signed.actor, signed.rt
        actor = signed.actor
        self._remember_branch(actor.branch_code)
        self.password_edit.clear()
        self.accept()

    def _remember_branch(self, code: str) -> None:
        if self.settings.branch_code == code:
            return
        self.settings.branch_code = code
        try:
            save_settings(self.settings)
        except (ServiceError, OSError) as exc:
            # Signing in still works; the branch is asked for again next time.
            self.settings_warning = str(getattr(exc, "message", exc))
            log.warning("workstation branch not saved: %s", self.settings_warning)
