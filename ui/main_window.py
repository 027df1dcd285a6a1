"""The desk window: a sidebar of screens (F-keys), the current screen, and the status bar.

Screens are imported the first time they are shown. A screen that cannot be imported or
built shows a page saying so, and the rest of the desk keeps working.

A scan screen (one with `scan_target()`) never loses a scan: a scanner's burst reaches its
scan field whatever has the keyboard, a lone Alt does not put the menu bar in the way, a
closed menu hands the keyboard back, and Sign out is never what Enter alone chooses.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QFont, QKeySequence, QPainter, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

import ui.screens
from app.library.branches import BranchInfo, list_branches
from ui import window_placement
from ui.daily_job import DailyJob
from ui.desk_session import DeskSession
from ui.icons import resource_icon
from ui.idle_lock import IdleLock
from ui.offline_mode import OfflineMode
from ui.screens import ScreenSpec
from ui.status_bar import DeskStatusBar
from ui.widgets.job_progress import JobProgress
from ui.widgets.scanner_bursts import ScannerBurstRouter

log = logging.getLogger(__name__)

_SHORTCUT_ROLE = Qt.ItemDataRole.UserRole + 1


def visible_screens(session: DeskSession, screens: Sequence[ScreenSpec]) -> list[ScreenSpec]:
    """The screens this staff member's role may use; the others are not offered at all."""
    return [spec for spec in screens if session.actor.has_role(spec.min_role)]


