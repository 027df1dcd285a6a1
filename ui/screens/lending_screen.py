"""Lending: the campus's "to pull" list, and for the ILL office the lending desk itself.

A campus team lead pulls items (or says they are not on the shelf) and checks them out
to the ILL account: scan the account (or type ILL), Enter, then scan each item; an item not
on the pull list is refused with the reason. The screen then reminds them, large, to insert
the yellow flag. The
ILL office also gets its lending requests, the overdue-from-borrower list and IFM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.lending import pull_list, shipping
from app.lending.pull_list import LendingRequestView
from app.lending.shipping import LendReturnResult
from app.library.branches import BranchInfo, list_branches
from app.library.vocabulary import RequestKind, RequestStatus, Role
from ui.desk_session import DeskSession
from ui.screens.ifm_panel import IfmPanel
from ui.screens.lender_overdue_panel import LenderOverduePanel
from ui.screens.lending_pull_panel import PullPanel
from ui.screens.partners_panel import PartnersPanel
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt, button
from ui.widgets.scan_field import ScanFocusKeeper
from ui.widgets.screen_tabs import ScreenTabs

OFFICE_STATUSES = (
    RequestStatus.TO_PULL,
    RequestStatus.PULLED,
    RequestStatus.NOT_ON_SHELF,
    RequestStatus.SHIPPED,
    RequestStatus.LOST,
)
DEFAULT_LOAN_DAYS = 28  # first suggestion for the due date we grant; staff change it


class RequestsPanel(QWidget):
    """The ILL office's lending requests: create, ship, record the return, re-pull, cancel."""

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lendingRequestsPanel")
        self.session = session
        layout = QVBoxLayout(self)
        layout.addWidget(self._create_form())
        self.table = KeyedTable(
            "lendingRequestsTable",
            ("Request", "Status", "Borrower", "Their #", "Barcode", "Pull", "Due", "Title", "Next"),
            self,
            empty=(
                "No lending request is open: nothing is waiting to be pulled, shipped or "
                "back from a borrowing library. Add one with 'New lending request' above."
            ),
        )
        layout.addWidget(self.table, 1)

        ship_row = QHBoxLayout()
        self.due_edit = QDateEdit(self)
        self.due_edit.setObjectName("shipDueDate")
        self.due_edit.setCalendarPopup(True)
        self.due_edit.setDisplayFormat("yyyy-MM-dd")
        suggested = session.rt.clock.today() + timedelta(days=DEFAULT_LOAN_DAYS)
        self.due_edit.setDate(QDate(suggested.year, suggested.month, suggested.day))
        self.ship_button = button(self, "Ship with due date", "shipButton", self._ship)
        self.returned_button = button(
            self, "Returned by borrower", "returnedButton", self._returned
        )
        self.refresh_button = button(
            self, "Refresh", "refreshRequestsButton", lambda: self.refresh()
        )
        ship_row.addWidget(QLabel("Due date we grant:", self))
        for ship_widget in (
            self.due_edit,
            self.ship_button,
            self.returned_button,
            self.refresh_button,
        ):
            ship_row.addWidget(ship_widget)
        ship_row.addStretch(1)
        layout.addLayout(ship_row)

        fix_row = QHBoxLayout()
        self.repull_branch = QComboBox(self)
        self.repull_branch.setObjectName("repullBranchCombo")
        self.repull_button = button(self, "Ask this campus to pull", "repullButton", self._repull)
        self.cancel_reason = QLineEdit(self)
        self.cancel_reason.setObjectName("cancelReasonInput")
        self.cancel_reason.setPlaceholderText("Reason for cancelling")
        self.cancel_button = button(self, "Cancel request", "cancelLendingButton", self._cancel)
        for widget in (
            self.repull_branch,
            self.repull_button,
            self.cancel_reason,
            self.cancel_button,
        ):
            fix_row.addWidget(widget)
        layout.addLayout(fix_row)
        self.feedback = Feedback("lendingRequestsFeedback", self)
        layout.addWidget(self.feedback)

        rt, actor = session.rt, session.actor
        attempt(session.ops, self.feedback, lambda: list_branches(rt, actor), self._show_campuses)
        self.refresh()

    def _create_form(self) -> QGroupBox:
        box = QGroupBox("New lending request", self)
        box.setObjectName("createLendingBox")
        form = QFormLayout(box)
        self.borrower_input = QLineEdit(box)
        self.borrower_input.setObjectName("borrowerSymbolInput")
        self.borrower_input.setPlaceholderText("OCLC symbol, e.g. OKT")
        self.their_number_input = QLineEdit(box)
        self.their_number_input.setObjectName("theirNumberInput")
        self.item_input = QLineEdit(box)
        self.item_input.setObjectName("lendItemInput")
        self.item_input.setPlaceholderText("Our barcode, or the title")
        self.pull_branch = QComboBox(box)
        self.pull_branch.setObjectName("pullBranchCombo")
        self.pull_branch.addItem("The item's home campus", None)
        self.kind_combo = QComboBox(box)
        self.kind_combo.setObjectName("lendKindCombo")
        self.kind_combo.addItem("Loan (the item)", RequestKind.LOAN.value)
        self.kind_combo.addItem("Copy (a scan)", RequestKind.COPY.value)
        self.create_button = button(
            box, "Send to the pull list", "createLendingButton", self._create
        )
        form.addRow("Borrowing library:", self.borrower_input)
        form.addRow("Their request number:", self.their_number_input)
        form.addRow("Item:", self.item_input)
        form.addRow("Pull from:", self.pull_branch)
        form.addRow("Kind:", self.kind_combo)
        form.addRow(self.create_button)
        return box

    def _show_campuses(self, branches: Sequence[BranchInfo]) -> None:
        for code in (b.code for b in branches if not b.virtual):
            self.repull_branch.addItem(code, code)
            self.pull_branch.addItem(code, code)

    def refresh(self, then: Callable[[], object] | None = None) -> None:
        """Reload the office's lending requests; `then` runs once they are shown."""
        rt = self.session.rt

        def shown(views: Sequence[LendingRequestView]) -> None:
            self._show(views)
            if then is not None:
                then()

        attempt(
            self.session.ops,
            self.feedback,
            lambda: pull_list.list_lending(rt, self.session.actor, statuses=OFFICE_STATUSES),
            shown,
        )

    def _show(self, views: Sequence[LendingRequestView]) -> None:
        self.table.fill(
            [
                (
                    v.request_number,
                    (
                        v.request_number,
                        v.status.value.replace("_", " "),
                        v.borrower_symbol,
                        v.partner_request_number,
                        v.item_barcode or "",
                        v.pull_branch,
                        v.lend_due_date.isoformat() if v.lend_due_date else "",
                        v.title,
                        v.status_note or v.next_step,
                    ),
                )
                for v in views
            ]
        )

    def _selected(self) -> str | None:
        number = self.table.current_key()
        if number is None:
            self.feedback.problem("Select a lending request in the list first.")
        return number

    def _do(
        self,
        action: Callable[[], LendingRequestView],
        said: Callable[[LendingRequestView], str],
        first: Callable[[], object] | None = None,
    ) -> None:
        """Run one step; when done, `first` tidies the form, then the list shows the request."""

        def done(view: LendingRequestView) -> None:
            if first is not None:
                first()
            self.feedback.good(said(view))
            self.refresh(lambda: self.table.select_key(view.request_number))

        attempt(self.session.ops, self.feedback, action, done)

    def _create(self) -> None:
        s = self.session
        kind = RequestKind(self.kind_combo.currentData())
        borrower, theirs = self.borrower_input.text(), self.their_number_input.text()
        item, branch = self.item_input.text(), self.pull_branch.currentData()

        def clear() -> None:
            for field in (self.borrower_input, self.their_number_input, self.item_input):
                field.clear()

        self._do(
            lambda: pull_list.create_lending_request(
                s.rt,
                s.actor,
                borrower_symbol=borrower,
                partner_request_number=theirs,
                item=item,
                pull_branch=branch,
                kind=kind,
            ),
            lambda view: f"Request {view.request_number} is on {view.pull_branch}'s pull list.",
            clear,
        )

    def _ship(self) -> None:
        if (number := self._selected()) is None:
            return
        s, qdate = self.session, self.due_edit.date()
        due = date(qdate.year(), qdate.month(), qdate.day())
        self._do(
            lambda: shipping.ship(s.rt, s.actor, number, due),
            lambda view: f"{number} shipped to {view.borrower_symbol}.",
        )

    def _returned(self) -> None:
        if (number := self._selected()) is None:
            return
        s = self.session

        def done(result: LendReturnResult) -> None:
            self.feedback.good(result.instruction)
            self.refresh(lambda: self.table.select_key(result.request.request_number))

        attempt(s.ops, self.feedback, lambda: shipping.record_return(s.rt, s.actor, number), done)

    def _repull(self) -> None:
        if (number := self._selected()) is None:
            return
        s, branch = self.session, str(self.repull_branch.currentData())
        self._do(
            lambda: shipping.send_to_pull(s.rt, s.actor, number, branch),
            lambda _view: f"{number} is on {branch}'s pull list again.",
        )

    def _cancel(self) -> None:
        if (number := self._selected()) is None:
            return
        s, reason = self.session, self.cancel_reason.text()
        self._do(
            lambda: shipping.cancel_lending(s.rt, s.actor, number, reason),
            lambda _view: f"{number} cancelled.",
            self.cancel_reason.clear,
        )


