"""The ILL office (Access Services) screen: receive and strap, requests, renewals, ship back,
and the lists the office works from.

The Receive tab is built for a pile of parcels: scan or type the request number, Enter,
check the lender and due date, one button. Receiving runs on the desk's operations runner
and hands back one strap document, built there, which the preview and the printer both use;
a refusal shows in the message line, never in a dialog.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.borrowing.receiving import MAX_PIECES, Received, ReceiveForm
from app.borrowing.requests import RequestView, find_request
from app.borrowing.strap_queue import EMPTY_QUEUE, mark_straps_printed, waiting_count
from app.library.errors import ServiceError
from app.printing import LAYOUT_NAMES
from app.printing.document import PrintDocument
from ui.desk_session import DeskSession
from ui.printing import DocumentPrinter
from ui.screens.ill_office_tabs import RenewalsTab, RequestsTab, ShipBackTab
from ui.screens.office_lists_tab import ListsTab
from ui.screens.office_widgets import say
from ui.screens.strap_preview import StrapMade, receive_and_strap
from ui.widgets.scan_field import ScanFocusKeeper
from ui.widgets.screen_tabs import ScreenTabs

log = logging.getLogger(__name__)


class LenderDueInput(QLineEdit):
    """The lender's due date as typed from their paperwork: empty until someone types it.

    A date already filled in (today + 4 weeks, or the last item's) is a date nobody read; the
    strap would carry it and the patron be told it. So the field starts empty every time.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("YYYY-MM-DD, from the lender's paperwork")
        self.setMaxLength(10)

    def lender_date(self) -> date | None:
        """The date typed (2026-12-14 or 20261214), or None when empty or not a date."""
        text = self.text().strip().replace("/", "-")
        if len(text) == 8 and text.isdigit():
            text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        try:
            return date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            return None


@dataclass(frozen=True)
class StrapBatch:
    """Straps printed together, and which items they are for (they leave the queue)."""

    document: PrintDocument
    barcodes: tuple[str, ...]


PRINTED_HERE = "ILL office window: printed"
SAVED_HERE = "ILL office window: saved as PDF"


class ReceiveTab(QWidget):
    """Scan the request number, check the lender's details, receive: strap and transit."""

    received = Signal(object)  # a Received result, after the screen shows it
    previewReady = Signal()  # the strap preview image is on screen

    def __init__(self, session: DeskSession, printer: DocumentPrinter,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.session = session
        self.printer = printer
        self.last: Received | None = None
        self._document: PrintDocument | None = None  # the last strap, for print and PDF
        self.queue_count = 0  # straps waiting to print, as last counted
        self._build()

    def _build(self) -> None:
        self.request_input = QLineEdit(self)
        self.request_input.setObjectName("receiveRequestInput")
        self.request_input.setPlaceholderText("Scan or type the ILL request number, then Enter")
        self.request_input.returnPressed.connect(self.look_up)
        self.request_info = QLabel(self)
        self.request_info.setObjectName("receiveRequestInfo")
        self.request_info.setWordWrap(True)
        self.lender_input = QLineEdit(self)
        self.lender_input.setObjectName("receiveLenderInput")
        self.lender_input.setPlaceholderText("OCLC symbol, e.g. OKT")
        self.lender_input.setMaxLength(5)
        self.due_input = LenderDueInput(self)
        self.due_input.setObjectName("receiveDueInput")
        self.in_library_input = QCheckBox("In-library use only", self)
        self.in_library_input.setObjectName("receiveInLibraryUse")
        self.pieces_input = QSpinBox(self)  # a book with a CD: 2; the strap says it large
        self.pieces_input.setObjectName("receivePieces")
        self.pieces_input.setRange(1, MAX_PIECES)
        self.pieces_input.setSuffix(" piece(s)")
        self.lender_barcode_input = QLineEdit(self)
        self.lender_barcode_input.setObjectName("receiveLenderBarcode")
        self.lender_barcode_input.setPlaceholderText("optional: the lender's own barcode")
        self.note_input = QLineEdit(self)
        self.note_input.setObjectName("receiveNote")
        self.receive_button = QPushButton("Receive and make strap", self)
        self.receive_button.setObjectName("receiveButton")
        self.receive_button.setDefault(True)
        self.receive_button.clicked.connect(self.receive)
        for field in (self.lender_input, self.due_input, self.lender_barcode_input,
                      self.note_input):  # fmt: skip
            field.returnPressed.connect(self.receive)  # Enter receives once the form is complete
        form = QFormLayout()
        form.addRow("Request number:", self.request_input)
        form.addRow("", self.request_info)
        form.addRow("Lender (OCLC):", self.lender_input)
        form.addRow("Lender's due date:", self.due_input)
        form.addRow("", self.in_library_input)
        form.addRow("Pieces:", self.pieces_input)
        form.addRow("Lender's barcode:", self.lender_barcode_input)
        form.addRow("Note:", self.note_input)
        form.addRow("", self.receive_button)

        self.message = QLabel(self)
        self.message.setObjectName("receiveMessage")
        self.message.setWordWrap(True)
        font = self.message.font()
        font.setPointSize(14)
        self.message.setFont(font)
        self.print_button = QPushButton("Print strap…", self)
        self.print_button.setObjectName("printStrapButton")
        self.print_button.clicked.connect(lambda: self.print_strap(choose=True))
        self.save_button = QPushButton("Save strap as PDF…", self)
        self.save_button.setObjectName("saveStrapButton")
        self.save_button.clicked.connect(self._ask_save)
        self.batch_button = QPushButton("Print all straps received today…", self)
        self.batch_button.setObjectName("printTodayButton")
        self.batch_button.clicked.connect(self.print_today)
        for button in (self.print_button, self.save_button):
            button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.batch_button)
        buttons.addStretch(1)
        # The print queue: straps nobody printed yet, such as the ILL system's AcceptItems.
        self.queue_label = QLabel("Straps to print", self)
        self.queue_label.setObjectName("strapQueueLabel")
        self.queue_label.setProperty("role", "heading")
        self.queue_note = QLabel(self)
        self.queue_note.setObjectName("strapQueueNote")
        self.queue_note.setWordWrap(True)
        self.queue_print_button = QPushButton("Print waiting straps…", self)
        self.queue_print_button.setObjectName("printWaitingButton")
        self.queue_print_button.clicked.connect(lambda: self.print_waiting())
        self.queue_save_button = QPushButton("Save waiting straps as PDF…", self)
        self.queue_save_button.setObjectName("saveWaitingButton")
        self.queue_save_button.clicked.connect(self._ask_save_waiting)
        for button in (self.queue_print_button, self.queue_save_button):
            button.setEnabled(False)
        queue_buttons = QHBoxLayout()
        queue_buttons.addWidget(self.queue_print_button)
        queue_buttons.addWidget(self.queue_save_button)
        queue_buttons.addStretch(1)
        self.preview = QLabel(self)
        self.preview.setObjectName("strapPreview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.preview.setMinimumWidth(220)

        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.message)
        left.addLayout(buttons)
        left.addSpacing(12)
        left.addWidget(self.queue_label)
        left.addWidget(self.queue_note)
        left.addLayout(queue_buttons)
        left.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 2)
        layout.addWidget(self.preview, 1)

    def look_up(self) -> None:
        """Show what the scanned request is, and move on to the lender field."""
        number = self.request_input.text().strip()
        s = self.session
        s.ops.run(
            lambda: find_request(s.rt, s.actor, number),
            on_done=self._show_request,
            on_error=self._not_found,
            name="receive: look up request",
        )

    def _not_found(self, error: ServiceError) -> None:
        self.request_info.setText("")
        say(self.message, error.message, error=True)
        self.request_input.selectAll()

    def _show_request(self, view: RequestView) -> None:
        self.request_info.setText(
            f"{view.title}{f' ({view.citation})' if view.citation else ''} — for "
            f"{view.patron_name} ({view.patron_id}), pick up at "
            f"{view.pickup_branch}; status {view.status.value}"
        )
        if view.lender and not self.lender_input.text():
            self.lender_input.setText(view.lender)
        say(self.message, "")
        self.lender_input.setFocus()

    def form(self) -> ReceiveForm | None:
        """The form as filled in, or None (and what is missing said, its field focused)."""
        due = self.due_input.lender_date()
        missing = [
            (self.request_input, "Scan or type the ILL request number."),
            (self.lender_input, "Type the lender's OCLC symbol."),
            (self.due_input, "Type the lender's due date from their paperwork (YYYY-MM-DD)."),
        ]
        for field, text in missing:
            empty = due is None if field is self.due_input else not field.text().strip()
            if empty:
                typed = field.text().strip()
                if typed:  # a due date that is no date
                    text = f"{typed} is not a date: type the lender's due date as YYYY-MM-DD."
                say(self.message, text, error=bool(typed))
                field.setFocus()
                return None
        assert due is not None
        return ReceiveForm(
            request_number=self.request_input.text(),
            lender_symbol=self.lender_input.text(),
            lender_due_date=due,
            in_library_use_only=self.in_library_input.isChecked(),
            pieces=self.pieces_input.value(),
            lender_barcode=self.lender_barcode_input.text(),
            note=self.note_input.text(),
            override_reason=self.note_input.text(),  # the note says why a far date is right
        )

    def receive(self) -> None:
        session, form, layout = self.session, self.form(), self._layout()
        if form is None:
            return
        session.ops.run(
            lambda: receive_and_strap(session, form, layout),
            on_done=self._received,
            on_error=lambda error: say(self.message, error.message, error=True),
            name="receive",
        )

    def _received(self, strap: StrapMade) -> None:
        result = self.last = strap.received
        self._document = strap.document
        say(self.message, f"Strap {result.strap_barcode}: {result.instruction}")
        for button in (self.print_button, self.save_button):
            button.setEnabled(strap.document is not None)
        if strap.problem:
            say(self.message, f"{result.instruction} {strap.problem}", error=True)
        if strap.preview is not None:
            self._show_preview(strap.preview)
        if self.session.settings.silent_print and strap.document is not None:
            self.print_strap(choose=False)
        for field in (self.request_input, self.lender_input, self.due_input,
                      self.lender_barcode_input, self.note_input):  # fmt: skip
            field.clear()  # nothing kept from the last item: each date is read afresh
        self.in_library_input.setChecked(False)
        self.pieces_input.setValue(1)
        self.request_info.setText("")
        self.request_input.setFocus()
        self.refresh()  # its strap waits until it is printed
        self.received.emit(result)

    def _layout(self) -> str:
        layout = self.session.settings.strap_layout
        return layout if layout in LAYOUT_NAMES else "letter3"

    def _strap_document(self) -> PrintDocument:
        """The last strap received, as built once when it was received."""
        if self._document is None:
            raise ServiceError("Receive an item first; then its strap can be printed.")
        return self._document

    def _show_preview(self, image: QImage) -> None:
        pixmap = QPixmap.fromImage(image)
        self.preview.setPixmap(
            pixmap.scaledToHeight(
                max(self.preview.height(), 400), Qt.TransformationMode.SmoothTransformation
            )
        )
        self.previewReady.emit()

    def print_strap(self, *, choose: bool) -> None:
        if self.last is None:
            return
        barcodes = (self.last.strap_barcode,)
        printing = self.printer.print_document(
            self._strap_document, choose=choose, parent=self,
            then=lambda: self.mark_printed(barcodes, PRINTED_HERE),
        )  # fmt: skip
        if not printing:
            say(self.message, f"Strap {barcodes[0]} not printed: it waits in Straps to print.")

    # --- the print queue ------------------------------------------------------------------

    def refresh(self) -> None:
        """Count the straps waiting (on the runner); the office sees them on arrival."""
        s = self.session
        s.ops.run(
            lambda: waiting_count(s.rt, s.actor),
            on_done=self._show_queue,
            on_error=lambda error: self.queue_note.setText(
                f"The straps waiting to print could not be counted: {error.message}"
            ),
            name="straps to print",
            owner=self,
        )

    def _show_queue(self, count: int) -> None:
        self.queue_count = count
        self.queue_label.setText(f"Straps to print ({count})")
        self.queue_note.setText(
            EMPTY_QUEUE
            if count == 0
            else "Received, strap not printed yet (the one just received, arrivals over NCIP, "
            "a print cancelled): print them together below, oldest first; each then leaves."
        )
        for button in (self.queue_print_button, self.queue_save_button):
            button.setEnabled(count > 0)

    def mark_printed(self, barcodes: tuple[str, ...], how: str) -> None:
        """After a print or PDF succeeded: these straps leave the queue (audited)."""
        s = self.session
        s.ops.run(
            lambda: mark_straps_printed(s.rt, s.actor, barcodes, how),
            on_done=lambda _marked: self.refresh(),
            on_error=lambda error: say(self.message, error.message, error=True),
            name="straps printed",
            owner=self,
        )

    def _batch(self, read: Callable[[DeskSession, str], StrapBatch], name: str,
               use: Callable[[StrapBatch], object]) -> None:  # fmt: skip
        session, layout = self.session, self._layout()
        session.ops.run(
            lambda: read(session, layout),
            on_done=use,
            on_error=lambda error: say(self.message, error.message, error=True),
            name=name,
            owner=self,
        )

    def print_waiting(self, printer: QPrinter | None = None) -> None:
        """Every waiting strap as one batch: ask for the printer (or use `printer`), print,
        and take them out of the queue once the pages reached the printer."""

        def use(batch: StrapBatch) -> None:
            def then() -> None:
                self.mark_printed(batch.barcodes, PRINTED_HERE)

            if printer is not None:
                self.printer.print_to(lambda: batch.document, printer, then=then)
            elif not self.printer.print_document(
                lambda: batch.document, choose=True, parent=self, then=then
            ):
                say(self.message, f"Not printed: the {len(batch.barcodes)} strap(s) still wait.")

        self._batch(waiting_straps_batch, "straps to print", use)

    def save_waiting(self, path: Path) -> None:
        """Every waiting strap in one PDF file; they leave the queue once it is written."""

        def use(batch: StrapBatch) -> None:
            self.printer.save_pdf(
                lambda: batch.document, path,
                then=lambda: self.mark_printed(batch.barcodes, SAVED_HERE),
            )  # fmt: skip

        self._batch(waiting_straps_batch, "straps to print", use)

    def _ask_save_waiting(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save waiting straps as PDF", "straps-to-print.pdf", "PDF (*.pdf)"
        )
        if name:
            self.save_waiting(Path(name))

    def print_today(self) -> None:
        """Read today's straps on the runner, then ask for the printer and print them."""

        def use(batch: StrapBatch) -> None:
            self.printer.print_document(
                lambda: batch.document, choose=True, parent=self,
                then=lambda: self.mark_printed(batch.barcodes, PRINTED_HERE),
            )  # fmt: skip

        self._batch(straps_received_today, "straps received today", use)

    def _ask_save(self) -> None:
        if self.last is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Save strap as PDF", f"strap-{self.last.strap_barcode}.pdf", "PDF (*.pdf)"
        )
        if name:
            self.save_strap(Path(name))

    def save_strap(self, path: Path) -> None:
        if self.last is None:
            return
        barcodes = (self.last.strap_barcode,)
        self.printer.save_pdf(
            self._strap_document, path, then=lambda: self.mark_printed(barcodes, SAVED_HERE)
        )