class _NavDelegate(QStyledItemDelegate):
    """Draws each screen's F-key at the right of its entry, so the shortcuts are learnt."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().paint(painter, option, index)
        shortcut = index.data(_SHORTCUT_ROLE)
        if not shortcut:
            return
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setPen(QColor("#ffffff" if selected else "#8fa6bd"))
        font = QFont(option.font)
        font.setPointSizeF(max(font.pointSizeF() - 2, 8))
        painter.setFont(font)
        area = option.rect.adjusted(0, 0, -10, 0)
        painter.drawText(
            area, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shortcut
        )
        painter.restore()


def unfinished_work(page: QObject) -> str:
    """What a screen would lose if the desk signed out now ("" for nothing)."""
    ask = getattr(page, "unfinished_work", None)
    if not callable(ask):
        return ""
    try:
        return str(ask() or "")
    except Exception:  # asking must never keep anyone from signing out
        log.exception("unfinished_work() of %s failed", page.objectName())
        return ""


class ScreenUnavailablePage(QWidget):
    """Stands in for a screen that failed to load, saying which and why."""

    def __init__(self, spec: ScreenSpec, reason: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"screenUnavailable_{spec.key}")
        self.reason = reason
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 32, 32, 32)
        title = QLabel(f"The {spec.title} screen could not be loaded.", self)
        title.setObjectName("screenUnavailableTitle")
        title.setProperty("role", "heading")
        detail = QLabel(
            "The other screens still work. Restart ILL Desk; if this stays, tell IT "
            "what it says below.",
            self,
        )
        detail.setWordWrap(True)
        why = QLabel(reason, self)
        why.setObjectName("screenUnavailableReason")
        why.setProperty("role", "detail")
        why.setWordWrap(True)
        why.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for widget in (title, detail, why):
            layout.addWidget(widget)
        layout.addStretch(1)


def load_screen(spec: ScreenSpec, session: DeskSession, parent: QWidget | None) -> QWidget:
    """The screen widget, or a page explaining why it could not be made."""
    try:
        module = importlib.import_module(spec.module)
        cls = getattr(module, spec.class_name)
        widget = cls(session, parent)
        if not isinstance(widget, QWidget):
            raise TypeError(f"{spec.module}.{spec.class_name} did not make a widget")
    except Exception as exc:  # a broken screen must not take the desk down
        log.exception("screen %s could not be loaded", spec.key)
        return ScreenUnavailablePage(spec, f"{type(exc).__name__}: {exc}", parent)
    if not widget.objectName():
        widget.setObjectName(f"{spec.key}Screen")
    return widget


class MainWindow(QMainWindow):
    """Navigation, the current screen and the status bar for one signed-in session."""

    signOutRequested = Signal()

    def __init__(
        self,
        session: DeskSession,
        screens: Sequence[ScreenSpec] | None = None,
        probe: Callable[[], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.session = session
        self.screens = visible_screens(session, ui.screens.SCREENS if screens is None else screens)
        self._pages: dict[str, QWidget] = {}
        self._scrollers: dict[str, QScrollArea] = {}
        self._signing_out = False
        self.setWindowTitle(f"ILL Desk — {session.actor.branch_code}")
        window_placement.place(self, session.settings)

        central = QWidget(self)
        central.setObjectName("central")
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self._build_sidebar())
        self.stack = QStackedWidget(central)
        self.stack.setObjectName("screenStack")
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        right.addWidget(self.stack, 1)
        # Long work in the background (the daily jobs, an offline replay) shows here while it
        # lasts, across the window's width: the status bar has no room to spare.
        self.long_work = QWidget(central)
        self.long_work.setObjectName("longWork")
        QVBoxLayout(self.long_work).setContentsMargins(12, 0, 12, 0)
        right.addWidget(self.long_work)
        row.addLayout(right, 1)
        self.setCentralWidget(central)
        self._placeholders: dict[str, QWidget] = {}
        for spec in self.screens:
            holder = QWidget(self.stack)  # replaced by the real screen when first shown
            holder.setObjectName(f"pending_{spec.key}")
            self._placeholders[spec.key] = holder
            self.stack.addWidget(holder)

        self.status = DeskStatusBar(session, None, probe, self)
        self.setStatusBar(self.status)
        self.offline = OfflineMode(session, self.status, self, strip=self.long_work)
        self.offline.changedElsewhere.connect(self._refresh_current)
        self._build_actions()
        self.idle_lock = IdleLock(self, session)
        self.idle_lock.signOutRequested.connect(self.sign_out)
        self.idle_lock.install()
        self.scanner = ScannerBurstRouter(self, self.scan_target)
        self.scanner.install()
        self.nav.currentRowChanged.connect(self._show_row)
        self.nav.setFocus()
        if self.screens:
            self.nav.setCurrentRow(0)
        self.status.start()
        self.offline.start()
        rt, actor = session.rt, session.actor
        session.ops.run(
            lambda: list_branches(rt, actor),
            on_done=self._show_branch,
            # The desk can do with the branch code alone.
            on_error=lambda error: log.warning("branch list unavailable: %s", error.message),
            name="branch name",
        )

    def _show_branch(self, branches: Sequence[BranchInfo]) -> None:
        """The branch's name in the sidebar and the status bar (the code until it is read)."""
        branch = next((b for b in branches if b.code == self.session.actor.branch_code), None)
        if branch is not None:
            self.branch_name.setText(branch.name)
            self.status.branch_label.setToolTip(branch.name)

    def _build_sidebar(self) -> QWidget:
        side = QFrame(self)
        side.setObjectName("sidebar")
        side.setFixedWidth(220)
        col = QVBoxLayout(side)
        col.setContentsMargins(12, 16, 12, 12)
        col.setSpacing(8)
        brand = QLabel("ILL Desk", side)
        brand.setObjectName("sidebarTitle")
        self.branch_name = where = QLabel(self.session.actor.branch_code, side)
        where.setObjectName("sidebarBranch")
        where.setWordWrap(True)
        col.addWidget(brand)
        col.addWidget(where)
        col.addSpacing(8)
        self.nav = QListWidget(side)
        self.nav.setObjectName("navList")
        self.nav.setAccessibleName("Screens")
        self.nav.setIconSize(QSize(22, 22))
        self.nav.setFrameShape(QFrame.Shape.NoFrame)
        self.nav.setItemDelegate(_NavDelegate(self.nav))
        for spec in self.screens:
            item = QListWidgetItem(resource_icon(spec.key), spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setData(_SHORTCUT_ROLE, spec.shortcut)
            item.setToolTip(f"{spec.title} ({spec.shortcut})")
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{spec.title}, {spec.shortcut}")
            self.nav.addItem(item)
        col.addWidget(self.nav, 1)
        self.sign_out_button = QPushButton(resource_icon("signOut"), "Sign out", side)
        self.sign_out_button.setObjectName("signOutButton")
        self.sign_out_button.setToolTip("Sign out (Ctrl+Shift+L)")
        # Never the keyboard's: a scan's Enter (or a stray Space) cannot reach it.
        self.sign_out_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.sign_out_button.clicked.connect(self.request_sign_out)
        col.addWidget(self.sign_out_button)
        return side

    def _build_actions(self) -> None:
        desk_menu = self.menuBar().addMenu("&Desk")
        desk_menu.setObjectName("deskMenu")
        go_menu = self.menuBar().addMenu("&Go")
        go_menu.setObjectName("goMenu")
        self.menuBar().setObjectName("menuBar")
        for row, spec in enumerate(self.screens):
            action = QAction(spec.title, self)
            action.setObjectName(f"action_{spec.key}")
            action.setShortcut(QKeySequence(spec.shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _=False, r=row: self.nav.setCurrentRow(r))
            go_menu.addAction(action)
            self.addAction(action)
        sign_out = QAction("Sign &out", self)
        sign_out.setObjectName("action_signOut")
        sign_out.setShortcut(QKeySequence("Ctrl+Shift+L"))
        sign_out.triggered.connect(self.request_sign_out)
        self.addAction(sign_out)
        quit_action = QAction("&Quit", self)
        quit_action.setObjectName("action_quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        keys = QAction("&Keys and banner colours", self)
        keys.setObjectName("action_help")
        keys.setShortcut(QKeySequence("F1"))
        keys.triggered.connect(self.show_help)
        # A menu opened from the keyboard highlights its first entry, where Enter alone
        # chooses it: the Desk menu starts with the harmless help, never with Sign out.
        desk_menu.addAction(keys)
        desk_menu.addSeparator()
        desk_menu.addAction(sign_out)
        desk_menu.addSeparator()
        desk_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.setObjectName("helpMenu")
        help_menu.addAction(keys)
        self.addAction(keys)
        for menu in (desk_menu, go_menu, help_menu):  # closed: the scanner's field again
            menu.aboutToHide.connect(lambda: QTimer.singleShot(0, self, self._back_to_scanning))
        self.help_dialog: QDialog | None = None

    def show_help(self) -> QDialog:
        """Keys and banner colours in a window of their own (not modal: the desk stays usable)."""
        from ui.desk_help import DeskHelpDialog

        if self.help_dialog is None:
            self.help_dialog = DeskHelpDialog(self)
        self.help_dialog.show()
        self.help_dialog.raise_()
        return self.help_dialog

    # -- screens ---------------------------------------------------------------

    def show_screen(self, key: str) -> QWidget:
        """Switch to the screen `key` (loading it on first use) and return its widget."""
        for row, spec in enumerate(self.screens):
            if spec.key == key:
                self.nav.setCurrentRow(row)
                return self._pages[key]
        raise KeyError(f"no screen '{key}' for this role")

    def current_key(self) -> str:
        item = self.nav.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item else ""

    def page(self, key: str) -> QWidget | None:
        """The loaded screen (or its failure page); None until it was first shown."""
        return self._pages.get(key)

    def current_page(self) -> QWidget | None:
        """The screen on show now."""
        return self._pages.get(self.current_key())

    def _show_row(self, row: int) -> None:
        if row < 0 or row >= len(self.screens):
            return
        spec = self.screens[row]
        page = self._pages.get(spec.key)
        if page is None:
            page = load_screen(spec, self.session, self.stack)
            # A screen wider or taller than a small desk monitor scrolls inside the window
            # instead of pushing the window (and its status bar) off the screen.
            scroller = QScrollArea(self.stack)
            scroller.setObjectName(f"{spec.key}Scroll")
            scroller.setWidgetResizable(True)
            scroller.setFrameShape(QFrame.Shape.NoFrame)
            scroller.setWidget(page)
            holder = self._placeholders.pop(spec.key)
            index = self.stack.indexOf(holder)
            self.stack.insertWidget(index, scroller)
            self.stack.removeWidget(holder)
            holder.deleteLater()
            self._pages[spec.key] = page
            self._scrollers[spec.key] = scroller
        self.stack.setCurrentWidget(self._scrollers[spec.key])
        if self.isVisible():
            self._activate(spec.key, page)

    def _activate(self, key: str, page: QWidget) -> None:
        """Let the screen take focus (its scan field); a page without activate() leaves it."""
        activate = getattr(page, "activate", None)
        if callable(activate):
            try:
                activate()
            except Exception:  # focus handling must never break navigation
                log.exception("activate() of screen %s failed", key)

    def scan_target(self) -> QWidget | None:
        """The field the next scan belongs in on the screen shown (None: no scan screen,
        or the desk is locked)."""
        lock = getattr(self, "idle_lock", None)  # asked by the menu bar's style while building
        if lock is None or lock.is_locked:
            return None
        target = getattr(self.current_page(), "scan_target", None)
        if not callable(target):
            return None
        try:
            field = target()
        except Exception:  # focus handling must never break the desk
            log.exception("scan_target() of screen %s failed", self.current_key())
            return None
        if not isinstance(field, QWidget) or not field.isVisible() or not field.isEnabled():
            return None
        return field

    def _back_to_scanning(self) -> None:
        """A menu closed (Escape, or chosen): the keyboard goes back to the scan field,
        unless something else in the desk took it (a dialog, a field staff type in)."""
        target = self.scan_target()
        if target is None or QApplication.activePopupWidget() is not None:
            return
        focused = QApplication.focusWidget()
        if focused is None or focused is self.menuBar():
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def _refresh_current(self) -> None:
        """Another desk changed something: the current screen reloads its lists, if it has any."""
        refresh = getattr(self._pages.get(self.current_key()), "refresh", None)
        if callable(refresh):
            try:
                refresh()
            except Exception:  # a failed refresh must never break the desk
                log.exception("refresh() of screen %s failed", self.current_key())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        page = self._pages.get(self.current_key())
        if page is not None and not event.spontaneous():
            self._activate(self.current_key(), page)

    # -- leaving ---------------------------------------------------------------

    def request_sign_out(self) -> None:
        """Sign out as staff asked (menu, button, Ctrl+Shift+L); asks first when a screen
        has scans still queued or a checkout waiting, and Enter alone means stay."""
        unfinished = [text for page in self._pages.values() if (text := unfinished_work(page))]
        if unfinished and not self._confirm_sign_out(unfinished):
            return
        self.sign_out()

    def _confirm_sign_out(self, unfinished: list[str]) -> bool:
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Sign out?", "Work is not finished.", parent=self
        )
        box.setObjectName("signOutConfirm")
        box.setInformativeText(
            "\n".join([*unfinished, "", "Signing out now drops it. Stay signed in to finish."])
        )
        stay = box.addButton("Stay signed in", QMessageBox.ButtonRole.RejectRole)
        leave = box.addButton("Sign out anyway", QMessageBox.ButtonRole.DestructiveRole)
        leave.setObjectName("signOutAnywayButton")
        stay.setObjectName("staySignedInButton")
        box.setDefaultButton(stay)
        box.setEscapeButton(stay)
        box.exec()
        return box.clickedButton() is leave

    def sign_out(self) -> None:
        """Sign out now (the lock screen's choice, or after confirming)."""
        self._signing_out = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        window_placement.remember(self, self.session.settings)
        self.scanner.uninstall()
        self.idle_lock.uninstall()
        self.status.stop()
        self.offline.stop()
        for job in self.findChildren(DailyJob):  # a backlog in flight ends after its batch
            job.stop_soon()
        for work in self.findChildren(JobProgress):  # so does an import or a replay
            work.stop()
        # The job in hand finishes (never cut mid-transaction); queued ones are dropped.
        self.session.ops.shutdown()
        super().closeEvent(event)
        if self._signing_out:
            self.signOutRequested.emit()
