"""IFM replacement: the dummy-request fields ready to copy, the transactions and the ledger."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.lending import ifm, ifm_settlement, overdue_at_borrowers
from app.lending.ifm import COPY_LABELS, IfmFields, IfmLedger, IfmTransactionView, LostRequest
from app.lending.ifm_settlement import SettlementView
from app.lending.overdue_at_borrowers import MessageEmailed
from app.library.errors import ServiceError
from ui.desk_session import DeskSession
from ui.operations import Operations
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt

# (key for object names, label) in the order of the ILL system's form.
FIELD_KEYS = ("title", "verification", "lenderString", "useIfm", "maxCost", "currency")


class IfmPanel(QWidget):
    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ifmPanel")
        self.session = session
        layout = QVBoxLayout(self)

        self.lost_combo = QComboBox(self)
        self.lost_combo.setObjectName("ifmLostCombo")
        self.lost_combo.setToolTip("Lost requests, both ways; choosing one fills in its number")
        layout.addWidget(self.lost_combo)
        ask = QHBoxLayout()
        self.request_input = QLineEdit(self)
        self.request_input.setObjectName("ifmRequestInput")
        self.request_input.setPlaceholderText("Lost request number")
        self.amount_input = QLineEdit(self)
        self.amount_input.setObjectName("ifmAmountInput")
        self.amount_input.setPlaceholderText("Replacement cost in USD, e.g. 85.00")
        self.build_button = QPushButton("Build fields", self)
        self.build_button.setObjectName("ifmBuildButton")
        self.record_button = QPushButton("Record as pending", self)
        self.record_button.setObjectName("ifmRecordButton")
        for widget in (
            self.request_input,
            self.amount_input,
            self.build_button,
            self.record_button,
        ):
            ask.addWidget(widget)
        layout.addLayout(ask)

        box = QGroupBox("Dummy request fields (copy each into the ILL system)", self)
        box.setObjectName("ifmFieldsBox")
        grid = QGridLayout(box)
        self.field_inputs: dict[str, QLineEdit] = {}
        self.field_labels: dict[str, QLabel] = {}
        self.copy_buttons: list[QPushButton] = []
        for row, key in enumerate(FIELD_KEYS):
            label = QLabel(COPY_LABELS[row], box)  # named before the fields are built
            value = QLineEdit(box)
            value.setObjectName(f"ifmField_{key}")
            value.setReadOnly(True)
            value.setPlaceholderText("pick a lost request and press Build fields")
            copy = QPushButton("Copy", box)
            copy.setEnabled(False)
            self.copy_buttons.append(copy)
            copy.setObjectName(f"ifmCopy_{key}")
            copy.clicked.connect(lambda _checked=False, k=key: self._copy(k))
            grid.addWidget(label, row, 0)
            grid.addWidget(value, row, 1)
            grid.addWidget(copy, row, 2)
            self.field_inputs[key] = value
            self.field_labels[key] = label
        layout.addWidget(box)

        self.transactions = KeyedTable(
            "ifmTransactionsTable",
            ("ID", "Status", "Direction", "Partner", "Amount (USD)", "Request", "Dummy #"),
            self,
            empty=(
                "No IFM transaction yet. Pick a lost request above, press Build fields, then "
                "Record as pending: it is listed here until both sides close it."
            ),
        )
        layout.addWidget(self.transactions, 1)
        done = QHBoxLayout()
        self.dummy_input = QLineEdit(self)
        self.dummy_input.setObjectName("ifmDummyInput")
        self.dummy_input.setPlaceholderText("Dummy request number, once processed")
        self.processed_button = QPushButton("Processed: close the original", self)
        self.processed_button.setObjectName("ifmProcessedButton")
        self.note_button = QPushButton("E-mail note to partner", self)
        self.note_button.setObjectName("ifmNoteButton")
        self.note_button.setToolTip(
            "The library's IFM note about the selected transaction, e-mailed to the partner "
            "library's address in the partner directory; the outbox keeps the copy"
        )
        self.mail = Operations(self, name="ifm note")
        done.addWidget(self.dummy_input, 1)
        done.addWidget(self.processed_button)
        done.addWidget(self.note_button)
        layout.addLayout(done)

        self.ledger_table = KeyedTable(
            "ifmLedgerTable",
            ("Partner", "Received", "Paid", "Settled", "Balance", "Pending", "Settle"),
            self,
            empty="No IFM balance with any partner: nothing has been paid or received through IFM.",
        )
        layout.addWidget(self.ledger_table, 1)
        self._balances: dict[str, str] = {}
        settle = QHBoxLayout()
        self.settle_partner = QLineEdit(self)
        self.settle_partner.setObjectName("ifmSettlePartner")
        self.settle_partner.setPlaceholderText("Partner (OCLC symbol)")
        self.settle_amount = QLineEdit(self)
        self.settle_amount.setObjectName("ifmSettleAmount")
        self.settle_amount.setPlaceholderText("Cheque or invoice amount, USD")
        self.settle_reference = QLineEdit(self)
        self.settle_reference.setObjectName("ifmSettleReference")
        self.settle_reference.setPlaceholderText("Cheque or invoice number")
        self.settle_reference.setMaxLength(ifm_settlement.REFERENCE_MAX)
        self.settle_date = QLineEdit(self)
        self.settle_date.setObjectName("ifmSettleDate")
        self.settle_date.setPlaceholderText("Date YYYY-MM-DD (today)")
        self.settle_button = QPushButton("Record settlement", self)
        self.settle_button.setObjectName("ifmSettleButton")
        self.settle_button.setToolTip(
            "The partner's cheque when they owe us, ours when we owe them; at most the balance"
        )
        for widget in (
            self.settle_partner,
            self.settle_amount,
            self.settle_reference,
            self.settle_date,
            self.settle_button,
        ):
            settle.addWidget(widget)
        layout.addLayout(settle)
        self.settlements_table = KeyedTable(
            "ifmSettlementsTable",
            ("ID", "Date", "Partner", "Who paid", "Amount (USD)", "Reference", "Balance after"),
            self,
            empty="No settlement recorded. Record a cheque or invoice above once one is paid.",
        )
        layout.addWidget(self.settlements_table, 1)
        self.total_label = QLabel(self)
        self.total_label.setObjectName("ifmTotalLabel")
        self.total_label.setWordWrap(True)
        layout.addWidget(self.total_label)
        self.feedback = Feedback("ifmFeedback", self)
        layout.addWidget(self.feedback)

        self.lost_combo.activated.connect(self._pick_lost)
        self.build_button.clicked.connect(self._build)
        self.record_button.clicked.connect(self._record)
        self.processed_button.clicked.connect(self._processed)
        self.ledger_table.itemSelectionChanged.connect(self._pick_partner)
        self.settle_button.clicked.connect(self._settle)
        self.note_button.clicked.connect(self._note)
        self.refresh()

    def refresh(self, then: Callable[[], object] | None = None) -> None:
        """Reload the lists and the ledger; `then` runs once they are shown."""
        rt, actor = self.session.rt, self.session.actor

        def shown(
            answer: tuple[
                list[LostRequest], list[IfmTransactionView], IfmLedger, list[SettlementView]
            ],
        ) -> None:
            self._show_lists(*answer[:3])
            self._show_settlements(answer[3])
            if then is not None:
                then()

        attempt(
            self.session.ops,
            self.feedback,
            lambda: (
                ifm.lost_requests(rt, actor),
                ifm.list_transactions(rt, actor),
                ifm.ledger(rt, actor),
                ifm_settlement.list_settlements(rt, actor),
            ),
            shown,
        )

    def _show_lists(
        self,
        lost: Sequence[LostRequest],
        rows: Sequence[IfmTransactionView],
        book: IfmLedger,
    ) -> None:
        self.lost_combo.clear()
        self.lost_combo.addItem(f"Lost, billable or owed: {len(lost)} request(s)", None)
        for r in lost:
            way = "they pay us" if r.direction.value == "we_receive" else "we pay"
            state = r.transaction_status.value if r.transaction_status else "no IFM yet"
            self.lost_combo.addItem(
                f"{r.request_number}  {r.partner_symbol}  ({way}; {state})  {r.title}",
                r.request_number,
            )
        self.transactions.fill(
            [
                (
                    str(tx.id),
                    (
                        str(tx.id),
                        tx.status.value,
                        "we receive" if tx.direction.value == "we_receive" else "we pay",
                        tx.partner_symbol,
                        f"{tx.amount:.2f}",
                        tx.request_number,
                        tx.dummy_request_number or "",
                    ),
                )
                for tx in rows
            ]
        )
        self.ledger_table.fill(
            [
                (
                    p.partner_symbol,
                    (
                        p.partner_symbol,
                        f"{p.received:.2f}",
                        f"{p.paid:.2f}",
                        f"{p.settled:+.2f}",
                        f"{p.balance:+.2f}",
                        f"{p.pending:+.2f}",
                        "⚠ settle" if p.settle else "",
                    ),
                )
                for p in book.partners
            ]
        )
        self._balances = {p.partner_symbol: f"{abs(p.balance):.2f}" for p in book.partners}
        verdict = (
            f"⚠ SETTLE: the balance reached ±{book.threshold:.2f} USD"
            if book.settle
            else f"below the settlement threshold of ±{book.threshold:.2f} USD"
        )
        self.total_label.setText(
            f"Total IFM balance {book.balance:+.2f} USD (positive: owed to us; pending "
            f"{book.pending:+.2f}) — {verdict}"
        )
        self.total_label.setProperty("settle", book.settle)

    def _show_settlements(self, rows: Sequence[SettlementView]) -> None:
        self.settlements_table.fill(
            [
                (
                    str(r.id),
                    (
                        str(r.id),
                        r.settled_on.isoformat(),
                        r.partner_symbol,
                        "they paid us" if r.direction.value == "we_receive" else "we paid",
                        f"{r.amount:.2f}",
                        r.reference,
                        f"{r.balance_after:+.2f}",
                    ),
                )
                for r in rows
            ]
        )

    def _pick_partner(self) -> None:
        """Choosing a partner in the ledger fills in the settlement with its whole balance."""
        symbol = self.ledger_table.current_key()
        if symbol:
            self.settle_partner.setText(symbol)
            self.settle_amount.setText(self._balances.get(symbol, ""))

    def _settle(self) -> None:
        s = self.session
        partner, amount = self.settle_partner.text(), self.settle_amount.text()
        reference, day = self.settle_reference.text(), self.settle_date.text()

        def settled(row: SettlementView) -> None:
            for field in (self.settle_amount, self.settle_reference, self.settle_date):
                field.clear()
            self.refresh(lambda: self.settlements_table.select_key(str(row.id)))
            way = "they paid us" if row.direction.value == "we_receive" else "we paid"
            self.feedback.good(
                f"Settlement recorded with {row.partner_symbol} ({way} {row.amount:.2f} USD, "
                f"{row.reference}); the balance is now {row.balance_after:+.2f} USD."
            )

        attempt(
            s.ops,
            self.feedback,
            lambda: ifm_settlement.settle(s.rt, s.actor, partner, amount, reference, day or None),
            settled,
        )

    def _pick_lost(self, index: int) -> None:
        number = self.lost_combo.itemData(index)
        if number:
            self.request_input.setText(str(number))
            self.amount_input.setFocus()

    def _show(self, fields: IfmFields) -> None:
        for key, (label, value) in zip(FIELD_KEYS, fields.copy_rows(), strict=True):
            self.field_labels[key].setText(label)
            self.field_inputs[key].setText(value)
        for copy in self.copy_buttons:
            copy.setEnabled(True)

    def _build(self) -> None:
        s = self.session
        number, amount = self.request_input.text(), self.amount_input.text()

        def built(fields: IfmFields) -> None:
            self._show(fields)
            self.feedback.good("Fields ready: copy each one into the dummy request.")

        attempt(s.ops, self.feedback, lambda: ifm.preview(s.rt, s.actor, number, amount), built)

    def _record(self) -> None:
        s = self.session
        number, amount = self.request_input.text(), self.amount_input.text()

        def recorded(tx: IfmTransactionView) -> None:
            self._show(tx.fields)
            self.refresh(lambda: self.transactions.select_key(str(tx.id)))
            self.feedback.good(
                f"IFM transaction {tx.id} recorded as pending ({tx.amount:.2f} USD)."
            )

        attempt(
            s.ops,
            self.feedback,
            lambda: ifm.record_transaction(s.rt, s.actor, number, amount),
            recorded,
        )

    def _processed(self) -> None:
        key = self.transactions.current_key()
        if key is None:
            self.feedback.problem("Select the IFM transaction in the list first.")
            return
        s, dummy = self.session, self.dummy_input.text()

        def processed(tx: IfmTransactionView) -> None:
            self.dummy_input.clear()
            self.refresh()
            self.feedback.good(f"Processed; original request {tx.request_number} is closed.")

        attempt(
            s.ops,
            self.feedback,
            lambda: ifm.mark_processed(s.rt, s.actor, int(key), dummy),
            processed,
        )

    def _note(self) -> None:
        """Prepare the IFM note (once) and e-mail it, on a thread of its own."""
        key = self.transactions.current_key()
        if key is None:
            self.feedback.problem("Select the IFM transaction in the list first.")
            return
        s, tx_id = self.session, int(key)
        rt, actor, settings = s.rt, s.actor, s.settings

        def send() -> MessageEmailed:
            note = overdue_at_borrowers.prepare_ifm_note(rt, actor, tx_id)
            return overdue_at_borrowers.send_message(rt, actor, note.notice_id, settings)

        def finished(result: object) -> None:
            self.note_button.setEnabled(True)
            if isinstance(result, ServiceError):
                self.feedback.refused(result)
            elif isinstance(result, MessageEmailed) and result.sent:
                self.feedback.good(f"IFM note sent by e-mail to {result.message.recipient}.")
            elif isinstance(result, MessageEmailed):
                self.feedback.problem(
                    f"IFM note not sent: it stays in the outbox ({result.message.status.value}) "
                    f"and is tried again. {result.mail_problem}"
                )

        if self.mail.run(send, on_done=finished, on_error=finished, name="ifm note", owner=self):
            self.note_button.setEnabled(False)
            self.feedback.good("Sending… the desk stays usable meanwhile.")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.mail.wait()  # a send in flight finishes: a mail is never half sent
        super().closeEvent(event)

    def _copy(self, key: str) -> None:
        text = self.field_inputs[key].text()
        if not text:
            self.feedback.problem("Build the fields first, then copy them.")
            return
        QGuiApplication.clipboard().setText(text)
        self.feedback.good(f"Copied: {self.field_labels[key].text()}")
