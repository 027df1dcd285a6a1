"""Patrons: find a patron by campus ID, barcode or name, and see the whole account.

The account panel is also what Check Out shows beside the scan field, so staff see the
new checkout land in the patron's list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.library.errors import ServiceError
from app.library.vocabulary import NoticeStatus, Role
from app.people.patrons import PatronSummary, PatronView, find_patrons, patron_view
from ui.desk_session import DeskSession
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt
from ui.widgets.screen_tabs import ScreenTabs

if TYPE_CHECKING:
    from app.notices.outbox_review import NoticeView

NO_PATRON_YET = "Find a patron above: every notice they got or will get is listed here."
TYPE_WORDS = {"student": "Student", "faculty": "Faculty", "staff": "Staff", "ill_account": "ILL"}


def table(name: str, headers: Sequence[str], parent: QWidget) -> QTableWidget:
    widget = QTableWidget(0, len(headers), parent)
    widget.setObjectName(name)
    widget.setHorizontalHeaderLabels(list(headers))
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    widget.verticalHeader().setVisible(False)
    widget.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    widget.horizontalHeader().setStretchLastSection(True)
    return widget


def fill(widget: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    widget.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            widget.setItem(r, c, QTableWidgetItem(text))


class PatronAccountPanel(QWidget):
    """Renders one PatronView: contact, blocks, and a tab per list."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patronAccount")
        self.view: PatronView | None = None
        self.header = QLabel("No patron selected", self)
        self.header.setObjectName("patronHeader")
        self.header.setStyleSheet("font-size: 16pt; font-weight: 700;")
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.contact = QLabel("", self)
        self.contact.setObjectName("patronContact")
        self.blocks = QLabel("", self)
        self.blocks.setObjectName("patronBlocks")
        self.blocks.setWordWrap(True)
        self.blocks.setStyleSheet(
            "background: #fde2e1; color: #6b0d0d; padding: 6px; border-radius: 4px;"
        )
        self.blocks.setVisible(False)
        self.tabs = ScreenTabs(self)
        self.tabs.setObjectName("patronTabs")
        self.checkouts = table(
            "checkoutsTable", ("Barcode", "Title", "Due", "Strap date", "Branch", "Note"), self
        )
        self.waiting = table(
            "waitingTable", ("Barcode", "Title", "Request", "Hold shelf at", "Pick up by"), self
        )
        self.in_house = table(
            "inHouseTable",
            ("Barcode", "Title", "Hold shelf at", "Pick up by", "In use", "Uses"),
            self,
        )
        self.requests = table(
            "requestsTable", ("Request", "Title", "Kind", "Status", "Pickup"), self
        )
        self.charges = table("chargesTable", ("Kind", "Amount", "Reason", "Added", "Bursar"), self)
        for widget, title in (
            (self.checkouts, "Checked out"),
            (self.waiting, "On hold shelf"),
            (self.in_house, "In-library use"),
            (self.requests, "Open requests"),
            (self.charges, "Charges"),
        ):
            self.tabs.addTab(widget, title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.contact)
        layout.addWidget(self.blocks)
        layout.addWidget(self.tabs, 1)

    def clear(self) -> None:
        self.view = None
        self.header.setText("No patron selected")
        self.contact.setText("")
        self.blocks.setVisible(False)
        for widget in (self.checkouts, self.waiting, self.in_house, self.requests, self.charges):
            widget.setRowCount(0)

    def show_view(self, view: PatronView) -> None:
        self.view = view
        self.header.setText(f"{view.name}  ·  {view.patron_id}")
        kind = TYPE_WORDS.get(view.patron_type.value, view.patron_type.value)
        home = f"home {view.home_branch}" if view.home_branch else "no home branch"
        self.contact.setText(f"{kind}  ·  {home}  ·  {view.email}")
        if view.blocks:
            lines = [
                ("Stops checkout: " if b.stops_checkout else "Note: ") + b.message
                for b in view.blocks
            ]
            self.blocks.setText("\n".join(lines))
        self.blocks.setVisible(bool(view.blocks))
        fill(
            self.checkouts,
            [
                (
                    c.barcode,
                    c.title,
                    c.due_date.isoformat() + (" OVERDUE" if c.overdue else ""),
                    c.strap_due_date.isoformat() if c.strap_due_date else "",
                    c.branch_code,
                    c.adjustment_reason or "",
                )
                for c in view.checkouts
            ],
        )
        fill(
            self.waiting,
            [
                (w.barcode, w.title, w.request_number or "", w.branch_code, w.pickup_by.isoformat())
                for w in view.waiting
            ],
        )
        fill(
            self.in_house,
            [
                (
                    h.barcode,
                    h.title,
                    h.branch_code,
                    h.pickup_by.isoformat() if h.pickup_by else "",
                    f"since {h.in_use_since:%Y-%m-%d %H:%M}" if h.in_use_since else "on the shelf",
                    str(h.uses),
                )
                for h in view.in_house
            ],
        )
        fill(
            self.requests,
            [
                (r.request_number, r.title, r.kind, r.status.value, r.pickup_branch or "")
                for r in view.requests
            ],
        )
        fill(
            self.charges,
            [
                (
                    c.kind.replace("_", " "),
                    f"${c.amount:.2f}" + (" (estimate)" if c.estimated else ""),
                    c.reason,
                    c.created_at.date().isoformat(),
                    c.bursar_note,
                )
                for c in view.charges
            ],
        )
        self.tabs.setTabText(0, f"Checked out ({len(view.checkouts)})")
        self.tabs.setTabText(1, f"On hold shelf ({len(view.waiting)})")
        self.tabs.setTabText(2, f"In-library use ({len(view.in_house)})")
        self.tabs.setTabText(3, f"Open requests ({len(view.requests)})")
        self.tabs.setTabText(4, f"Charges ({len(view.charges)})")


