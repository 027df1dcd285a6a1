"""How many check-ins until the interpreter aborts: a PySide6 reference-count leak check.

PySide6 6.12 on Python 3.11 drops references to None, True and False that it never took
(for example on every QLabel.setText and every signal emission). On Python 3.12 and later
these objects are immortal and nothing happens; on 3.11 their counts fall with every scan
until Python aborts with "Fatal Python error: none_dealloc" (or bool_dealloc), taking the
desk down. This feeds real check-in results through the Check In screen's result handling
(the worker's `finished` signal, the banner, the list of scans) and measures how many
references each scan loses, then estimates how many scans the running process survives.

    QT_QPA_PLATFORM=offscreen python -m bench.refcount_drain --scale 0.01
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import __version__ as pyside_version
from PySide6.QtWidgets import QApplication

from app.desk.checkin import check_in
from app.library.runtime import Runtime
from app.people import staff
from app.workstation.config import WorkstationSettings
from bench import datagen
from bench.timing import Figure
from db.engine import Database

SCANS = 300


def measure(url: str, scans: int, say: Callable[[str], None]) -> Figure:
    from ui.desk_session import DeskSession
    from ui.screens.check_in_screen import CheckInScreen

    app = QApplication.instance() or QApplication([])
    database = Database(url)
    rt = Runtime(database)
    actor = staff.actor_for(rt, "desk", datagen.DESK_BRANCH, "bench")
    screen = CheckInScreen(DeskSession(rt, actor, WorkstationSettings()))
    screen.show()
    app.processEvents()
    results = [check_in(rt, actor, code) for code in datagen.open_loan_barcodes(url, scans)]
    singletons = {"None": None, "True": True, "False": False}
    before = {name: sys.getrefcount(value) for name, value in singletons.items()}
    for result in results:
        screen._on_result(result)  # what the runner hands back for each scan
    after = {name: sys.getrefcount(value) for name, value in singletons.items()}
    database.dispose()
    lost = {name: (before[name] - after[name]) / len(results) for name in singletons}
    left = {
        name: after[name] / lost[name] for name in singletons if lost[name] > 0.5
    }  # scans until that count reaches zero
    survives = min(left.values()) if left else None
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    per_scan = ", ".join(f"{name} {lost[name]:.1f}" for name in singletons)
    lasts = f"{survives:,.0f}" if survives is not None else "any number of"
    say(f"  references lost per scan: {per_scan}; the process survives about {lasts} scans")
    return Figure(
        benchmark="Scans before the interpreter aborts (reference-count leak)",
        database="-",
        samples=len(results),
        median=round(survives) if survives is not None else None,
        p99=round(survives) if survives is not None else None,
        unit="scans",
        target="no leak",
        met=survives is None,
        note=f"PySide6 {pyside_version}, Python {python}; per scan lost: {per_scan}",
    )


def run(scale: float, scans: int, say: Callable[[str], None] = print) -> list[Figure]:
    generated = datagen.generate_sqlite(scale, say=say)
    return [measure(datagen.working_copy(generated, "refcount"), scans, say)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.refcount_drain", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--scans", type=int, default=SCANS)
    args = parser.parse_args(argv)
    for figure in run(args.scale, args.scans):
        print(json.dumps(figure.as_dict()), flush=True)
    os._exit(0)  # skip interpreter shutdown, which the leak can abort


if __name__ == "__main__":
    sys.exit(main())
