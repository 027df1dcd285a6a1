"""Charges for lost ILL items and the bursar report, for the ILL office.

Declare an item lost (replacement estimate + processing fee), record the lender's actual
bill, reduce or remove a charge with a reason, check a lost item that came back (the panel
offers to remove its charges and says when the bursar must lift a hold), and write the
bursar report. Every button is one service call; refusals appear in the message line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.library.amounts import money
from app.money import bursar, charge_views, charges
from app.money.charge_views import ChargeView
from app.money.charges import LostItemReturned
from ui.desk_session import DeskSession
from ui.widgets.panel_parts import Feedback, KeyedTable, attempt, button, row

HEADERS = ("No.", "Patron", "Kind", "Amount", "Item", "Reason", "Note")


class ChargesPanel(QWidget):
    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chargesPanel")
        self.session = session
        self.ops = session.ops
        self.charges: dict[str, ChargeView] = {}
        self.offer: LostItemReturned | None = None

        self.patron_filter = self._edit("chargesPatronFilter", "campus ID, e.g. T00890123")
        self.patron_filter.returnPressed.connect(self.refresh)
        self.show_removed = QCheckBox("Show removed", self)
        self.show_removed.setObjectName("chargesShowRemoved")
        self.show_removed.toggled.connect(lambda _on: self.refresh())
        refresh = button(self, "Refresh", "refreshChargesButton", self.refresh)
        top = QHBoxLayout()
        top.addWidget(QLabel("Patron", self))
        top.addWidget(self.patron_filter)
        top.addWidget(self.show_removed)
        top.addStretch(1)
        top.addWidget(refresh)

        self.table = KeyedTable(
            "chargesTable",
            HEADERS,
            self,
            empty=(
                "No open charge (for this patron, if one is named above). Declare a borrowed "
                "item lost below to charge its replacement and the processing fee; tick Show "
                "removed to see charges taken off."
            ),
        )

        lost = QGroupBox("Declare a borrowed item lost", self)
        lost_form = QFormLayout(lost)
        self.lost_barcode = self._edit("lostBarcodeEdit", "strap barcode")
        self.lost_replacement = self._edit("lostReplacementEdit", "replacement cost, e.g. 85.00")
        self.lost_actual = QCheckBox("This is the lender's actual bill", self)
        self.lost_actual.setObjectName("lostActualCheck")
        self.lost_long_overdue = QCheckBox("Long overdue (not reported lost)", self)
        self.lost_long_overdue.setObjectName("lostLongOverdueCheck")
        self.lost_note = self._edit("lostNoteEdit", "optional note for the reason")
        lost_form.addRow("Strap barcode", self.lost_barcode)
        lost_form.addRow("Replacement", self.lost_replacement)
        lost_form.addRow("", self.lost_actual)
        lost_form.addRow("", self.lost_long_overdue)
        lost_form.addRow("Note", self.lost_note)
        lost_form.addRow("", button(self, "Declare lost", "declareLostButton", self.declare_lost))

        change = QGroupBox("Selected charge", self)
        change_form = QFormLayout(change)
        self.change_amount = self._edit("chargeAmountEdit", "new amount or the lender's bill")
        self.change_reason = self._edit("chargeReasonEdit", "why (kept in the audit trail)")
        change_form.addRow("Amount", self.change_amount)
        change_form.addRow("Reason", self.change_reason)
        change_form.addRow(
            "",
            row(
                self,
                button(self, "Remove", "removeChargeButton", self.remove),
                button(self, "Reduce", "reduceChargeButton", self.reduce),
                button(self, "Record lender's bill", "actualBillButton", self.actual_bill),
            ),
        )

        returned = QGroupBox("A lost item came back", self)
        returned_form = QFormLayout(returned)
        self.returned_barcode = self._edit("returnedBarcodeEdit", "strap barcode")
        self.returned_barcode.returnPressed.connect(self.check_returned)
        self.offer_label = QLabel(self)
        self.offer_label.setObjectName("returnedOfferLabel")
        self.offer_label.setWordWrap(True)
        self.remove_returned = button(
            self, "Remove its charges", "removeReturnedChargesButton", self.remove_returned_charges
        )
        self.remove_returned.setEnabled(False)
        returned_form.addRow(
            "Strap barcode",
            row(
                self,
                self.returned_barcode,
                button(self, "Check", "checkReturnedButton", self.check_returned),
            ),
        )
        returned_form.addRow("", self.offer_label)
        returned_form.addRow("", self.remove_returned)

        report = QGroupBox("Bursar report", self)
        report_form = QFormLayout(report)
        self.bursar_file = self._edit("bursarFileEdit", "where to write the CSV file")
        self.bursar_file.setText(str(Path.home() / f"bursar-{date.today().isoformat()}.csv"))
        self.bursar_preview = QLabel(self)
        self.bursar_preview.setObjectName("bursarPreviewLabel")
        self.bursar_preview.setWordWrap(True)
        report_form.addRow("", self.bursar_preview)
        report_form.addRow(
            "File",
            row(
                self,
                self.bursar_file,
                button(self, "Choose…", "bursarBrowseButton", self.choose_file),
                button(self, "Export and mark reported", "bursarExportButton", self.export),
            ),
        )

        self.reminder = QLabel(self)
        self.reminder.setObjectName("bursarReminderLabel")
        self.reminder.setWordWrap(True)
        self.reminder.setStyleSheet("color: #8a4b00; font-weight: bold;")
        self.feedback = Feedback("chargesMessage", self)

        forms = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(lost)
        left.addWidget(change)
        right = QVBoxLayout()
        right.addWidget(returned)
        right.addWidget(report)
        forms.addLayout(left, 1)
        forms.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(forms)
        layout.addWidget(self.reminder)
        layout.addWidget(self.feedback)
        self.refresh()

    def _edit(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        return edit

    def activate(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        patron = self.patron_filter.text().strip() or None
        rt, actor, removed = self.session.rt, self.session.actor, self.show_removed.isChecked()
        attempt(
            self.ops,
            self.feedback,
            lambda: charge_views.list_charges(rt, actor, patron_id=patron, include_removed=removed),
            self._show_charges,
        )
        attempt(self.ops, self.feedback, lambda: bursar.preview(rt, actor), self._show_pending)

    def _show_charges(self, found: Sequence[ChargeView]) -> None:
        self.charges = {str(c.id): c for c in found}
        self.table.fill([(str(c.id), _cells(c)) for c in found])

    def _show_pending(self, pending: bursar.BursarPreview) -> None:
        self.bursar_preview.setText(
            f"Next report: {len(pending.to_report)} charge(s), {money(pending.total)}; "
            f"{len(pending.held_back)} held back (estimates, or own items below the "
            "minimum)."
        )

    def selected(self) -> ChargeView | None:
        key = self.table.current_key()
        return self.charges.get(key) if key else None

    def _after_change(self, message: str, reminder: str) -> None:
        self.refresh()
        self.reminder.setText(reminder)
        self.feedback.good(message)

    def declare_lost(self) -> None:
        rt, actor = self.session.rt, self.session.actor
        barcode, cost = self.lost_barcode.text(), self.lost_replacement.text()
        estimated = not self.lost_actual.isChecked()
        long_overdue, note = self.lost_long_overdue.isChecked(), self.lost_note.text()

        def declared(result: charges.LostDeclaration) -> None:
            for edit in (self.lost_barcode, self.lost_replacement, self.lost_note):
                edit.clear()
            self.patron_filter.setText(result.patron_id)
            self._after_change(result.message, "")

        attempt(
            self.ops,
            self.feedback,
            lambda: charges.declare_lost(
                rt,
                actor,
                barcode,
                replacement_cost=cost,
                estimated=estimated,
                long_overdue=long_overdue,
                note=note,
            ),
            declared,
        )

    def _with_selected(self, action: Callable[[ChargeView], charges.ChargeChange]) -> None:
        chosen = self.selected()
        if chosen is None:
            self.feedback.problem("Choose a charge in the list first.")
            return

        def changed(change: charges.ChargeChange) -> None:
            self.change_amount.clear()
            self.change_reason.clear()
            self._after_change(change.message, change.bursar_reminder)

        attempt(self.ops, self.feedback, lambda: action(chosen), changed)

    def remove(self) -> None:
        rt, actor, reason = self.session.rt, self.session.actor, self.change_reason.text()
        self._with_selected(lambda c: charges.remove_charge(rt, actor, c.id, reason))

    def reduce(self) -> None:
        rt, actor = self.session.rt, self.session.actor
        amount, reason = self.change_amount.text(), self.change_reason.text()
        self._with_selected(lambda c: charges.reduce_charge(rt, actor, c.id, amount, reason))

    def actual_bill(self) -> None:
        rt, actor, amount = self.session.rt, self.session.actor, self.change_amount.text()
        self._with_selected(lambda c: charges.record_actual_bill(rt, actor, c.id, amount))

    def check_returned(self) -> None:
        barcode, rt, actor = self.returned_barcode.text(), self.session.rt, self.session.actor
        self.offer = None
        self.remove_returned.setEnabled(False)
        self.offer_label.clear()
        attempt(
            self.ops,
            self.feedback,
            lambda: charges.lost_item_returned(rt, actor, barcode),
            self._show_offer,
        )

    def _show_offer(self, found: LostItemReturned | None) -> None:
        if found is None:
            self.offer_label.setText("This item has no open charges.")
            return
        self.offer = found
        reminder = f"\n{found.bursar_reminder}" if found.bursar_reminder else ""
        self.offer_label.setText(found.message + reminder)
        self.remove_returned.setEnabled(True)

    def remove_returned_charges(self) -> None:
        offer = self.offer
        if offer is None:
            return
        rt, actor = self.session.rt, self.session.actor

        def removed(gone: Sequence[object]) -> None:
            self.offer = None
            self.remove_returned.setEnabled(False)
            self.offer_label.clear()
            self._after_change(
                f"{len(gone)} charge(s) removed for {offer.item_barcode}.", offer.bursar_reminder
            )

        attempt(
            self.ops,
            self.feedback,
            lambda: charges.remove_charges_for_returned_item(rt, actor, offer.item_barcode),
            removed,
        )

    def choose_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Bursar report", self.bursar_file.text(), "CSV files (*.csv)"
        )
        if path:
            self.bursar_file.setText(path)

    def export(self) -> None:
        path = Path(self.bursar_file.text().strip())
        rt, actor = self.session.rt, self.session.actor
        attempt(
            self.ops,
            self.feedback,
            lambda: bursar.export(rt, actor, path),
            lambda result: self._after_change(result.message, ""),
        )


def _cells(c: ChargeView) -> tuple[str, ...]:
    return (
        str(c.id),
        f"{c.patron_name} ({c.patron_id})",
        c.kind.value.replace("_", " "),
        money(c.amount),
        c.item_barcode,
        c.reason,
        c.note,
    )