def straps_received_today(session: DeskSession, layout: str) -> StrapBatch:
    """Every strap received today as one document (on the runner's thread)."""
    from app.borrowing.strap_data import strap_style, straps_received_on
    from app.printing.straps import strap_document

    straps = straps_received_on(session.rt, session.actor)
    if not straps:
        raise ServiceError("Nothing was received today, so there are no straps to print.")
    document = strap_document(straps, strap_style(session.rt, session.actor), layout)
    return StrapBatch(document, tuple(s.strap_barcode for s in straps))


def waiting_straps_batch(session: DeskSession, layout: str) -> StrapBatch:
    """Every strap waiting to print as one document, oldest first (on the runner's thread)."""
    from app.borrowing.strap_data import strap_style, straps_waiting
    from app.printing.straps import strap_document

    straps = straps_waiting(session.rt, session.actor)
    if not straps:
        raise ServiceError(EMPTY_QUEUE)
    document = strap_document(straps, strap_style(session.rt, session.actor), layout)
    return StrapBatch(document, tuple(s.strap_barcode for s in straps))


# Panels of other office work (charges, notices) shown here when they load; a panel that
# fails to import is logged and left out rather than taking the office screen down.
_OFFICE_PANELS = (
    ("ui.screens.charges_panel", "ChargesPanel", "Charges"),
    ("ui.screens.notices_panel", "NoticesPanel", "Notices"),
    ("ui.screens.ncip_tab", "NcipTab", "NCIP"),
)


