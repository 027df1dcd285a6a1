"""The pinned Qt binding survives a desk's day of calls.

PySide6 6.12.0 on Python 3.11 releases references to None, True and False it never took,
on every QLabel.setText, processEvents and signal emission; after a few thousand scans the
interpreter aborts ("Fatal Python error: none_dealloc"). This runs the same calls in a
child process so an abort fails this test instead of the whole run.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import os, sys
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QLabel

app = QApplication([])

class Emitter(QObject):
    happened = Signal(object)

emitter, seen, label = Emitter(), [], QLabel()
emitter.happened.connect(seen.append)
before = [sys.getrefcount(v) for v in (None, True, False)]
for n in range(20000):
    label.setText(str(n))
    app.processEvents()
    emitter.happened.emit(n)
    label.isVisible()
after = [sys.getrefcount(v) for v in (None, True, False)]
print(*(b - a for a, b in zip(after, before)))
"""


@pytest.mark.gui
def test_twenty_thousand_qt_calls_neither_crash_nor_drain_singletons() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-500:]
    lost = [int(n) for n in result.stdout.split()]
    assert all(n < 100 for n in lost), f"references lost to None/True/False: {lost}"
