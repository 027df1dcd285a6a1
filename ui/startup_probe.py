"""Start-up timing for the benchmark only (bench/startup_bench.py); inert unless asked for.

With ILLDESK_BENCH_STARTUP=1 in the environment the desk signs in the public demo account
`desk` (password `illdesk-demo`) through the normal sign-in dialog as soon as it shows,
prints one line, `illdesk-startup: scan field focused`, the moment the Check In scan field
has the keyboard focus, and quits. It types only the published demo password, so it opens
nothing a person at the desk could not: a library that removed the demo accounts is refused.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

ENVIRONMENT_VARIABLE = "ILLDESK_BENCH_STARTUP"
REPORT_LINE = "illdesk-startup: scan field focused"
DEMO_USER = "desk"
DEMO_BRANCH = "METRO"


def requested() -> bool:
    return os.environ.get(ENVIRONMENT_VARIABLE) == "1"


def install(app: QApplication) -> None:
    """Watch focus: the sign-in dialog's field means sign in; the scan field means report."""
    state = {"signing_in": False, "done": False}

    def on_focus(_old: QWidget | None, new: QWidget | None) -> None:
        from ui.sign_in import SignInDialog
        from ui.widgets.scan_field import ScanField

        if new is None or state["done"]:
            return
        if isinstance(new, ScanField) and new.isVisible():
            state["done"] = True
            print(REPORT_LINE, flush=True)
            QTimer.singleShot(0, app.quit)
            return
        dialog = new.window()
        if isinstance(dialog, SignInDialog) and not state["signing_in"]:
            state["signing_in"] = True
            QTimer.singleShot(0, lambda: _sign_in(dialog))

    app.focusChanged.connect(on_focus)


def _sign_in(dialog: QWidget) -> None:
    from app.demo import DEMO_PASSWORD
    from ui.sign_in import SignInDialog

    assert isinstance(dialog, SignInDialog)
    metro = dialog.branch_box.findData(DEMO_BRANCH)
    if metro >= 0:
        dialog.branch_box.setCurrentIndex(metro)
    dialog.user_edit.setText(DEMO_USER)
    dialog.password_edit.setText(DEMO_PASSWORD)
    dialog.refused.connect(_refused)
    dialog.try_sign_in()  # the answer comes from the sign-in runner


def _refused(_message: str) -> None:
    print("illdesk-startup: the demo sign-in was refused", file=sys.stderr, flush=True)
    QApplication.exit(1)