def _optional_panel(
    module: str, class_name: str, session: DeskSession, parent: QWidget
) -> QWidget | None:
    try:
        panel_class = getattr(importlib.import_module(module), class_name)
        panel: QWidget = panel_class(session, parent)
    except Exception:
        log.exception("the %s panel could not be loaded", class_name)
        return None
    return panel


class IllOfficeScreen(QWidget):
    """Tabs for the ILL office; every action goes through one service call."""

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("illOfficeScreen")
        self.session = session
        self.printer = DocumentPrinter(session.settings, self)
        self.status = QLabel(self)
        self.status.setObjectName("officePrintStatus")
        self.status.setWordWrap(True)
        self.printer.done.connect(lambda text: say(self.status, text))
        self.printer.failed.connect(lambda text: say(self.status, text, error=True))
        heading = QLabel(f"ILL Office — {session.branch_code}", self)
        heading.setObjectName("illOfficeHeading")
        heading.setProperty("role", "heading")
        self.tabs = ScreenTabs(self)
        self.tabs.setObjectName("illOfficeTabs")
        self.receive_tab = ReceiveTab(session, self.printer, self)
        self.requests_tab = RequestsTab(session, self)
        self.renewals_tab = RenewalsTab(session, self)
        self.ship_back_tab = ShipBackTab(session, self)
        self.lists_tab = ListsTab(session, self)
        for tab, title in (
            (self.receive_tab, "Receive"),
            (self.requests_tab, "Requests"),
            (self.renewals_tab, "Renewals"),
            (self.ship_back_tab, "Ship back"),
            (self.lists_tab, "Lists"),
        ):
            self.tabs.addTab(tab, title)
        for module, class_name, title in _OFFICE_PANELS:
            panel = _optional_panel(module, class_name, session, self)
            if panel is not None:
                self.tabs.addTab(panel, title)
        self.tabs.currentChanged.connect(self._tab_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        # After Print, Save as PDF (saved or cancelled) or any click off a typing field, the
        # next parcel's scan lands in the request field, as on Check In.
        self.focus_keeper = ScanFocusKeeper(self, self.scan_target)

    def scan_target(self) -> QWidget | None:
        """The field the next scan belongs in on the tab shown (None: a tab without one)."""
        current = self.tabs.currentWidget()
        if current is self.receive_tab:
            return self.receive_tab.request_input
        if current is self.ship_back_tab:
            return self.ship_back_tab.scan_input
        return None

    def activate(self) -> None:
        """Called each time the screen is shown: the cursor waits in the scan field."""
        target = self.scan_target()
        if target is not None:
            target.setFocus()
        if self.tabs.currentWidget() is self.receive_tab:
            self.receive_tab.refresh()  # straps the ILL system received meanwhile

    def _tab_changed(self, index: int) -> None:
        widget = self.tabs.widget(index)
        refresh = getattr(widget, "refresh", None)
        if callable(refresh):
            refresh()
