"""Check In: scan the strap, see at once where the item goes.

Scans are queued and checked in one at a time, in order, on the desk's operations runner,
so the scan field keeps taking keystrokes while the database answers. The scan field keeps the focus
(a click anywhere else on the screen hands it back); no dialog ever opens in the scan path.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.borrowing.missing_pieces import report_missing_piece
from app.desk.checkin import CheckInResult, check_in
from app.library.errors import ServiceError
from ui.desk_session import DeskSession
from ui.icons import resource_icon
from ui.screens.check_in_slips import SlipPrinter
from ui.sounds import SoundPlayer
from ui.widgets.banner_looks import REFUSED, BannerStyle
from ui.widgets.barcode_recovery_panel import KEEPS_FOCUS, BarcodeRecoveryPanel
from ui.widgets.routing_banner import RoutingBanner
from ui.widgets.scan_field import ScanField
from ui.widgets.scanner_bursts import TYPED_NOT_SCANNED

log = logging.getLogger(__name__)

_RESULT_ROLE = Qt.ItemDataRole.UserRole
LOOK_ROLE = Qt.ItemDataRole.UserRole + 1  # the banner look's key a history row was drawn in
_ROW_ICON = QSize(28, 28)  # a history row's family icon, big enough to tell shapes apart
LOWER_LEAST_HEIGHT = 230  # the history, or barcode recovery with two result rows
SCAN_LIST_LIMIT = 500  # scans kept in the list since sign-in; older ones drop off the end
EMPTY_HISTORY = (
    "No scans yet: this list shows the items checked in at this desk since you signed in, "
    "newest first (it starts empty at each sign-in).\n\n"
    "Scan the barcode at the TOP of the strap to check an item in. Click a scan here later "
    "to see its details or reprint its slip."
)


# A scan that failed is scanned again: these say so in place of the runner's general words.
_SCAN_AGAIN = {
    "database_unavailable": (
        "The database did not answer, so this scan was not recorded. Check the connection "
        "in the status bar, then scan the item again."
    ),
    "unexpected": (
        "Something went wrong and this scan was not recorded. Scan the item again; if it "
        "happens again, tell IT (the details are in the log)."
    ),
}


def _scan_again(error: ServiceError) -> str:
    return _SCAN_AGAIN.get(error.code, error.message)


class CheckInScreen(QWidget):
    """The scan field, the routing banner, the scans since sign-in, and barcode recovery."""

    scanProcessed = Signal(object)  # a CheckInResult, after the banner shows it
    scanFailed = Signal(str)  # a scan that could not be checked in (database, ...)

    def __init__(self, session: DeskSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("checkInScreen")
        self.session = session
        self.sounds = SoundPlayer(session.settings, self)
        self.slips = SlipPrinter(session, self)
        self.slips.message.connect(self._on_print_message)
        self._queue: deque[str] = deque()
        self._busy = False
        self._build()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    # -- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        heading = QLabel(f"Check In — {self.session.branch_code}", self)
        heading.setObjectName("checkInHeading")
        heading.setProperty("role", "heading")
        self.scan_field = ScanField(self)
        self.scan_field.setStyleSheet("QLineEdit#scanInput { font-size: 20pt; padding: 6px; }")
        self.scan_field.scanned.connect(self.enqueue)
        self.scan_field.doubleReadIgnored.connect(self._on_double_read)
        self.recovery_button = QPushButton("Barcode recovery (Ctrl+R)", self)
        self.recovery_button.setObjectName("recoveryButton")
        self.recovery_button.clicked.connect(self.show_recovery)
        scan_row = QHBoxLayout()
        scan_row.addWidget(QLabel("Scan:", self))
        scan_row.addWidget(self.scan_field, 1)
        scan_row.addWidget(self.recovery_button)
        # A multi-piece item: the banner's first line says how many; if one is not there,
        # this flags it for the ILL office. A button, never a dialog: the next scan goes on.
        self.missing_piece_button = QPushButton("A piece is missing", self)
        self.missing_piece_button.setObjectName("missingPieceButton")
        self.missing_piece_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.missing_piece_button.clicked.connect(self.report_missing_piece)
        self.missing_piece_button.hide()
        self._pieces_of: CheckInResult | None = None  # the scan the button reports on
        scan_row.addWidget(self.missing_piece_button)
        self.note = QLabel(self)
        self.note.setObjectName("scanNote")
        self.note.setProperty("role", "note")
        self.note.setWordWrap(True)
        self.note.hide()
        self.pending = QLabel(self)
        self.pending.setObjectName("scanPending")
        self.banner = RoutingBanner(self)
        self.banner.recoveryRequested.connect(self.show_recovery)

        self.scan_list = QListWidget(self)
        self.scan_list.setObjectName("scanList")
        self.scan_list.setAccessibleName("Scans since sign-in")
        self.scan_list.setIconSize(self.scan_list.iconSize().expandedTo(_ROW_ICON))
        self.scan_list.currentItemChanged.connect(self._show_details)
        self._row_icons: dict[str, QIcon] = {}
        self.history_empty = QLabel(EMPTY_HISTORY, self)
        self.history_empty.setObjectName("scanHistoryEmpty")
        self.history_empty.setWordWrap(True)
        self.history_empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.history_empty.setMargin(12)
        # Its long words wrap to the width it is given, never widen the list's column.
        self.history_empty.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.history = QStackedWidget(self)  # the list, or why it is empty
        self.history.setObjectName("scanHistory")
        self.history.addWidget(self.history_empty)
        self.history.addWidget(self.scan_list)
        self.details = QLabel("Select a scan to see its details.", self)
        self.details.setObjectName("scanDetails")
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reprint_button = QPushButton("Reprint slip", self)
        self.reprint_button.setObjectName("reprintButton")
        self.reprint_button.setEnabled(False)
        self.reprint_button.clicked.connect(self.reprint_selected)
        self.print_message = QLabel(self)
        self.print_message.setObjectName("printMessage")
        self.print_message.setWordWrap(True)
        detail_box = QWidget(self)
        detail_col = QVBoxLayout(detail_box)
        detail_col.setContentsMargins(0, 0, 0, 0)
        detail_col.addWidget(self.details, 1)
        detail_col.addWidget(self.reprint_button, 0, Qt.AlignmentFlag.AlignLeft)
        detail_col.addWidget(self.print_message)
        self.recovery = BarcodeRecoveryPanel(
            self.session.rt, self.session.actor, self.session.ops, self
        )
        self.recovery.checkInRequested.connect(self._check_in_recovered)
        self.recovery.closeRequested.connect(self.hide_recovery)
        self.recovery.setProperty(TYPED_NOT_SCANNED, True)  # a scan here goes to the scan field
        self.recovery.hide()
        self.splitter = lower = QSplitter(Qt.Orientation.Horizontal, self)
        lower.setObjectName("checkInSplitter")
        self.detail_box = detail_box
        lower.addWidget(self.history)
        lower.addWidget(detail_box)
        lower.addWidget(self.recovery)
        lower.setStretchFactor(0, 2)
        lower.setStretchFactor(1, 2)
        lower.setStretchFactor(2, 3)
        lower.setChildrenCollapsible(False)
        # The lower half takes the height that is left and no more: its lists' preferred
        # sizes would make the screen taller than a 1280x800 window and scroll it.
        lower.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        lower.setMinimumHeight(LOWER_LEAST_HEIGHT)

        col = QVBoxLayout(self)
        col.setContentsMargins(20, 16, 20, 16)
        col.setSpacing(10)
        col.addWidget(heading)
        col.addLayout(scan_row)
        col.addWidget(self.note)
        col.addWidget(self.pending)
        col.addWidget(self.banner)
        col.addWidget(lower, 1)
        shortcut = QShortcut(QKeySequence("Ctrl+R"), self)
        shortcut.activated.connect(self.show_recovery)
        # Escape closes recovery wherever the keyboard is on this screen (a click on the
        # results hands it back to the scan field).
        close_key = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        close_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        close_key.activated.connect(self.hide_recovery)

    # -- focus ----------------------------------------------------------------------------

    def activate(self) -> None:
        """Called when the screen is shown: the scanner's next burst lands in the field."""
        self.scan_field.setFocus(Qt.FocusReason.OtherFocusReason)

    def scan_target(self) -> QWidget:
        """Where a scanner's burst goes, whatever has the keyboard (see the main window)."""
        return self.scan_field

    def unfinished_work(self) -> str:
        """Scans not yet checked in, which signing out now would drop ("" for none)."""
        waiting = len(self._queue) + (1 if self._busy else 0)
        return f"{waiting} scan(s) on Check In are not checked in yet." if waiting else ""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A click anywhere on this screen, except where staff type, hands focus back."""
        kind = event.type()
        if kind == QEvent.Type.MouseButtonRelease and isinstance(watched, QWidget):
            if self.isVisible() and self.isAncestorOf(watched) and not _takes_typing(watched):
                QTimer.singleShot(0, self, self._refocus)
        elif kind == QEvent.Type.WindowActivate and watched is self.window():
            QTimer.singleShot(0, self, self._refocus)
        return False

    def _refocus(self) -> None:
        focused = QApplication.focusWidget()
        if focused is not None and focused is not self.scan_field and _takes_typing(focused):
            return
        if self.isVisible():
            self.scan_field.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- scanning -------------------------------------------------------------------------

    def enqueue(self, scan: str) -> None:
        """Queue one scan; scans are checked in strictly in the order they arrived."""
        self.note.hide()
        self._queue.append(scan)
        self._pump()

    def _pump(self) -> None:
        self._show_pending()
        if self._busy or not self._queue:
            return
        scan = self._queue.popleft()
        self._busy = True
        session = self.session
        auto_print = tuple(session.settings.auto_print)

        def work() -> CheckInResult:
            key = str(uuid.uuid4())  # one key online and offline: the scan applies once
            return check_in(  # the database away: journaled, with a provisional answer
                session.rt,
                session.actor,
                scan,
                auto_print=auto_print,
                idempotency_key=key,
                offline=session.offline,
            )

        job = session.ops.run(
            work,
            on_done=self._on_result,
            on_error=lambda error: self._on_failure(
                scan, _SCAN_AGAIN.get(error.code, error.message)
            ),
            name="check-in",
        )
        self._busy = job is not None

    def _show_pending(self) -> None:
        waiting = len(self._queue) + (1 if self._busy else 0)
        self.pending.setText(f"Checking in… {waiting} scan(s) waiting" if waiting > 1 else "")

    def _on_result(self, result: CheckInResult) -> None:
        self._busy = False
        self.banner.show_result(result)
        self._offer_missing_piece(result)
        self.sounds.play_sound(self.banner.look.sound)
        self._add_to_list(result, self.banner.look)
        if result.print_slip:
            self.print_message.setText(self.slips.print_for(result, automatic=True))
        self.scanProcessed.emit(result)
        self._pump()

    def _on_failure(self, scan: str, message: str) -> None:
        self._busy = False
        self.banner.show_problem("Not checked in", (message,))
        self.sounds.play_sound(REFUSED.sound)
        item = QListWidgetItem(f"{scan or '(empty)'}  —  not checked in")
        item.setToolTip(message)
        self._list_scan(item, REFUSED)
        self.scanFailed.emit(scan)
        self._pump()

    def _offer_missing_piece(self, result: CheckInResult) -> None:
        several = result.pieces > 1 and result.item_barcode is not None
        self._pieces_of = result if several else None
        self.missing_piece_button.setVisible(several)
        self.missing_piece_button.setEnabled(several)

    def report_missing_piece(self) -> None:
        """Flag the last multi-piece scan for the ILL office; the answer is a note line."""
        result = self._pieces_of
        if result is None or result.item_barcode is None:
            return
        barcode, session = result.item_barcode, self.session
        self.missing_piece_button.setEnabled(False)

        def said(text: str) -> None:
            self.note.setText(text)
            self.note.show()

        session.ops.run(
            lambda: report_missing_piece(session.rt, session.actor, barcode),
            on_done=lambda flag: said(
                f"{flag.barcode}: a missing piece is flagged for the ILL office (of "
                f"{flag.pieces}). Send on what came back, as the banner says."
            ),
            on_error=lambda error: said(f"Not flagged: {error.message}"),
            name="missing piece",
            owner=self,
        )

    def _on_double_read(self, scan: str) -> None:
        self.note.setText(
            f"{scan} was read twice within a second; the second read was ignored. "
            "To check it in again, wait a moment and scan once more."
        )
        self.note.show()

    def _check_in_recovered(self, barcode: str) -> None:
        """The item is found: recovery closes and its check-in answers in the banner."""
        self.hide_recovery()
        self.enqueue(barcode)
        QTimer.singleShot(0, self, self._refocus_now)

    def _refocus_now(self) -> None:
        self.scan_field.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- the list of scans since sign-in ----------------------------------------------------

    def _add_to_list(self, result: CheckInResult, look: BannerStyle) -> None:
        when = result.at.astimezone().strftime("%H:%M:%S")
        text = f"{when}  {result.barcode or '(empty)'}  —  {result.headline}"
        item = QListWidgetItem(text)
        item.setData(_RESULT_ROLE, result)
        item.setToolTip("\n".join(result.instructions))
        self._list_scan(item, look)

    def _list_scan(self, item: QListWidgetItem, look: BannerStyle) -> None:
        """Newest first, in the banner's colour and icon for its family (the icon's name read
        aloud); a long shift keeps the last SCAN_LIST_LIMIT, so memory stays flat."""
        icon = self._row_icons.get(look.icon)
        if icon is None:
            icon = self._row_icons[look.icon] = resource_icon(look.icon)
        item.setIcon(icon)
        item.setBackground(QColor(look.background))
        item.setForeground(QColor(look.foreground))
        item.setData(LOOK_ROLE, look.key)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{look.label}: {item.text()}")
        self.history.setCurrentWidget(self.scan_list)
        self.scan_list.insertItem(0, item)
        while self.scan_list.count() > SCAN_LIST_LIMIT:
            self.scan_list.takeItem(self.scan_list.count() - 1)

    def selected_result(self) -> CheckInResult | None:
        item = self.scan_list.currentItem()
        value = item.data(_RESULT_ROLE) if item is not None else None
        return value if isinstance(value, CheckInResult) else None

    def _show_details(self, *_args: object) -> None:
        result = self.selected_result()
        self.reprint_button.setEnabled(result is not None and result.slip_kind is not None)
        self.print_message.clear()
        if result is None:
            self.details.setText("Select a scan to see its details.")
            return
        rows = [
            ("Scanned", result.barcode or "(empty)"),
            ("Outcome", result.outcome.value.replace("_", " ")),
            ("Item", result.item_barcode or ""),
            ("Title", result.title or ""),
            ("Destination", result.destination_name or result.destination or ""),
            ("Patron", f"{result.patron_name} ({result.patron_id})" if result.patron_id else ""),
            ("Pick up by", result.pickup_by.isoformat() if result.pickup_by else ""),
            ("Pieces", str(result.pieces) if result.pieces > 1 else ""),
            ("Request", result.request_number or ""),
            ("Time", result.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")),
        ]
        lines = [f"{label}: {value}" for label, value in rows if value]
        self.details.setText("\n".join([result.headline, *lines, "", *result.instructions]))

    def reprint_selected(self) -> None:
        result = self.selected_result()
        if result is None or result.slip_kind is None:
            self.print_message.setText("This scan has no slip to print.")
            return
        self.print_message.setText(self.slips.print_for(result, automatic=False, parent=self))

    def _on_print_message(self, text: str) -> None:
        self.print_message.setText(text)

    def shutdown(self) -> None:
        """Let a slip in flight finish (the window is closing; its runner ends the check-ins)."""
        self.slips.printer.wait(10_000)

    # -- barcode recovery -------------------------------------------------------------------

    def show_recovery(self) -> None:
        """Recovery takes the details' place (three quarters of the width): its columns fit
        at 1280x800. The scans since sign-in stay in sight beside it."""
        if not self.recovery.isVisible():
            self.detail_box.hide()
            self.recovery.show()
            width = self.splitter.width()
            self.splitter.setSizes([width // 4, 0, width - width // 4])
        self.recovery.patron_input.setFocus(Qt.FocusReason.OtherFocusReason)

    def hide_recovery(self) -> None:
        if self.recovery.isVisible():
            self.recovery.hide()
            self.detail_box.show()
            width = self.splitter.width()
            self.splitter.setSizes([width // 2, width - width // 2, 0])
        self._refocus_now()


def _takes_typing(widget: QWidget) -> bool:
    """Inside a field where staff type on purpose (recovery inputs) or the scan field."""
    current: QWidget | None = widget
    while current is not None:
        if current.property(KEEPS_FOCUS) or isinstance(current, ScanField):
            return True
        current = current.parentWidget()
    return False
