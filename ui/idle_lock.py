"""Locking the desk after it has been left alone, without losing what was on screen.

An event filter on the application restarts a timer on every key press, click or wheel
turn. When the timer runs out, a cover is laid over the window: the screens stay exactly
as they were underneath, and while it is up no key or click reaches them (not even a
scanner's). The same staff member types their password to carry on, or signs out.
"""

from __future__ import annotations

import logging

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.library.actors import Actor
from app.library.errors import ServiceError
from app.library.scanning import is_strap_barcode, strap_check_digit_ok
from app.people.own_login import unlock_connected
from ui.desk_session import DeskSession

log = logging.getLogger(__name__)

ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonDblClick,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}
BLOCKED_WHILE_LOCKED = ACTIVITY | {
    QEvent.Type.KeyRelease,
    QEvent.Type.MouseButtonRelease,
    QEvent.Type.Shortcut,
    QEvent.Type.ShortcutOverride,
}


class LockCover(QFrame):
    """Covers the whole window; only its own password field and buttons take input."""

    def __init__(self, session: DeskSession, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("idleLockCover")
        self.setAutoFillBackground(True)
        self.setStyleSheet("#idleLockCover { background: rgba(30, 30, 30, 235); }")
        box = QFrame(self)
        box.setObjectName("idleLockBox")
        box.setStyleSheet(
            "#idleLockBox { background: palette(window); border-radius: 8px; padding: 16px; }"
        )
        self.heading = QLabel(box)
        self.heading.setObjectName("idleLockHeading")
        self.heading.setProperty("role", "heading")
        self.password = QLineEdit(box)
        self.password.setObjectName("unlockPasswordEdit")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("your password")
        self.unlock_button = QPushButton("Unlock", box)
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.setDefault(True)
        self.sign_out_button = QPushButton("Sign out", box)
        self.sign_out_button.setObjectName("lockSignOutButton")
        self.message = QLabel(box)
        self.message.setObjectName("unlockMessage")
        self.message.setProperty("role", "error")
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.unlock_button)
        buttons.addWidget(self.sign_out_button)
        inner = QVBoxLayout(box)
        inner.addWidget(self.heading)
        inner.addWidget(QLabel("Type your password to carry on where you left off.", box))
        inner.addWidget(self.password)
        inner.addLayout(buttons)
        inner.addWidget(self.message)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.set_person(session)
        self.hide()

    def set_person(self, session: DeskSession) -> None:
        actor = session.actor
        self.heading.setText(f"Locked — {actor.full_name} at {actor.branch_code}")


class IdleLock(QObject):
    """Install once per main window: `IdleLock(window, session).install()`."""

    locked = Signal()  # the cover went up
    unlocked = Signal()  # the same person signed back in; session.actor was refreshed
    signOutRequested = Signal()  # the person at the desk chose to sign out instead

    def __init__(self, window: QWidget, session: DeskSession, minutes: float | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.session = session
        wait = session.settings.idle_lock_minutes if minutes is None else minutes
        self.enabled = wait > 0
        self.timer = QTimer(self)
        self.timer.setObjectName("idleLockTimer")
        self.timer.setSingleShot(True)
        self.timer.setInterval(max(int(wait * 60_000), 1))
        self.timer.timeout.connect(self.lock)
        self.cover = LockCover(session, window)
        self.cover.unlock_button.clicked.connect(self.try_unlock)
        self.cover.password.returnPressed.connect(self.try_unlock)
        self.cover.sign_out_button.clicked.connect(self._sign_out)
        self._installed = False
        self._locked = False
        self._resume_in: QWidget | None = None

    @property
    def is_locked(self) -> bool:
        return self._locked

    def install(self) -> None:
        app = QApplication.instance()
        if app is None or self._installed:
            return
        app.installEventFilter(self)
        self.window.installEventFilter(self)
        self._installed = True
        if self.enabled:
            self.timer.start()

    def uninstall(self) -> None:
        app = QApplication.instance()
        if app is not None and self._installed:
            app.removeEventFilter(self)
            self.window.removeEventFilter(self)
        self._installed = False
        self.timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is self.window and kind == QEvent.Type.Resize and self._locked:
            self.cover.setGeometry(self.window.rect())
        if self._locked:
            return kind in BLOCKED_WHILE_LOCKED and not self._inside_cover(watched)
        if kind in ACTIVITY and self.enabled:
            self.timer.start()
        return False

    def _inside_cover(self, watched: QObject) -> bool:
        if watched.isWindowType():
            return True  # a QWindow hands events on to the focused widget: decided there
        return isinstance(watched, QWidget) and (
            watched is self.cover or self.cover.isAncestorOf(watched)
        )

    def lock(self) -> None:
        if self._locked:
            return
        self.timer.stop()
        self._locked = True
        self._resume_in = QApplication.focusWidget()  # where staff carry on after unlocking
        self.cover.set_person(self.session)
        self.cover.message.clear()
        self.cover.password.clear()
        self.cover.setGeometry(self.window.rect())
        self.cover.show()
        self.cover.raise_()
        self.cover.password.setFocus()
        log.info("desk locked after inactivity")
        self.locked.emit()

    def try_unlock(self) -> None:
        password = self.cover.password.text()
        self.cover.password.clear()
        if _looks_like_a_scan(password):
            # A scanner typing into the password box must not count as a wrong password.
            self.cover.message.setText(
                "That was a scan, and the desk is locked: nothing was checked in. "
                "Type your password to unlock, then scan the item again."
            )
            self.cover.password.setFocus()
            return
        rt, actor = self.session.rt, self.session.actor
        self.session.ops.run(
            lambda: unlock_connected(
                rt, actor, password
            ),  # a password hash: never on the GUI thread
            on_done=self._unlocked,
            on_error=self._refused,
            name="unlock",
        )

    def _refused(self, error: ServiceError) -> None:
        self.cover.message.setText(error.message)
        self.cover.password.setFocus()

    def _unlocked(self, actor: Actor) -> None:
        if not self._locked:
            return  # signed out meanwhile
        self.session.actor = actor
        self._locked = False
        # Focus leaves the cover before it hides, so Qt does not move it on by itself and
        # select (then overwrite) a half-typed scan; it goes back where staff left off.
        resume, self._resume_in = self._resume_in, None
        if resume is not None and shiboken6.isValid(resume) and resume.isVisible():
            resume.setFocus(Qt.FocusReason.OtherFocusReason)
        focused = QApplication.focusWidget()
        if focused is not None and self.cover.isAncestorOf(focused):
            focused.clearFocus()
        self.cover.hide()
        if self.enabled:
            self.timer.start()
        self.unlocked.emit()

    def _sign_out(self) -> None:
        self._locked = False
        self.cover.hide()
        self.uninstall()
        self.signOutRequested.emit()


def _looks_like_a_scan(text: str) -> bool:
    value = text.strip().upper()
    return is_strap_barcode(value) and strap_check_digit_ok(value)
