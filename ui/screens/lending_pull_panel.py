"""Lending at a campus: the "to pull" list a campus team lead works from.

Scan the ILL account (or type ILL), Enter, then scan each item: it is checked out to the
ILL account at once; an item not on the pull list is refused with the reason. The panel then
reminds them, large, to insert the yellow flag. Items not on the shelf are said so, with why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.lending import pull_list
from app.lending.pull_list import IllCheckoutResult, LendingRequestView
from app.library.errors import ServiceError
from app.workstation.private_files import write_owner_only
from ui.desk_session import DeskSession
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt, bring_into_view, button
from ui.widgets.scan_field import ScanField
from ui.widgets.scanner_bursts import TYPED_NOT_SCANNED


class PullPanel(QWidget):
    """What this campus must pull, scan or check out to the ILL account."""

    requestChanged = Signal(str)  # a request's status changed here (its number)

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pullPanel")
        self.session = session
        layout = QVBoxLayout(self)
        heading = QLabel(f"To pull at {session.branch_code}", self)
        heading.setObjectName("pullHeading")
        heading.setProperty("role", "heading")
        layout.addWidget(heading)
        self.table = KeyedTable(
            "pullTable",
            ("Request", "Kind", "Status", "Borrower", "Barcode", "Title", "Next step"),
            self,
            empty=(
                f"Nothing to pull at {session.branch_code}: no lending request waits for this "
                "campus. A request appears here when the ILL office sends it to the pull list; "
                "press Refresh to look again."
            ),
        )
        layout.addWidget(self.table, 1)

        actions = QHBoxLayout()
        self.pulled_button = button(self, "Pulled", "pulledButton", self._pulled)
        self.scan_sent_button = button(
            self, "Scan made and sent", "scanSentButton", self._scan_sent
        )
        self.account_input = QLineEdit(self)
        self.account_input.setObjectName("illAccountInput")
        self.account_input.setPlaceholderText("scan it, or type ILL and Enter")
        self.account: str | None = None  # the ILL account checked, once Enter was pressed
        self.item_scan = ScanField(self)
        self.item_scan.setObjectName("pullItemScan")
        self.item_scan.setAccessibleName("Scan each item")
        self.item_scan.setPlaceholderText("then scan each item: it is checked out at once")
        self.checkout_button = button(
            self, "Check out to ILL", "checkoutToIllButton", self._checkout
        )
        self.refresh_button = button(self, "Refresh", "refreshPullButton", lambda: self.refresh())
        self.slips_button = button(
            self, "Print pull slips...", "printPullSlipsButton", self._print_slips
        )
        scans = QHBoxLayout()
        account_label = QLabel("1. ILL account:", self)
        account_label.setBuddy(self.account_input)
        item_label = QLabel("2. Item:", self)
        item_label.setBuddy(self.item_scan)
        scans.addWidget(account_label)
        scans.addWidget(self.account_input, 1)
        scans.addWidget(item_label)
        scans.addWidget(self.item_scan, 1)
        layout.addLayout(scans)
        for widget in (
            self.pulled_button,
            self.scan_sent_button,
            self.checkout_button,
            self.refresh_button,
            self.slips_button,
        ):
            actions.addWidget(widget)
        layout.addLayout(actions)

        missing = QHBoxLayout()
        self.reason_input = QLineEdit(self)
        self.reason_input.setObjectName("notOnShelfReason")
        self.reason_input.setPlaceholderText("Why it is not on the shelf (for the ILL office)")
        self.reason_input.setProperty(TYPED_NOT_SCANNED, True)  # a scan goes to the item field
        self.not_on_shelf_button = button(
            self, "Not on shelf", "notOnShelfButton", self._not_on_shelf
        )
        missing.addWidget(self.reason_input, 1)
        missing.addWidget(self.not_on_shelf_button)
        layout.addLayout(missing)

        self.flag_banner = QLabel(self)
        self.flag_banner.setObjectName("yellowFlagBanner")
        self.flag_banner.setWordWrap(True)
        self.flag_banner.setStyleSheet(
            "background: #ffe600; color: #1a1a1a; font-size: 20pt; font-weight: bold; "
            "padding: 12px; border: 3px solid #1a1a1a;"
        )
        self.flag_banner.hide()
        layout.addWidget(self.flag_banner)
        self.feedback = Feedback("pullFeedback", self)
        layout.addWidget(self.feedback)
        self.account_input.returnPressed.connect(self._account_entered)
        self.account_input.textEdited.connect(self._account_changed)
        self.item_scan.scanned.connect(self.item_scanned)
        self.item_scan.doubleReadIgnored.connect(
            lambda code: self.feedback.good(f"{code} read twice by the scanner: counted once.")
        )
        self.refresh()

    def scan_target(self) -> QWidget:
        """The ILL account first, then each item."""
        return self.item_scan if self.account else self.account_input

    def _account_changed(self, _text: str) -> None:
        self.account = None

    def _account_entered(self) -> None:
        """Check the scanned (or typed) ILL account, then wait for the items."""
        s, typed = self.session, self.account_input.text()

        def checked(barcode: str) -> None:
            self.account = barcode
            self.feedback.good(f"ILL account {barcode}: now scan each item pulled.")
            self.item_scan.setFocus()

        def refused(error: ServiceError) -> None:
            self.account = None
            self.feedback.refused(error)
            self.account_input.selectAll()
            self.account_input.setFocus()

        s.ops.run(
            lambda: pull_list.ill_account(s.rt, s.actor, typed),
            on_done=checked,
            on_error=refused,
            owner=self,
        )

    def item_scanned(self, barcode: str) -> None:
        """A pulled item scanned: checked out to the ILL account, or refused with why."""
        account = self.account
        if account is None:
            self.feedback.problem("Scan the ILL account first (or type ILL and Enter).")
            self.account_input.setFocus()
            return
        s = self.session
        attempt(
            s.ops,
            self.feedback,
            lambda: pull_list.checkout_scanned_to_ill(s.rt, s.actor, barcode, account),
            self._checked_out,
        )

    def _print_slips(self) -> None:
        name = f"pull-slips-{self.session.branch_code}.pdf"
        path, _ = QFileDialog.getSaveFileName(self, "Save pull slips", name, "PDF (*.pdf)")
        if path:
            self.print_slips_to(Path(path))

    def print_slips_to(self, path: Path) -> None:
        """One page per item to pull here, saved as a PDF to print."""
        from app.lending.pull_slips import pull_slips_pdf

        rt, actor, branch = self.session.rt, self.session.actor, self.session.branch_code

        def save(made: tuple[int, bytes]) -> None:
            count, pdf = made
            try:
                write_owner_only(path, pdf)  # as every file the desk saves
            except OSError as exc:
                self.feedback.problem(f"Cannot write {path}: {exc.strerror or exc}.")
                return
            self.feedback.good(f"{count} pull slips saved to {path} for printing.")

        attempt(self.session.ops, self.feedback, lambda: pull_slips_pdf(rt, actor, branch), save)

    def refresh(self) -> None:
        rt, actor, branch = self.session.rt, self.session.actor, self.session.branch_code
        attempt(
            self.session.ops,
            self.feedback,
            lambda: pull_list.pull_list(rt, actor, branch),
            self._show,
        )

    def _show(self, views: Sequence[LendingRequestView]) -> None:
        self.table.fill(
            [
                (
                    v.request_number,
                    (
                        v.request_number,
                        v.kind.value,
                        v.status.value.replace("_", " "),
                        v.borrower_symbol,
                        v.item_barcode or "",
                        v.title,
                        v.next_step,
                    ),
                )
                for v in views
            ]
        )

    def _selected(self) -> str | None:
        number = self.table.current_key()
        if number is None:
            self.feedback.problem("Select a request in the list first.")
        return number

    def _do(
        self,
        action: Callable[[], LendingRequestView],
        text: str,
        first: Callable[[], object] | None = None,
    ) -> None:
        """Run one step; when done, `first` tidies the form, then the list is reloaded."""

        def done(view: LendingRequestView) -> None:
            if first is not None:
                first()
            self.feedback.good(text)
            self.requestChanged.emit(view.request_number)
            self.refresh()

        attempt(self.session.ops, self.feedback, action, done)

    def _pulled(self) -> None:
        if (number := self._selected()) is None:
            return
        s = self.session
        self._do(
            lambda: pull_list.confirm_pulled(s.rt, s.actor, number),
            f"{number} pulled. Now check it out to the ILL account.",
        )

    def _scan_sent(self) -> None:
        if (number := self._selected()) is None:
            return
        s = self.session
        self._do(
            lambda: pull_list.record_scan_sent(s.rt, s.actor, number),
            f"{number}: scan recorded as sent to the ILL office.",
        )

    def _not_on_shelf(self) -> None:
        if (number := self._selected()) is None:
            return
        s, reason = self.session, self.reason_input.text()
        self._do(
            lambda: pull_list.report_not_on_shelf(s.rt, s.actor, number, reason),
            f"{number} goes back to the ILL office: {reason.strip()}",
            self.reason_input.clear,
        )

    def _checkout(self) -> None:
        if (number := self._selected()) is None:
            return
        s = self.session
        account = self.account_input.text().strip() or None
        attempt(
            s.ops,
            self.feedback,
            lambda: pull_list.checkout_to_ill(s.rt, s.actor, number, account),
            self._checked_out,
        )

    def _checked_out(self, result: IllCheckoutResult) -> None:
        """The yellow-flag reminder; the account stays for the next item's scan."""
        number = result.request.request_number
        self.flag_banner.setText(f"⚑  {result.reminder}")
        self.flag_banner.show()
        bring_into_view(self.flag_banner)
        self.feedback.good(f"{number} checked out to the ILL account ({result.dummy_barcode}).")
        self.requestChanged.emit(number)
        self.refresh()
