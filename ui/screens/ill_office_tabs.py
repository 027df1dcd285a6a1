"""The ILL office screen's other tabs: requests, renewals and ship back.

Each tab calls one service per action and shows its answer, or its refusal, in a message
line under the form. Tables are filled from the plain rows the services return.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.borrowing.renewals import RenewalResult, record_renewal
from app.borrowing.requests import (
    RequestForm,
    RequestView,
    cancel_reasons,
    cancel_request,
    edit_cancel_reason,
    list_requests,
    mark_copy_available,
    place_request,
    record_copy_view,
)
from app.borrowing.ship_back import ShipBackRow, Shipped, items_to_ship, ship_back
from app.desk.loan_changes import DueDateChange, change_due_date
from app.library.errors import ServiceError
from app.library.vocabulary import RequestKind, RequestStatus
from ui.desk_session import DeskSession
from ui.screens.office_widgets import fill_table, run_on_desk, say
from ui.screens.office_widgets import line_edit as _line
from ui.screens.office_widgets import message_label as _message
from ui.screens.office_widgets import push_button as _button
from ui.screens.office_widgets import table_widget as _table


class RequestsTab(QWidget):
    """Enter a request, cancel one with a reason, deliver a copy and see what is left."""

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.views: list[RequestView] = []
        self.patron_input = _line(self, "requestPatronInput", "campus ID or barcode")
        self.for_input = _line(self, "requestForPatronInput", "blank: the same patron")
        self.kind_input = QComboBox(self)
        self.kind_input.setObjectName("requestKindInput")
        self.kind_input.addItem("Loan (physical item)", RequestKind.LOAN)
        self.kind_input.addItem("Copy (article or chapter)", RequestKind.COPY)
        self.title_input = _line(self, "requestTitleInput")
        self.author_input = _line(self, "requestAuthorInput")
        self.article_input = _line(self, "requestArticleInput", "copies: article or chapter")
        self.volume_input = _line(self, "requestVolumeInput", "e.g. 2")
        self.issue_input = _line(self, "requestIssueInput", "e.g. 4")
        self.pages_input = _line(self, "requestPagesInput", "e.g. 112-140")
        self.pickup_input = _line(self, "requestPickupInput", "campus code, e.g. METRO")
        self.lender_input = _line(self, "requestLenderInput", "optional OCLC symbol")
        self.number_input = _line(self, "requestNumberInput", "blank: the next number")
        form = QFormLayout()
        for label, field in (
            ("Patron:", self.patron_input),
            ("Request is for:", self.for_input),
            ("Kind:", self.kind_input),
            ("Title:", self.title_input),
            ("Author:", self.author_input),
            ("Article/chapter:", self.article_input),
            ("Volume:", self.volume_input),
            ("Issue:", self.issue_input),
            ("Pages:", self.pages_input),
            ("Pickup branch:", self.pickup_input),
            ("Lender:", self.lender_input),
            ("Request number:", self.number_input),
        ):
            form.addRow(label, field)
        form.addRow("", _button(self, "placeRequestButton", "Place request", self.place))

        self.status_filter = QComboBox(self)
        self.status_filter.setObjectName("requestStatusFilter")
        self.status_filter.addItem("All statuses", None)
        for status in (RequestStatus.REQUESTED, RequestStatus.RECEIVED, RequestStatus.AVAILABLE,
                       RequestStatus.RETURNED, RequestStatus.CANCELLED, RequestStatus.LOST,
                       RequestStatus.CLOSED):  # fmt: skip
            self.status_filter.addItem(status.value, status)
        self.status_filter.currentIndexChanged.connect(lambda _index: self.refresh())
        self.table = _table(self, "requestsTable")
        self.empty_note = self.table.empty_note
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selected())
        self.reason_input = QComboBox(self)
        self.reason_input.setObjectName("cancelReasonInput")
        self.reason_input.setEditable(True)
        self.copy_info = _message(self, "copyAccessInfo")
        actions = QHBoxLayout()
        actions.addWidget(QLabel("Reason:", self))
        actions.addWidget(self.reason_input, 1)
        actions.addWidget(_button(self, "cancelRequestButton", "Cancel request", self.cancel))
        actions.addWidget(_button(self, "listReasonButton", "Keep in list", self.list_reason))
        actions.addWidget(
            _button(self, "unlistReasonButton", "Remove from list", self.unlist_reason)
        )
        copies = QHBoxLayout()  # a row of its own keeps the tab usable on a 1280-pixel screen
        copies.addWidget(
            _button(self, "copyAvailableButton", "Copy available for download", self.copy_ready)
        )
        copies.addWidget(_button(self, "copyViewButton", "Record a download", self.copy_view))
        copies.addStretch(1)
        self.message = _message(self, "requestsMessage")

        right = QVBoxLayout()
        right.addWidget(self.status_filter)
        right.addWidget(self.table, 1)
        right.addLayout(actions)
        right.addLayout(copies)
        right.addWidget(self.copy_info)
        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.message)
        left.addStretch(1)
        layout.addLayout(left, 1)
        layout.addLayout(right, 2)

    def refresh(self) -> None:
        rt, actor, status = self.session.rt, self.session.actor, self.status_filter.currentData()
        run_on_desk(
            self.session,
            self.message,
            lambda: (list_requests(rt, actor, status), cancel_reasons(rt, actor)),
            lambda answer: self._show(*answer),
        )

    def _show(self, views: list[RequestView], reasons: Sequence[str]) -> None:
        self.views = views
        self.empty_note.say(
            f"No request is {self.status_filter.currentText()}. Choose 'All statuses' to "
            "see the others."
            if self.status_filter.currentData() is not None
            else "No borrowing request yet. Enter one with the form on the left."
        )
        fill_table(
            self.table,
            ("Request", "Kind", "Status", "Title", "Patron", "Pickup", "Strap", "Copy left"),
            [
                (v.request_number, v.kind.value, v.status.value,
                 f"{v.title} ({v.citation})" if v.citation else v.title, v.patron_id,
                 v.pickup_branch, v.strap_barcode, self._left(v))
                for v in self.views
            ],
        )  # fmt: skip
        typed = self.reason_input.currentText()
        self.reason_input.clear()
        self.reason_input.addItems(reasons)
        self.reason_input.setEditText(typed)

    @staticmethod
    def _left(view: RequestView) -> str:
        if view.copy is None:
            return ""
        if view.copy.expired:
            return "expired"
        return f"{view.copy.days_left} days, {view.copy.views_left} views"

    def selected_number(self) -> str:
        row = self.table.currentRow()
        return self.views[row].request_number if 0 <= row < len(self.views) else ""

    def _selected(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.views) and self.views[row].copy is not None:
            self.copy_info.setText(f"Copy: {self._left(self.views[row])} left.")
        else:
            self.copy_info.setText("")

    def _run(self, action: Callable[[], str], first: Callable[[], object] | None = None) -> None:
        """Run one change; when done, `first` tidies the form, the answer is said, the list
        reloads."""

        def done(text: str) -> None:
            if first is not None:
                first()
            say(self.message, text)
            self.refresh()

        run_on_desk(self.session, self.message, action, done)

    def place(self) -> None:
        form = RequestForm(
            patron=self.patron_input.text(),
            for_patron=self.for_input.text(),
            kind=RequestKind(self.kind_input.currentData()),  # Qt hands the enum back as str
            title=self.title_input.text(),
            author=self.author_input.text(),
            article_title=self.article_input.text(),
            volume=self.volume_input.text(),
            issue=self.issue_input.text(),
            pages=self.pages_input.text(),
            pickup_branch=self.pickup_input.text(),
            lender=self.lender_input.text(),
            request_number=self.number_input.text(),
        )

        rt, actor = self.session.rt, self.session.actor

        def action() -> str:
            view = place_request(rt, actor, form)
            return f"Request {view.request_number} placed for {view.patron_name}."

        def clear() -> None:
            for field in (self.title_input, self.author_input, self.article_input,
                          self.volume_input, self.issue_input, self.pages_input,
                          self.number_input, self.for_input):  # fmt: skip
                field.clear()

        self._run(action, clear)

    def cancel(self) -> None:
        number, reason = self.selected_number(), self.reason_input.currentText()
        rt, actor = self.session.rt, self.session.actor

        def action() -> str:
            if not number:
                raise ServiceError("Select the request to cancel in the list first.")
            view = cancel_request(rt, actor, number, reason)
            return f"Request {view.request_number} cancelled; the patron will be told why."

        self._run(action)

    def list_reason(self) -> None:
        reason, rt, actor = self.reason_input.currentText(), self.session.rt, self.session.actor

        def action() -> str:
            edit_cancel_reason(rt, actor, reason)
            return f"'{' '.join(reason.split())}' is in the list of reasons."

        self._run(action)

    def unlist_reason(self) -> None:
        reason, rt, actor = self.reason_input.currentText(), self.session.rt, self.session.actor

        def action() -> str:
            edit_cancel_reason(rt, actor, reason, active=False)
            return f"'{' '.join(reason.split())}' is no longer offered."

        self._run(action, lambda: self.reason_input.setEditText(""))

    def copy_ready(self) -> None:
        number, rt, actor = self.selected_number(), self.session.rt, self.session.actor

        def action() -> str:
            if not number:
                raise ServiceError("Select the copy request in the list first.")
            view = mark_copy_available(rt, actor, number)
            return f"Copy {view.request_number} available; the patron will be told."

        self._run(action)

    def copy_view(self) -> None:
        number, rt, actor = self.selected_number(), self.session.rt, self.session.actor

        def action() -> str:
            if not number:
                raise ServiceError("Select the copy request in the list first.")
            access = record_copy_view(rt, actor, number)
            return f"Download recorded: {access.views_left} views, {access.days_left} days left."

        self._run(action)


class RenewalsTab(QWidget):
    """Record the lender's answer: approved with the new date, or denied."""

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.number_input = _line(self, "renewalRequestInput", "ILL request number")
        self.approve = QRadioButton("Approved by the lender", self)
        self.approve.setObjectName("renewalApproved")
        self.approve.setChecked(True)
        self.deny = QRadioButton("Denied by the lender", self)
        self.deny.setObjectName("renewalDenied")
        self.recall = QRadioButton("Recalled by the lender: an earlier date", self)
        self.recall.setObjectName("renewalRecalled")  # the hold's pickup-by date follows
        self.due_input = QDateEdit(self)
        self.due_input.setObjectName("renewalDueInput")
        self.due_input.setCalendarPopup(True)
        self.due_input.setDisplayFormat("yyyy-MM-dd")
        today = session.rt.clock.today()
        self.due_input.setDate(QDate(today.year, today.month, today.day).addDays(28))
        self.deny.toggled.connect(lambda denied: self.due_input.setEnabled(not denied))
        self.reason_input = _line(
            self, "renewalReasonInput", "Only for a date more than two years ahead: why"
        )
        self.deny.toggled.connect(lambda denied: self.reason_input.setEnabled(not denied))
        self.message = _message(self, "renewalMessage")
        form = QFormLayout(self)
        form.addRow("Request number:", self.number_input)
        form.addRow("", self.approve)
        form.addRow("New due date:", self.due_input)
        form.addRow("Reason:", self.reason_input)
        form.addRow("", self.deny)
        form.addRow("", self.recall)
        form.addRow("", _button(self, "recordRenewalButton", "Record the answer", self.record))
        form.addRow("", self.message)

    def record(self) -> None:
        if self.recall.isChecked():
            self._recall()
            return
        approved = self.approve.isChecked()
        value = self.due_input.date()
        rt, actor, number = self.session.rt, self.session.actor, self.number_input.text()
        new_due = date(value.year(), value.month(), value.day()) if approved else None
        reason = self.reason_input.text() if approved else ""
        run_on_desk(
            self.session,
            self.message,
            lambda: record_renewal(
                rt, actor, number, approved=approved, new_due=new_due, override_reason=reason
            ),
            self._recorded,
        )

    def _recall(self) -> None:
        value = self.due_input.date()
        rt, actor, number = self.session.rt, self.session.actor, self.number_input.text()
        new_due = date(value.year(), value.month(), value.day())
        reason = self.reason_input.text().strip() or "Recalled by the lender"

        def recalled(change: DueDateChange) -> None:
            text = f"Recalled: {change.barcode} now due {change.due_date.isoformat()}."
            if change.patron_told and not change.pickup_by_pulled_back:
                text += " The patron will be told to return it by then."
            if change.pickup_by_pulled_back and change.pickup_by is not None:
                text += f" Pick up by {change.pickup_by.isoformat()} now"
                text += "; the patron will be told." if change.patron_told else "."
            say(self.message, text)
            self.number_input.clear()
            self.reason_input.clear()

        run_on_desk(
            self.session,
            self.message,
            lambda: change_due_date(rt, actor, number, new_due, reason, recall=True),
            recalled,
        )

    def _recorded(self, result: RenewalResult) -> None:
        if result.approved:
            text = (f"Renewed: {result.request_number} now due "
                    f"{result.new_due_date.isoformat()}.")  # fmt: skip
        else:
            text = f"Denied: {result.request_number} stays due {result.old_due_date.isoformat()}."
        say(self.message, text + " The patron will be told.")
        self.number_input.clear()
        self.reason_input.clear()