class PatronLookup(QWidget):
    """A search field with its matches; emits the campus ID of the patron chosen."""

    patronChosen = Signal(str)  # campus ID
    failed = Signal(str)  # a message saying what to do
    unreachable = Signal(str)  # the database did not answer; the text searched for

    def __init__(self, session: DeskSession, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{name}Lookup")
        self.session = session
        self.offline_aware = False  # True: `unreachable` is said instead of `failed`
        self.input = QLineEdit(self)
        self.input.setObjectName(f"{name}Input")
        self.input.setPlaceholderText("Campus ID, patron barcode, or the start of a name")
        self.input.setAccessibleName("Find patron")
        self.button = QPushButton("Find patron", self)
        self.button.setObjectName(f"{name}Button")
        self.matches = QListWidget(self)
        self.matches.setObjectName(f"{name}Matches")
        self.matches.setVisible(False)
        self.matches.setMaximumHeight(140)
        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.matches)
        self.input.returnPressed.connect(self.search)
        self.button.clicked.connect(self.search)
        self.matches.itemActivated.connect(self._chosen)
        self.matches.itemClicked.connect(self._chosen)

    def search(self) -> None:
        """Look the text up on the desk's runner; the answer fills the matches."""
        rt, actor, text = self.session.rt, self.session.actor, self.input.text()

        def refused(error: ServiceError) -> None:
            if error.code == "database_unavailable" and self.offline_aware:
                self.unreachable.emit(text)
            else:
                self.failed.emit(error.message)

        self.session.ops.run(
            lambda: find_patrons(rt, actor, text),
            on_done=lambda found: self._show(text, found),
            on_error=refused,
            name="find patron",
            owner=self,
        )

    def _show(self, text: str, found: Sequence[PatronSummary]) -> None:
        self.matches.clear()
        if not found:
            self.matches.setVisible(False)
            self.failed.emit(
                f"No patron matches '{text.strip()}'. Check the ID card, or type "
                "fewer letters of the surname."
            )
            return
        if len(found) == 1:
            self.matches.setVisible(False)
            self.patronChosen.emit(found[0].patron_id)
            return
        for summary in found:
            self.matches.addItem(self._item(summary))
        self.matches.setVisible(True)
        self.matches.setCurrentRow(0)
        self.matches.setFocus()

    def _item(self, summary: PatronSummary) -> QListWidgetItem:
        kind = TYPE_WORDS.get(summary.patron_type.value, summary.patron_type.value)
        text = f"{summary.name}  ·  {summary.patron_id}  ·  {kind}  ·  {summary.home_branch or ''}"
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, summary.patron_id)
        return item

    def _chosen(self, item: QListWidgetItem) -> None:
        self.matches.setVisible(False)
        self.patronChosen.emit(str(item.data(Qt.ItemDataRole.UserRole)))