class LendingScreen(QWidget):
    """The campus pull list for everyone with the ctl role; the office's tabs for ill_office.

    A virtual branch (the ILL office's WS-ILL) has no shelves, so it gets no pull list.
    """

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lendingScreen")
        self.session = session
        layout = QVBoxLayout(self)
        self.tabs = ScreenTabs(self)
        self.tabs.setObjectName("lendingTabs")
        layout.addWidget(self.tabs)
        # After any click off a typing field, the next scan lands where it belongs.
        self.focus_keeper = ScanFocusKeeper(self, self.scan_target)
        self.pull: PullPanel | None = None
        self.requests: RequestsPanel | None = None
        self.overdue: LenderOverduePanel | None = None
        self.ifm: IfmPanel | None = None
        self.partners: PartnersPanel | None = None
        rt, actor = session.rt, session.actor
        session.ops.run(
            lambda: list_branches(rt, actor),
            on_done=self._build_tabs,
            on_error=lambda _error: self._build_tabs(()),  # the panels say what is wrong
            name="lending: branches",
        )

    def _build_tabs(self, found: Sequence[BranchInfo]) -> None:
        """The tabs this branch and role get (a virtual branch has no shelves to pull)."""
        session = self.session
        branches = {b.code: b for b in found}
        here = branches.get(session.branch_code)
        if here is None or not here.virtual:
            self.pull = PullPanel(session, self.tabs)
            self.tabs.addTab(self.pull, f"To pull at {session.branch_code}")
        if session.actor.has_role(Role.ILL_OFFICE):
            self.requests = RequestsPanel(session, self.tabs)
            self.overdue = LenderOverduePanel(session, self.tabs)
            self.ifm = IfmPanel(session, self.tabs)
            self.partners = PartnersPanel(session, self.tabs)
            self.tabs.addTab(self.requests, "Lending requests")
            self.tabs.addTab(self.overdue, "Overdue from borrower")
            self.tabs.addTab(self.ifm, "IFM")
            self.tabs.addTab(self.partners, "Partners")
            if self.pull is not None:
                self.pull.requestChanged.connect(lambda _number: self._refresh_office())
            self.tabs.setCurrentWidget(self.requests)

    def scan_target(self) -> QWidget | None:
        """On the pull list: the ILL account field, then the item field; elsewhere none."""
        if self.pull is not None and self.tabs.currentWidget() is self.pull:
            return self.pull.scan_target()
        return None

    def _refresh_office(self) -> None:
        if self.requests is not None:
            self.requests.refresh()

    def activate(self) -> None:
        """Shown again: the lists may have changed at other desks."""
        if self.pull is not None:
            self.pull.refresh()
        target = self.scan_target()
        if target is not None:
            target.setFocus()
        self._refresh_office()
        if self.ifm is not None:
            self.ifm.refresh()
