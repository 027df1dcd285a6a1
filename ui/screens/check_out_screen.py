"""Check Out: find the patron, scan the strap, confirm the date on the strap, check out.

The due date comes from the service; the screen shows it with the one sentence staff tell
the patron, and lets staff correct the strap date they read on the physical strap (the
strap wins; the service logs the difference). Refusals appear in the big banner, with the
way forward offered as a button where there is one (record an in-library use, override).

When the shared database cannot be reached and the library allows offline checkouts, staff
go on with the campus ID (or card barcode) as typed: the strap is scanned, the lender's
date on the strap typed, and Enter journals the checkout (replayed when the database is
back). When the library does not allow it, the banner says to keep the item on the shelf.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.borrowing.due_dates import say_date
from app.desk.checkout import check_out, preview_checkout
from app.desk.checkout_results import CheckoutResult, Outcome
from app.desk.checkout_wording import checkout_headline
from app.desk.in_house_use import InHouseUseResult, record_in_house_use
from app.desk.loan_changes import DueDateChange, change_due_date, refuse_renewal
from app.desk.offline_fallback import (
    OFFLINE_NOT_ALLOWED,
    ProvisionalCheckout,
    journal_checkout,
    offline_checkouts_allowed,
)
from app.desk.routing import Tone
from app.library.errors import InvalidInput, ServiceError
from app.library.scanning import InvalidScan, normalize_scan
from app.library.vocabulary import Role
from app.people.patron_ids import parse_patron_id
from app.people.patrons import PatronView, patron_view
from ui.desk_session import DeskSession
from ui.screens.patrons_screen import PatronAccountPanel, PatronLookup
from ui.sounds import SoundPlayer
from ui.widgets.pieces_confirm import PiecesConfirm
from ui.widgets.routing_banner import GOOD, PROBLEM, RoutingBanner
from ui.widgets.scan_field import ScanField, ScanFocusKeeper
from ui.widgets.scanner_bursts import TYPED_NOT_SCANNED

log = logging.getLogger(__name__)
T = TypeVar("T")

_OVERRIDABLE = (Outcome.REFUSED_NOT_ON_HOLD_FOR_PATRON, Outcome.REFUSED_LENDER_DATE_PASSED)
_CARD_BARCODE = re.compile(r"^(?=.*\d)[A-Za-z0-9-]{5,32}$")  # a name has no digits
UNREACHABLE_RETRY = (
    "The database cannot be reached, so nothing was recorded. Try again when the status bar "
    "shows the database connected."
)


def offline_patron_reference(text: str) -> str:
    """The patron as typed, when the database cannot look them up: campus ID or card barcode."""
    try:
        return parse_patron_id(text)
    except InvalidInput:
        value = text.strip()
        if _CARD_BARCODE.match(value):
            return value
        raise InvalidInput(
            "The database cannot be reached, so patrons cannot be searched by name. Type the "
            "campus ID (like T00123456) or scan the barcode on the patron's card."
        ) from None


def to_qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def from_qdate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class CheckoutBanner(RoutingBanner):
    """The check-in banner, speaking about checkouts."""

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
            self._paint(PROBLEM, checkout_headline(result), target, (result.message,))

    def show_note(self, headline: str, lines: tuple[str, ...]) -> None:
        self.result = None
        self._paint(GOOD, headline, "", lines)


class StrapDateEdit(QDateEdit):
    """The date read on the strap; Enter confirms the checkout."""

    confirmed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.confirmed.emit()
            return
        super().keyPressEvent(event)


class CheckOutScreen(QWidget):
    """Patron first, then one strap at a time; each checkout lands in the patron's list."""

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("checkOutScreen")
        self.session = session
        self.patron_id: str | None = None
        self.pending: CheckoutResult | None = None  # a proposal waiting for confirmation
        self.refused: CheckoutResult | None = None  # the last refusal, for its buttons
        self.sounds = SoundPlayer(session.settings, self)
        self.offline_allowed = False  # until the library's setting is read (below)
        self.offline_patron: str | None = None  # patron as typed, while the database is away
        self.offline_barcode: str | None = None  # a strap scanned offline, waiting for Enter

        self.lookup = PatronLookup(session, "patron", self)
        self.scan = ScanField(self)
        self.scan.setPlaceholderText("Scan the barcode at the TOP of the strap, then Enter")
        self.banner = CheckoutBanner(self)
        self.banner.show_idle("Find the patron, then scan the strap")

        self.record_use_button = QPushButton("Record in-library use", self)
        self.record_use_button.setObjectName("recordInHouseUseButton")
        self.override_button = QPushButton("Override (ILL office)", self)
        self.override_button.setObjectName("overrideButton")
        refusal_row = QHBoxLayout()
        refusal_row.addWidget(self.record_use_button)
        refusal_row.addWidget(self.override_button)
        refusal_row.addStretch(1)

        self.confirm_box = QGroupBox("Confirm the date on the strap", self)
        self.confirm_box.setObjectName("confirmPanel")
        self.confirm_title = QLabel("", self.confirm_box)
        self.confirm_title.setObjectName("confirmTitle")
        self.confirm_title.setWordWrap(True)
        self.strap_date = StrapDateEdit(self.confirm_box)
        self.strap_date.setObjectName("strapDateEdit")
        self.strap_date.setCalendarPopup(True)
        self.strap_date.setDisplayFormat("yyyy-MM-dd")
        self.strap_date.setAccessibleName("Due date printed on the strap")
        self.due_label = QLabel("", self.confirm_box)
        self.due_label.setObjectName("dueDateLabel")
        self.due_label.setStyleSheet("font-size: 20pt; font-weight: 700;")
        self.sentence = QLabel("", self.confirm_box)
        self.sentence.setObjectName("patronSentence")
        self.sentence.setWordWrap(True)
        self.discrepancy = QLabel("", self.confirm_box)
        self.discrepancy.setObjectName("discrepancyNote")
        self.discrepancy.setWordWrap(True)
        self.confirm_button = QPushButton("Strap checked: check out", self.confirm_box)
        self.confirm_button.setObjectName("confirmCheckoutButton")
        self.cancel_button = QPushButton("Cancel", self.confirm_box)
        self.cancel_button.setObjectName("cancelCheckoutButton")
        form = QFormLayout()
        form.addRow("Item", self.confirm_title)
        form.addRow("Date on the strap", self.strap_date)
        form.addRow("Due date", self.due_label)
        form.addRow("Tell the patron", self.sentence)
        buttons = QHBoxLayout()
        buttons.addWidget(self.confirm_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        box_layout = QVBoxLayout(self.confirm_box)
        box_layout.addLayout(form)
        self.pieces_confirm = PiecesConfirm(self.confirm_box)  # several pieces: counted first
        box_layout.addWidget(self.pieces_confirm)
        box_layout.addWidget(self.discrepancy)
        box_layout.addLayout(buttons)

        self.account = PatronAccountPanel(self)
        self.renew_button = QPushButton("Renew…", self)
        self.renew_button.setObjectName("renewButton")
        self.renew_button.setToolTip("Explains why ILL items are not renewed at the desk")
        self.new_due = QDateEdit(self)
        self.new_due.setObjectName("newDueDateEdit")
        self.new_due.setCalendarPopup(True)
        self.new_due.setDisplayFormat("yyyy-MM-dd")
        self.due_reason = QLineEdit(self)
        self.due_reason.setObjectName("dueReasonInput")
        self.due_reason.setPlaceholderText("Reason (required), e.g. lender renewed to this date")
        self.due_reason.setProperty(TYPED_NOT_SCANNED, True)  # a scan here goes to the strap field
        self.change_due_button = QPushButton("Change due date", self)
        self.change_due_button.setObjectName("changeDueButton")
        loan_row = QHBoxLayout()
        loan_row.addWidget(QLabel("Selected checkout:", self))
        loan_row.addWidget(self.renew_button)
        loan_row.addSpacing(20)
        loan_row.addWidget(self.new_due)
        loan_row.addWidget(self.due_reason, 1)
        loan_row.addWidget(self.change_due_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.lookup)
        layout.addWidget(self.scan)
        layout.addWidget(self.banner)
        layout.addLayout(refusal_row)
        layout.addWidget(self.confirm_box)
        layout.addWidget(self.account, 1)
        layout.addLayout(loan_row)

        # The lookup is run from here so that an unreachable database means offline, not a
        # traceback.
        self.lookup.input.returnPressed.disconnect(self.lookup.search)
        self.lookup.button.clicked.disconnect(self.lookup.search)
        self.lookup.input.returnPressed.connect(self.find_patron)
        self.lookup.button.clicked.connect(self.find_patron)
        self.lookup.offline_aware = True
        self.lookup.unreachable.connect(lambda typed: self._go_offline(typed, None))
        self.lookup.patronChosen.connect(self.choose_patron)
        self.lookup.failed.connect(lambda text: self._problem("Patron not found", text))
        self.scan.scanned.connect(self.on_scan)
        self.scan.doubleReadIgnored.connect(
            lambda code: self.banner.show_idle(f"{code} read twice by the scanner: counted once")
        )
        self.strap_date.dateChanged.connect(self._strap_date_edited)
        self.strap_date.confirmed.connect(self.confirm)
        self.confirm_button.clicked.connect(self.confirm)
        self.cancel_button.clicked.connect(self.cancel)
        self.record_use_button.clicked.connect(self.record_in_house_use)
        self.override_button.clicked.connect(self.override)
        self.renew_button.clicked.connect(self.renew_selected)
        self.change_due_button.clicked.connect(self.change_due_of_selected)
        self._set_pending(None)
        self._set_refused(None)
        # After Renew, Override, a dialog or any click off a typing field, the next scan
        # lands where it belongs, as on Check In.
        self.focus_keeper = ScanFocusKeeper(self, self.scan_target)
        session.ops.run(
            lambda: offline_checkouts_allowed(session.rt, session.actor),
            on_done=self._offline_setting,
            on_error=lambda error: log.warning("offline checkout setting not read: %s", error),
            name="offline checkout setting",
        )

    def _offline_setting(self, allowed: bool) -> None:
        self.offline_allowed = allowed
        self.session.offline.checkouts_allowed = allowed

    # --- navigation ---

    def scan_target(self) -> QWidget:
        """Where the next scan belongs: the strap field once there is a patron, else the
        patron field (a campus ID card scans there)."""
        if self.patron_id or self.offline_patron:
            return self.scan
        return self.lookup.input

    def activate(self) -> None:
        self.scan_target().setFocus()

    def unfinished_work(self) -> str:
        """A checkout waiting for Enter, which signing out now would drop ("" for none)."""
        waiting = self.pending.barcode if self.pending is not None else self.offline_barcode
        if waiting is None:
            return ""
        return f"The checkout of {waiting} on Check Out is waiting to be confirmed."

    def _run(
        self,
        work: Callable[[], T],
        on_done: Callable[[T], object],
        refused: Callable[[ServiceError], object],
        unreachable: Callable[[], object] | None = None,
    ) -> None:
        """Run a service call on the desk's runner. `unreachable` (when given) takes the
        case of a database that did not answer; `refused` takes every other refusal."""

        def failed(error: ServiceError) -> None:
            if unreachable is not None and error.code == "database_unavailable":
                unreachable()
            else:
                refused(error)

        self.session.ops.run(work, on_done=on_done, on_error=failed, owner=self)

    def _refused_as(self, headline: str) -> Callable[[ServiceError], None]:
        """A refusal shown in the banner under `headline` (an unreachable database in words)."""

        def show(error: ServiceError) -> None:
            text = UNREACHABLE_RETRY if error.code == "database_unavailable" else error.message
            self._problem(headline, text)

        return show

    def find_patron(self) -> None:
        """Search for the patron typed; an unreachable database offers the offline way."""
        self._leave_offline()
        self.lookup.search()

    def choose_patron(self, patron_id: str) -> None:
        self._leave_offline()
        rt, actor = self.session.rt, self.session.actor
        self._run(
            lambda: patron_view(rt, actor, patron_id),
            self._patron_chosen,
            self._refused_as("Patron not found"),
            lambda: self._go_offline(patron_id, None),
        )

    def _patron_chosen(self, view: PatronView) -> None:
        self.patron_id = view.patron_id
        self.account.show_view(view)
        self._set_pending(None)
        self._set_refused(None)
        self.banner.show_idle(f"{view.name}: scan the strap")
        self.new_due.setDate(to_qdate(self.session.rt.clock.today()))
        self.scan.setFocus()

    def _refresh_account(self) -> None:
        if self.patron_id is None:
            return
        rt, actor, patron_id = self.session.rt, self.session.actor, self.patron_id

        def shown(view: PatronView) -> None:
            if self.patron_id == view.patron_id:  # still the patron at the desk
                self.account.show_view(view)

        self._run(
            lambda: patron_view(rt, actor, patron_id),
            shown,
            self._refused_as("Could not refresh the patron"),
        )

    # --- the scan and the confirmation ---

    def on_scan(self, barcode: str) -> None:
        """A scan proposes a checkout; Enter on the empty scan field confirms it.

        Focus stays in the scan field throughout, so a strap scanned too early never lands
        in the date field (its digits would change the date and its Enter confirm it).
        """
        if not barcode and (self.pending is not None or self.offline_barcode is not None):
            self.confirm()
            return
        if self.offline_patron is not None:
            self._offline_scan(barcode)
            return
        replaced = self.pending
        self._set_refused(None)
        if self.patron_id is None:
            self._problem("Find the patron first", "Type or scan their campus ID above.")
            self.lookup.input.setFocus()
            return
        rt, actor, patron_id = self.session.rt, self.session.actor, self.patron_id

        def unreachable() -> None:
            self._set_pending(None)
            self._go_offline(patron_id, barcode)

        self._run(
            lambda: preview_checkout(rt, actor, patron_id, barcode),
            lambda result: self._proposed(result, replaced),
            self._refused_as("Not checked out"),
            unreachable,
        )

    def _proposed(self, result: CheckoutResult, replaced: CheckoutResult | None) -> None:
        if result.outcome.refused:
            self._set_pending(None)
            self._refused_result(result)
        else:
            self._set_pending(result)
            self.banner.show_idle("Check the date on the strap, then press Enter to confirm")
            self.scan.setFocus()
        if replaced is not None and replaced.barcode != result.barcode:
            note = f"{replaced.barcode} was NOT checked out: scan it again to check it out."
            self.banner.lines.setText("\n".join(filter(None, (note, self.banner.lines.text()))))

    def _set_pending(self, result: CheckoutResult | None) -> None:
        self.pending = result
        self.pieces_confirm.show_for(result.pieces if result is not None else 1)
        self.confirm_box.setVisible(result is not None)
        if result is None:
            return
        self.confirm_title.setText(f"{result.title}  ({result.barcode})")
        strap = result.strap_due_date
        self.strap_date.setEnabled(result.is_ill and strap is not None)
        self.strap_date.blockSignals(True)
        self.strap_date.setDate(to_qdate(strap or self.session.rt.clock.today()))
        self.strap_date.blockSignals(False)
        self._show_proposal(result)

    def _show_proposal(self, result: CheckoutResult) -> None:
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

    def _strap_date_edited(self, value: QDate) -> None:
        if self.pending is None or self.patron_id is None:
            return
        if self.offline_patron is not None:
            return  # the database is away: the date is journaled as typed
        rt, actor, patron_id = self.session.rt, self.session.actor, self.patron_id
        barcode, strap = self.pending.barcode, from_qdate(value)

        def answered(result: CheckoutResult) -> None:
            if self.pending is None or self.pending.barcode != barcode:
                return  # confirmed or replaced meanwhile
            if from_qdate(self.strap_date.date()) != strap:
                return  # typed on meanwhile: the later date's answer follows
            if result.outcome.refused:
                self.discrepancy.setText(result.message)
                return
            self._show_proposal(result)

        self._run(
            lambda: preview_checkout(rt, actor, patron_id, barcode, strap_due=strap),
            answered,
            lambda error: self.discrepancy.setText(error.message),
            lambda: self.discrepancy.setText(
                "The database did not answer: the due date shown is not updated."
            ),
        )

    def confirm(self, *, override: bool = False) -> None:
        if self.offline_barcode is not None:
            self._offline_confirm()
            return
        pending = self.pending
        if pending is None or self.patron_id is None:
            return
        if self.pieces_confirm.needs_ticking():  # the confirmation step before the loan
            self.banner.show_idle(self.pieces_confirm.reminder())
            return
        strap = from_qdate(self.strap_date.date()) if self.strap_date.isEnabled() else None
        self._do_checkout(pending.barcode, strap, override=override)

    def _do_checkout(self, barcode: str, strap: date | None, *, override: bool) -> None:
        assert self.patron_id is not None
        rt, actor, patron_id = self.session.rt, self.session.actor, self.patron_id
        offline, pieces_checked = self.session.offline, self.pieces_confirm.isChecked()
        self.offline_patron, self.offline_barcode = None, None

        def refused(error: ServiceError) -> None:
            if error.code == "strap_date_needed":  # the database went away meanwhile
                self.offline_patron, self.offline_barcode = patron_id, barcode
                self._ask_strap_date(error.message)
            elif error.code == "database_unavailable":
                if error.message == OFFLINE_NOT_ALLOWED:
                    self._set_pending(None)
                self._problem("Database unavailable", error.message)
            else:
                self._refused_as("Not checked out")(error)

        self._run(
            lambda: check_out(
                rt,
                actor,
                patron_id,
                barcode,
                strap_due=strap,
                override=override,
                offline=offline,
                pieces_checked=pieces_checked,
            ),
            self._checked_out,
            refused,
        )

    def _checked_out(self, result: CheckoutResult | ProvisionalCheckout) -> None:
        if isinstance(result, ProvisionalCheckout):
            self._saved_offline(result)
            return
        self._set_pending(None)
        if result.outcome.refused:
            self._refused_result(result)
        else:
            self._set_refused(None)
            self.banner.show_checkout(result)
            self.sounds.play(Tone.GOOD)
        self._refresh_account()
        self.scan.setFocus()

    def cancel(self) -> None:
        self._set_pending(None)
        self.offline_barcode = None
        self.banner.show_idle("Not checked out. Scan the next strap")
        self.scan.setFocus()

    # --- offline: the database cannot be reached ---

    def _go_offline(self, typed: str, barcode: str | None) -> None:
        """The database is away: go on with the patron as typed, if the library allows it."""
        self._set_refused(None)
        if not self.offline_allowed:
            self._problem("Database unavailable", OFFLINE_NOT_ALLOWED)
            return
        try:
            patron = offline_patron_reference(typed)
        except InvalidInput as exc:
            self._problem("Database unavailable", exc.message)
            self.lookup.input.setFocus()
            return
        self.patron_id = None
        self.offline_patron = patron
        shown = self.account.view
        if shown is None or patron not in (shown.patron_id, shown.barcode):
            self.account.clear()
            self.account.header.setText(f"{patron}  ·  offline: the account cannot be shown")
        if barcode:
            self._offline_scan(barcode)
            return
        self.banner.show_problem(
            f"Offline: checking out to {patron}",
            (
                "The database cannot be reached. Scan the strap and type the lender's date "
                "printed on it: the checkout is saved on this PC and made when the database "
                "is back.",
            ),
        )
        self.scan.setFocus()

    def _leave_offline(self) -> None:
        if self.offline_patron is None:
            return
        self.offline_patron = None
        self.offline_barcode = None
        self._set_pending(None)

    def _offline_scan(self, raw: str) -> None:
        """A strap scanned offline: ask for the date on the strap, Enter saves it."""
        assert self.offline_patron is not None
        scan = normalize_scan(raw)
        if isinstance(scan, InvalidScan):
            self._problem("Scan not readable", scan.reason)
            return
        replaced = self.offline_barcode
        self.offline_barcode = scan.barcode
        self.pending = None
        self.confirm_box.setVisible(True)
        self.confirm_title.setText(f"{scan.barcode}  (offline: the record cannot be read)")
        self.strap_date.setEnabled(True)
        self.strap_date.blockSignals(True)
        self.strap_date.setDate(to_qdate(self.session.rt.clock.today()))
        self.strap_date.blockSignals(False)
        self.due_label.setText("Provisional: the lender's date on the strap")
        self.sentence.setText("Tell the patron the date printed on the strap.")
        self.discrepancy.setText("")
        lines = ["Type the lender's date printed on the strap, then press Enter to save."]
        if replaced is not None and replaced != scan.barcode:
            lines.append(f"{replaced} was NOT checked out: scan it again to check it out.")
        self.banner.show_problem(f"Offline: {scan.barcode} for {self.offline_patron}", tuple(lines))
        self.scan.setFocus()

    def _offline_confirm(self) -> None:
        patron, barcode = self.offline_patron, self.offline_barcode
        assert patron is not None and barcode is not None
        strap = from_qdate(self.strap_date.date())
        rt, actor, offline = self.session.rt, self.session.actor, self.session.offline
        try:  # a line written to this PC's journal: no database, no wait
            saved = journal_checkout(rt, actor, offline, patron, barcode, strap)
        except ServiceError as exc:
            if exc.code == "strap_date_needed":
                self._ask_strap_date(exc.message)
            else:
                self._problem("Not saved", exc.message)
            return
        self._saved_offline(saved)

    def _ask_strap_date(self, text: str) -> None:
        self._problem("Enter the strap date", text)
        self.strap_date.setFocus()

    def _saved_offline(self, saved: ProvisionalCheckout) -> None:
        self._set_pending(None)
        if saved.unsure:
            self._problem(saved.headline, saved.unsure)
            return
        self.offline_barcode = None
        self._set_refused(None)
        self.banner.show_note(saved.headline, saved.instructions)
        self.sounds.play(Tone.GOOD)
        self.scan.setFocus()

    # --- refusals and their ways forward ---

    def _refused_result(self, result: CheckoutResult) -> None:
        self.banner.show_checkout(result)
        self.sounds.play(Tone.PROBLEM)
        self._set_refused(result)
        self.scan.setFocus()

    def _set_refused(self, result: CheckoutResult | None) -> None:
        self.refused = result
        offer_use = result is not None and result.offer_in_library_use
        self.record_use_button.setVisible(offer_use)
        self.override_button.setVisible(
            result is not None
            and result.outcome in _OVERRIDABLE
            and self.session.actor.has_role(Role.ILL_OFFICE)
        )

    def record_in_house_use(self) -> None:
        refused = self.refused
        if refused is None:
            return
        rt, actor, patron_id = self.session.rt, self.session.actor, self.patron_id
        self._run(
            lambda: record_in_house_use(rt, actor, refused.barcode, patron_ref=patron_id),
            self._use_recorded,
            self._refused_as("In-library use not recorded"),
        )

    def _use_recorded(self, use: InHouseUseResult) -> None:
        self._set_refused(None)
        self.banner.show_note(
            "In-library use recorded", (use.title, use.message, f"Use number {use.uses}.")
        )
        self.sounds.play(Tone.GOOD)
        self._refresh_account()
        self.scan.setFocus()

    def override(self) -> None:
        refused = self.refused
        if refused is None or self.patron_id is None:
            return
        if refused.pieces > 1 and not self.pieces_confirm.isChecked():  # counted first
            self.pieces_confirm.show_for(refused.pieces)
            self.confirm_title.setText(f"{refused.title}  ({refused.barcode})")
            self.confirm_box.setVisible(True)
            self.banner.show_idle(self.pieces_confirm.reminder().replace("Enter", "Override"))
            return
        self._do_checkout(refused.barcode, None, override=True)

    # --- the patron's checkouts: renewal and due-date changes ---

    def _selected_barcode(self) -> str | None:
        row = self.account.checkouts.currentRow()
        cell = self.account.checkouts.item(row, 0) if row >= 0 else None
        return cell.text() if cell else None

    def renew_selected(self) -> None:
        barcode = self._selected_barcode()
        if barcode is None:
            self._problem("Select a checkout", "Click the item in the Checked out list first.")
            return
        rt, actor = self.session.rt, self.session.actor
        self._run(
            lambda: refuse_renewal(rt, actor, barcode),
            lambda answer: self._problem("Not renewed at the desk", answer.message),
            self._refused_as("Not renewed"),
        )

    def change_due_of_selected(self) -> None:
        barcode = self._selected_barcode()
        if barcode is None:
            self._problem("Select a checkout", "Click the item in the Checked out list first.")
            return
        rt, actor = self.session.rt, self.session.actor
        new_due, reason = from_qdate(self.new_due.date()), self.due_reason.text()

        def refused(error: ServiceError) -> None:
            self._refused_as("Due date not changed")(error)
            if error.code != "database_unavailable":
                self.due_reason.setFocus()

        self._run(
            lambda: change_due_date(rt, actor, barcode, new_due, reason),
            self._due_changed,
            refused,
        )

    def _due_changed(self, change: DueDateChange) -> None:
        self.due_reason.clear()
        self.banner.show_note(
            f"Due {say_date(change.due_date)}",
            (change.title, f"Was {say_date(change.old_due_date)}. Reason: {change.reason}"),
        )
        self._refresh_account()

    def _problem(self, headline: str, text: str) -> None:
        self.banner.show_problem(headline, (text,))
        self.sounds.play(Tone.PROBLEM)