def _pieces_cell(row: ShipBackRow) -> str:
    """The piece count to pack, and a piece still reported missing."""
    text = str(row.pieces) if row.pieces > 1 else ""
    return f"{text} (one missing)" if row.piece_missing else text


class ShipBackTab(QWidget):
    """Items back at the ILL office; scan one and mark it shipped to its lender."""

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.scan_input = _line(self, "shipBackInput", "scan the strap barcode, then Enter")
        self.scan_input.returnPressed.connect(self.ship)
        self.table = _table(self, "shipBackTable")
        self.empty_note = self.table.empty_note  # its words once the list was read
        self.message = _message(self, "shipBackMessage")
        row = QHBoxLayout()
        row.addWidget(QLabel("Shipped:", self))
        row.addWidget(self.scan_input, 1)
        row.addWidget(_button(self, "shipBackButton", "Mark shipped", self.ship))
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)

    def refresh(self) -> None:
        rt, actor = self.session.rt, self.session.actor
        run_on_desk(self.session, self.message, lambda: items_to_ship(rt, actor), self._show)

    def _show(self, rows: Sequence[ShipBackRow]) -> None:
        self.empty_note.say(
            "Nothing to ship back: no borrowed item is waiting at the ILL office for its "
            "lender. An item appears here once its patron has returned it and it has been "
            "checked in at the ILL office."
        )
        fill_table(
            self.table,
            ("Strap", "Request", "Title", "Pieces", "Lender", "Lender's due",
             "Lender's barcode"),
            [(r.barcode, r.request_number, r.title, _pieces_cell(r), r.lender,
              r.lender_due_date, r.lender_barcode) for r in rows],
        )  # fmt: skip

    def ship(self) -> None:
        rt, actor, scan = self.session.rt, self.session.actor, self.scan_input.text()

        def shipped(done: Shipped) -> None:
            say(self.message, f"{done.barcode} shipped to {done.lender}; closed. {done.reminder}")
            self.refresh()

        run_on_desk(self.session, self.message, lambda: ship_back(rt, actor, scan), shipped)
        self.scan_input.clear()
        self.scan_input.setFocus()
