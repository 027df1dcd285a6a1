"""Enter key to banner painted, on the real Check In screen (offscreen Qt).

Each round types a checked-out item's barcode into the scan field (not timed), then times
from the Enter key press (QTest) until the routing banner has painted the result: the
screen's worker thread checks the item in, the result comes back to the GUI thread, the
banner is restyled and Qt paints it. The database is the benchmark's generated library.

    QT_QPA_PLATFORM=offscreen python -m bench.gui_bench --scale 0.01 --samples 300
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from app.library.runtime import Runtime
from app.people import staff
from app.workstation.config import WorkstationSettings
from bench import datagen
from bench.timing import Figure, timed
from db.engine import Database

TARGET_MS = 50.0
WARMUP = 20
TIMEOUT_MS = 10_000


class PaintWatch(QObject):
    """Ends the wait once the banner (or a label in it) paints after the result arrived."""

    def __init__(self, banner: QWidget) -> None:
        super().__init__()
        self.armed = False
        self.loop: QEventLoop | None = None
        for widget in (banner, *banner.findChildren(QWidget)):
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.armed and event.type() == QEvent.Type.Paint and self.loop is not None:
            self.armed = False
            self.loop.quit()  # the loop returns once this paint has finished
        return False


def measure(url: str, samples: int, say: Callable[[str], None]) -> Figure:
    from ui.desk_session import DeskSession
    from ui.screens.check_in_screen import CheckInScreen

    app = QApplication.instance() or QApplication([])
    database = Database(url)
    rt = Runtime(database)
    actor = staff.actor_for(rt, "desk", datagen.DESK_BRANCH, "bench")
    screen = CheckInScreen(DeskSession(rt, actor, WorkstationSettings()))
    screen.resize(1280, 800)
    screen.show()
    screen.activate()
    app.processEvents()
    watch = PaintWatch(screen.banner)
    barcodes = datagen.open_loan_barcodes(url, WARMUP + samples)
    outcomes: list[object] = []
    screen.scanProcessed.connect(lambda result: (outcomes.append(result), arm()))
    screen.scanFailed.connect(lambda scan: (outcomes.append(scan), arm()))

    def arm() -> None:
        watch.armed = True  # the banner's repaint is queued: the next paint shows the result

    times: list[float] = []
    timeouts = 0
    try:
        for n, barcode in enumerate(barcodes):
            QTest.keyClicks(screen.scan_field, barcode)
            app.processEvents()
            loop = QEventLoop()
            watch.loop = loop
            guard = QTimer()
            guard.setSingleShot(True)
            guard.timeout.connect(loop.quit)
            guard.start(TIMEOUT_MS)
            before = len(outcomes)
            started = time.perf_counter()
            QTest.keyClick(screen.scan_field, Qt.Key.Key_Return)
            loop.exec()
            elapsed = (time.perf_counter() - started) * 1000
            guard.stop()
            if len(outcomes) == before:
                timeouts += 1
            if n >= WARMUP:
                times.append(elapsed)
    finally:
        screen.close()
        database.dispose()
    failures = sum(1 for result in outcomes if isinstance(result, str))
    note = f"{timeouts} timed out, {failures} failed" if timeouts or failures else ""
    figure = timed(
        "Enter key to banner painted (offscreen)",
        "sqlite",
        times,
        limit_ms=TARGET_MS,
        note=note,
    )
    say(f"  GUI: median {figure.median:.1f} ms, p99 {figure.p99:.1f} ms {note}")
    return figure


def run(scale: float, samples: int, say: Callable[[str], None] = print) -> list[Figure]:
    generated = datagen.generate_sqlite(scale, say=say)
    return [measure(datagen.working_copy(generated, "gui"), samples, say)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gui_bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args(argv)
    for figure in run(args.scale, args.samples):
        print(json.dumps(figure.as_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