class PatronsScreen(QWidget):
    """Lookup on top, the chosen patron's account below."""

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patronsScreen")
        self.session = session
        self.lookup = PatronLookup(session, "patronSearch", self)
        self.message = QLabel("", self)
        self.message.setObjectName("patronsMessage")
        self.message.setWordWrap(True)
        self.account = PatronAccountPanel(self)
        self.patron_id = ""
        self._statuses: dict[str, NoticeStatus] = {}
        self.notices = KeyedTable(
            "patronNoticesTable",
            ("ID", "Created", "Notice", "Status", "Sent", "Subject"),
            self,
            empty=NO_PATRON_YET,
        )
        self.notices.setToolTip("Every notice this patron got or will get, newest first")
        self.notice_feedback = Feedback("patronNoticesFeedback", self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.lookup)
        layout.addWidget(self.message)
        layout.addWidget(self.account, 2)
        layout.addWidget(QLabel("Notices", self))
        layout.addWidget(self.notices, 1)
        self.resend_button: QPushButton | None = None
        self.template_combo: QComboBox | None = None
        self.compose_button: QPushButton | None = None
        if session.actor.has_role(Role.ILL_OFFICE):  # steering notices is the office's
            row = QHBoxLayout()
            self.resend_button = QPushButton("Resend selected", self)
            self.resend_button.setObjectName("resendNoticeButton")
            self.template_combo = QComboBox(self)
            self.template_combo.setObjectName("composeTemplateCombo")
            from app.notices.templates import KINDS  # the office's; kept off the start-up

            for code, kind in KINDS.items():
                if kind.to_patron:
                    self.template_combo.addItem(kind.label, code)
            self.compose_button = QPushButton("Compose from template", self)
            self.compose_button.setObjectName("composeNoticeButton")
            self.compose_button.setToolTip(
                "Written from the template for this patron and held in the outbox: preview, "
                "edit and send it there (ILL Office > Notices)"
            )
            row.addWidget(self.resend_button)
            row.addStretch(1)
            row.addWidget(self.template_combo)
            row.addWidget(self.compose_button)
            layout.addLayout(row)
            self.resend_button.clicked.connect(self._resend)
            self.compose_button.clicked.connect(self._compose)
        layout.addWidget(self.notice_feedback)
        self.lookup.patronChosen.connect(self.show_patron)
        self.lookup.failed.connect(self.message.setText)

    def activate(self) -> None:
        self.lookup.input.setFocus()
        self.lookup.input.selectAll()

    def show_patron(self, patron_id: str) -> None:
        rt, actor = self.session.rt, self.session.actor
        self.session.ops.run(
            lambda: patron_view(rt, actor, patron_id),
            on_done=self._show_account,
            on_error=lambda error: self.message.setText(error.message),
            name="patron account",
        )

    def _show_account(self, view: PatronView) -> None:
        self.message.setText("")
        self.account.show_view(view)
        self.patron_id = view.patron_id
        self.notices.fill([])  # never the last patron's notices under this one's account
        self.notices.empty_note.say(
            f"No notice to {view.name} yet: none was queued, sent or held for them."
        )
        self.load_notices()

    def load_notices(self) -> None:
        from app.notices import notice_steering  # loaded when first used

        s, patron = self.session, self.patron_id
        if not patron:
            return
        attempt(
            s.ops,
            self.notice_feedback,
            lambda: notice_steering.patron_notices(s.rt, s.actor, patron),
            self._show_notices,
        )

    def _show_notices(self, rows: Sequence[NoticeView]) -> None:
        self.notices.fill(
            [
                (
                    str(n.id),
                    (
                        str(n.id),
                        f"{n.created_at:%Y-%m-%d %H:%M}",
                        n.label,
                        n.status.value,
                        f"{n.sent_at:%Y-%m-%d %H:%M}" if n.sent_at else "",
                        n.subject,
                    ),
                )
                for n in rows
            ]
        )
        self._statuses = {str(n.id): n.status for n in rows}

    def _resend(self) -> None:
        from app.notices import notice_steering  # loaded when first used

        key = self.notices.current_key()
        if key is None or self._statuses.get(key) is not NoticeStatus.SENT:
            self.notice_feedback.problem("Select a sent notice to resend.")
            return
        s, notice_id = self.session, int(key)

        def queued(copy: NoticeView) -> None:
            self.notice_feedback.good(
                f"A copy of notice {notice_id} is queued as notice {copy.id} to "
                f"{copy.recipient}; it goes with the next outbox run."
            )
            self.load_notices()

        attempt(
            s.ops,
            self.notice_feedback,
            lambda: notice_steering.resend_notice(s.rt, s.actor, notice_id),
            queued,
        )

    def _compose(self) -> None:
        from app.notices import notice_steering  # loaded when first used

        if self.template_combo is None or not self.patron_id:
            self.notice_feedback.problem("Find the patron first.")
            return
        s, patron, kind = self.session, self.patron_id, str(self.template_combo.currentData())

        def composed(notice: NoticeView) -> None:
            self.notice_feedback.good(
                f"Notice {notice.id} ({notice.label}) written and held in the outbox: preview "
                "and send it from ILL Office > Notices."
            )
            self.load_notices()

        attempt(
            s.ops,
            self.notice_feedback,
            lambda: notice_steering.compose_notice(s.rt, s.actor, patron, kind),
            composed,
        )
