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
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from PySide6.QtCore import QDate
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.borrowing.due_dates import say_date
from app.desk.checkout import check_out, preview_checkout
from app.desk.checkout_results import CheckoutResult, Outcome
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
from app.people.patrons import PatronView, patron_view
from ui.desk_session import DeskSession
from ui.screens.checkout_confirmation import (
    SAME_DATE_KEY,
    STRAP_DATE_FIRST,
    CheckoutBanner,
    ConfirmPanel,
)
from ui.screens.checkout_loan_row import LoanChangesRow
from ui.screens.checkout_offline_patron import offline_patron_reference
from ui.screens.patrons_screen import PatronAccountPanel, PatronLookup
from ui.sounds import SoundPlayer
from ui.widgets.scan_field import ScanField, ScanFocusKeeper

log = logging.getLogger(__name__)
T = TypeVar("T")

_OVERRIDABLE = (Outcome.REFUSED_NOT_ON_HOLD_FOR_PATRON, Outcome.REFUSED_LENDER_DATE_PASSED)
ACCOUNT_LEAST_HEIGHT = 150  # the patron's header, the tabs and two rows
UNREACHABLE_RETRY = (
    "The database cannot be reached, so nothing was recorded. Try again when the status bar "
    "shows the database connected."
)


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

        self.confirm_box = ConfirmPanel(self)
        box = self.confirm_box  # its parts by the names the screen (and its tests) use
        self.confirm_title, self.strap_date = box.item_label, box.strap_date
        self.due_label = box.due_label
        self.sentence, self.discrepancy = box.sentence, box.discrepancy
        self.confirm_button, self.cancel_button = box.confirm_button, box.cancel_button
        self.pieces_confirm = box.pieces_confirm
        same_date = QShortcut(QKeySequence(SAME_DATE_KEY), self)
        same_date.activated.connect(box.use_recorded)

        self.account = PatronAccountPanel(self)
        # The account takes the height left (its lists scroll), so a 1280x800 window shows
        # the confirmation and the due-date row without scrolling the screen.
        self.account.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self.account.setMinimumHeight(ACCOUNT_LEAST_HEIGHT)
        self.loan_row = LoanChangesRow(self)
        self.renew_button, self.new_due = self.loan_row.renew_button, self.loan_row.new_due
        self.due_reason = self.loan_row.due_reason
        self.change_due_button = self.loan_row.change_due_button

        layout = QVBoxLayout(self)
        layout.addWidget(self.lookup)
        layout.addWidget(self.scan)
        layout.addWidget(self.banner)
        layout.addLayout(refusal_row)
        layout.addWidget(self.confirm_box)
        layout.addWidget(self.account, 1)
        layout.addWidget(self.loan_row)

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
        self.loan_row.for_patron(self.session.rt.clock.today())
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
            self.banner.show_idle(STRAP_DATE_FIRST)
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
        strap = result.strap_due_date
        self.confirm_box.ask(
            f"{result.title}  ({result.barcode})", strap, needs_date=result.is_ill and bool(strap)
        )
        self.confirm_box.show_proposal(result)

    def _strap_date_edited(self, value: QDate) -> None:
        if self.pending is None or self.patron_id is None:
            return
        if self.offline_patron is not None:
            return  # the database is away: the date is journaled as typed
        rt, actor, patron_id = self.session.rt, self.session.actor, self.patron_id
        barcode, strap = self.pending.barcode, self.strap_date.value()
        if strap is None:
            return

        def answered(result: CheckoutResult) -> None:
            if self.pending is None or self.pending.barcode != barcode:
                return  # confirmed or replaced meanwhile
            if self.strap_date.value() != strap:
                return  # typed on meanwhile: the later date's answer follows
            if result.outcome.refused:
                self.discrepancy.setText(result.message)
                return
            self.confirm_box.show_proposal(result)

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
        if not self.confirm_box.ready():  # never a date nobody read off the strap
            self._ask_strap_date(self.confirm_box.what_to_do())
            return
        if self.pieces_confirm.needs_ticking():  # the confirmation step before the loan
            self.banner.show_idle(self.pieces_confirm.reminder())
            return
        strap = self.strap_date.value() if self.confirm_box.needs_date else None
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
        self.confirm_box.show_offline(f"{scan.barcode}  (offline: the record cannot be read)")
        lines = ["Type the lender's date printed on the strap, then press Enter to save."]
        if replaced is not None and replaced != scan.barcode:
            lines.append(f"{replaced} was NOT checked out: scan it again to check it out.")
        self.banner.show_problem(f"Offline: {scan.barcode} for {self.offline_patron}", tuple(lines))
        self.scan.setFocus()

    def _offline_confirm(self) -> None:
        patron, barcode = self.offline_patron, self.offline_barcode
        assert patron is not None and barcode is not None
        strap = self.strap_date.value()
        if strap is None:
            self._ask_strap_date("Type the lender's date printed on the strap, then Enter.")
            return
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
        new_due, reason = self.new_due.value(), self.due_reason.text()
        if new_due is None:
            self._problem("Type the new due date", "As yyyy-mm-dd, e.g. the lender's new date.")
            self.new_due.setFocus()
            return

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
