"""Check Out's answer and its confirmation: the banner, and the strap date staff read.

The strap date starts blank. Staff type the date printed on the strap, or, when the strap
shows the date on record, say so with a deliberate key (Ctrl+Shift+D); until then there is
no due date to read out and Enter does not check out. An empty field cannot be confirmed by
a reflex Enter, and a pre-filled one could.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.borrowing.due_dates import say_date
from app.desk.checkout_results import CheckoutResult, Outcome
from app.desk.checkout_wording import checkout_headline
from ui.widgets.banner_looks import GOOD, REFUSED
from ui.widgets.date_field import DateField
from ui.widgets.pieces_confirm import PiecesConfirm
from ui.widgets.routing_banner import RoutingBanner

SAME_DATE_KEY = "Ctrl+Shift+D"  # Ctrl+D alone deletes a character in a text field on Linux
TYPE_THE_DATE = "Type the date printed on the strap first"
STRAP_DATE_FIRST = f"Read the strap: type its date, or {SAME_DATE_KEY} if it matches the record"


class CheckoutBanner(RoutingBanner):
    """The check-in banner, speaking about checkouts. It keeps room for two lines and no
    recovery button, so the confirmation fits under it at 1280x800; a longer answer (shown
    once the confirmation has gone) makes it taller."""

    OFFERS_RECOVERY = False
    RESERVED_LINES = 2

    def show_checkout(self, result: CheckoutResult) -> None:
        self.result = None
        target = f"{result.patron_name}  ·  {result.patron_id}"
        if result.outcome is Outcome.CHECKED_OUT:
            assert result.due_date is not None
            lines = [result.title or "", result.patron_sentence]
            if not result.is_ill:  # lending: the yellow flag and where to send it
                lines.append(result.message)
            if result.discrepancy_logged:
                lines.append("The strap date differed from the record: logged for the ILL office.")
            if result.overridden:
                lines.append("Override recorded in the audit trail.")
            self._paint(
                GOOD, f"Due {say_date(result.due_date)}", target, tuple(x for x in lines if x)
            )
        else:
            self._paint(REFUSED, checkout_headline(result), target, (result.message,))

    def show_note(self, headline: str, lines: tuple[str, ...]) -> None:
        self.result = None
        self._paint(GOOD, headline, "", lines)


class ConfirmPanel(QGroupBox):
    """The item, the strap date (blank until given), the due date to tell the patron."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Confirm the date on the strap", parent)
        self.setObjectName("confirmPanel")
        self.recorded: date | None = None  # the strap date recorded at receipt
        self.needs_date = False
        self.item_label = QLabel("", self)
        self.item_label.setObjectName("confirmTitle")
        self.item_label.setWordWrap(True)
        self.strap_date = DateField(self)
        self.strap_date.setObjectName("strapDateEdit")
        self.strap_date.setAccessibleName("Due date printed on the strap")
        self.same_date_button = QPushButton(self)
        self.same_date_button.setObjectName("strapSameDateButton")
        self.same_date_button.clicked.connect(self.use_recorded)
        self.hint = QLabel("", self)
        self.hint.setObjectName("strapDateHint")
        self.hint.setWordWrap(True)
        self.due_label = QLabel("", self)
        self.due_label.setObjectName("dueDateLabel")
        self.due_label.setStyleSheet("font-size: 20pt; font-weight: 700;")
        self.sentence = QLabel("", self)
        self.sentence.setObjectName("patronSentence")
        self.sentence.setWordWrap(True)
        self.discrepancy = QLabel("", self)
        self.discrepancy.setObjectName("discrepancyNote")
        self.discrepancy.setWordWrap(True)
        self.confirm_button = QPushButton("Strap checked: check out", self)
        self.confirm_button.setObjectName("confirmCheckoutButton")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("cancelCheckoutButton")
        date_row = QHBoxLayout()
        date_row.addWidget(self.strap_date)
        date_row.addWidget(self.same_date_button)
        date_row.addWidget(self.hint, 1)
        form = QFormLayout()
        form.addRow("Item", self.item_label)
        form.addRow("Date on the strap", date_row)
        form.addRow("Due date", self.due_label)
        form.addRow("Tell the patron", self.sentence)
        # Several pieces: counted and ticked first, on the buttons' row (no extra height).
        self.pieces_confirm = PiecesConfirm(self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.pieces_confirm)
        buttons.addWidget(self.confirm_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        col = QVBoxLayout(self)
        col.addLayout(form)
        col.addWidget(self.discrepancy)
        col.addLayout(buttons)
        self.strap_date.textChanged.connect(self._date_typed)

    def ready(self) -> bool:
        """Whether Enter may check out: no strap date is needed, or one was given."""
        return not self.needs_date or self.strap_date.value() is not None

    def ask(self, title: str, recorded: date | None, *, needs_date: bool) -> None:
        """A new item to confirm: the strap date blank, the record's date on its button."""
        self.item_label.setText(title)
        self.recorded = recorded
        self.needs_date = needs_date
        self.strap_date.setEnabled(needs_date)
        self.strap_date.blockSignals(True)
        self.strap_date.clear()
        self.strap_date.blockSignals(False)
        offer = needs_date and recorded is not None
        self.same_date_button.setVisible(offer)
        if recorded is not None:
            self.same_date_button.setText(f"Strap shows {recorded.isoformat()} ({SAME_DATE_KEY})")
        self.discrepancy.setText("")
        self._date_typed()

    def use_recorded(self) -> None:
        """Staff read the strap and it shows the recorded date (the deliberate key)."""
        if self.needs_date and self.recorded is not None:
            self.strap_date.set_value(self.recorded)

    def show_proposal(self, result: CheckoutResult) -> None:
        """The due date and what to tell the patron, once the strap date is known."""
        if not self.ready():
            return
        due = result.due_date
        self.due_label.setText(say_date(due) if due else "")
        self.sentence.setText(result.patron_sentence if result.is_ill else result.message)
        self.discrepancy.setText(
            "This differs from the date recorded at receipt "
            f"({result.recorded_strap_date.isoformat()}): the strap wins and the ILL office "
            "is told."
            if result.discrepancy_logged and result.recorded_strap_date
            else ""
        )

    def show_offline(self, title: str) -> None:
        """The database is away: the lender's date must be typed (no record to compare)."""
        self.ask(title, None, needs_date=True)
        self.due_label.setText("Provisional: the lender's date on the strap")
        self.sentence.setText("Tell the patron the date printed on the strap.")

    def _date_typed(self, *_args: object) -> None:
        ready = self.ready()
        self.confirm_button.setEnabled(ready)
        if not self.needs_date:
            self.hint.setText("")
            return
        if ready:
            self.hint.setText("Press Enter to confirm.")
            return
        self.due_label.setText("")
        self.sentence.setText("")
        self.hint.setText(f"{TYPE_THE_DATE}.")

    def what_to_do(self) -> str:
        """Why Enter did not check out, and the two ways on."""
        if self.recorded is None:
            return f"{TYPE_THE_DATE}, then press Enter."
        return (
            f"{TYPE_THE_DATE}, or press {SAME_DATE_KEY} if it shows "
            f"{self.recorded.isoformat()}; then press Enter."
        )
