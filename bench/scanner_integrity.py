"""Scanner integrity and memory: 10,000 scans typed at 8 ms per key into a slow database.

A keyboard-wedge scanner types each barcode then Enter, 8 ms per key, into the real Check
In screen (offscreen Qt). Every check-in is made 300 ms slower (a sleep inside the commit,
so the database itself is slow), so scans pile up while earlier ones are still being
written. The scans must all come back as results: none lost, none merged into another,
none out of order. The process's resident memory is sampled every 500 results: after the
last scan it must be at most 250 MB and must not grow over the last half of the run.

This run takes about 10,000 x 0.3 s = 50 minutes at full size; `--scans 500` for a look.

    QT_QPA_PLATFORM=offscreen python -m bench.scanner_integrity --scale 0.01
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy import event, text

from app.library.runtime import Runtime
from app.people import staff
from app.workstation.config import WorkstationSettings
from bench import datagen
from bench.timing import Figure
from db.engine import Database

KEY_MS = 8
SLOW_COMMIT_S = 0.3
MEMORY_LIMIT_MB = 250.0
GROWTH_ALLOWED_MB = 5.0  # "not growing": at most this much more over the last half
SAMPLE_EVERY = 500


def pin_singletons() -> None:
    """Work around a crash of PySide6 6.12.0 on Python 3.11 (not 3.12+, where None, True and
    False are immortal; the project now pins PySide6 below 6.12): many of its calls drop a
    reference to None, True or False that they never took, and after some thousands of
    calls the interpreter aborts ("Fatal Python error: none_dealloc"). Adding a large count
    to their reference counts lets this run measure the screen itself."""
    import ctypes

    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 40


def resident_mb() -> float | None:
    """Resident set size of this process (Linux /proc; None where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def scan_list(url: str, count: int) -> list[str]:
    """`count` distinct barcodes: the library's items first, then unknown ones (not found)."""
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT barcode FROM items WHERE barcode LIKE '39%' ORDER BY id LIMIT :n"),
                {"n": count},
            )
            barcodes = [row[0] for row in rows]
    finally:
        database.dispose()
    extra = count - len(barcodes)
    return barcodes + [f"38{n:012d}" for n in range(extra)]


def integrity(typed: Sequence[str], came_back: Sequence[str]) -> dict[str, int]:
    """Lost, merged (a result no single scan explains) and reordered scans."""
    typed_set = set(typed)
    returned = [scan for scan in came_back if scan in typed_set]
    position = {scan: n for n, scan in enumerate(typed)}
    reordered = sum(1 for a, b in itertools.pairwise(returned) if position[b] < position[a])
    return {
        "typed": len(typed),
        "results": len(came_back),
        "lost": len(typed_set - set(returned)),
        "merged": sum(1 for scan in came_back if scan not in typed_set),
        "duplicated": len(returned) - len(set(returned)),
        "reordered": reordered,
    }


def measure(
    url: str, scans: int, slow_s: float, say: Callable[[str], None]
) -> tuple[list[Figure], dict[str, object]]:
    from ui.desk_session import DeskSession
    from ui.screens.check_in_screen import CheckInScreen

    app = QApplication.instance() or QApplication([])
    database = Database(url)

    def slow_commit(_connection: object) -> None:
        time.sleep(slow_s)

    event.listen(database.engine, "commit", slow_commit)
    rt = Runtime(database)
    actor = staff.actor_for(rt, "desk", datagen.DESK_BRANCH, "bench")
    screen = CheckInScreen(DeskSession(rt, actor, WorkstationSettings()))
    screen.resize(1280, 800)
    screen.show()
    screen.activate()
    came_back: list[str] = []
    failed: list[str] = []
    memory: list[tuple[int, float]] = []

    def on_result(result: object) -> None:
        came_back.append(str(getattr(result, "barcode", "")))
        if len(came_back) % SAMPLE_EVERY == 0:
            rss = resident_mb()
            if rss is not None:
                memory.append((len(came_back), rss))
            say(f"  {len(came_back):,} results, {rss or 0:.0f} MB resident")

    def on_failure(scan: str) -> None:
        failed.append(scan)
        came_back.append(scan)

    screen.scanProcessed.connect(on_result)
    screen.scanFailed.connect(on_failure)
    typed = scan_list(url, scans)
    field = screen.scan_field
    started = time.perf_counter()
    try:
        for barcode in typed:
            for character in barcode:
                QTest.keyClicks(field, character)
                QTest.qWait(KEY_MS)
            QTest.keyClick(field, Qt.Key.Key_Return)
            QTest.qWait(KEY_MS)
        typed_s = time.perf_counter() - started
        deadline = time.monotonic() + scans * (slow_s + 1) + 60
        while len(came_back) < len(typed) and time.monotonic() < deadline:
            QTest.qWait(50)
        QTest.qWait(200)  # anything arriving late would still be counted
        app.processEvents()
    finally:
        screen.close()
        database.dispose()
    total_s = time.perf_counter() - started
    counts = integrity(typed, came_back)
    counts["failed"] = len(failed)
    rss_end = memory[-1][1] if memory else None
    half = [mb for n, mb in memory if n >= scans // 2]
    growth = (half[-1] - half[0]) if len(half) >= 2 else None
    details: dict[str, object] = {
        **counts,
        "typing_seconds": round(typed_s, 1),
        "total_seconds": round(total_s, 1),
        "slow_commit_ms": round(slow_s * 1000),
        "memory_mb": [[n, round(mb, 1)] for n, mb in memory],
    }
    ok = counts["lost"] == counts["merged"] == counts["reordered"] == 0
    ok = ok and counts["duplicated"] == 0 and counts["results"] == scans
    figures = [
        Figure(
            benchmark=(
                f"Scanner integrity: {scans:,} scans, 8 ms/key, +{slow_s * 1000:.0f} ms/check-in"
            ),
            database="sqlite",
            samples=scans,
            median=float(counts["lost"] + counts["merged"] + counts["reordered"]),
            p99=float(counts["lost"] + counts["merged"] + counts["reordered"]),
            unit="scans wrong",
            target="0 lost, 0 merged, 0 reordered",
            met=ok,
            note=(
                f"lost {counts['lost']}, merged {counts['merged']}, reordered "
                f"{counts['reordered']}, failed {counts['failed']}; {total_s / 60:.0f} min"
            ),
        )
    ]
    if rss_end is not None:
        figures.append(
            Figure(
                benchmark=f"Resident memory after {scans:,} scans",
                database="sqlite",
                samples=len(memory),
                median=round(rss_end, 1),
                p99=round(max(mb for _, mb in memory), 1),
                unit="MB",
                target=f"<= {MEMORY_LIMIT_MB:g} MB",
                met=rss_end <= MEMORY_LIMIT_MB,
            )
        )
    if growth is not None:
        figures.append(
            Figure(
                benchmark=f"Memory growth over the last {scans - scans // 2:,} scans",
                database="sqlite",
                samples=len(half),
                median=round(growth, 1),
                p99=round(growth, 1),
                unit="MB",
                target=f"not growing (<= {GROWTH_ALLOWED_MB:g} MB)",
                met=growth <= GROWTH_ALLOWED_MB,
            )
        )
    say(f"  scanner integrity: {counts}; {total_s:.0f} s")
    return figures, details


def run(
    scale: float, scans: int, slow_ms: float, say: Callable[[str], None] = print
) -> tuple[list[Figure], dict[str, object]]:
    generated = datagen.generate_sqlite(scale, say=say)
    return measure(datagen.working_copy(generated, "scanner"), scans, slow_ms / 1000, say)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scanner_integrity", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--scans", type=int, default=10_000)
    parser.add_argument("--slow-ms", type=float, default=SLOW_COMMIT_S * 1000)
    parser.add_argument(
        "--pin-singletons",
        action="store_true",
        help="work around the PySide6 6.12 / Python 3.11 reference-count crash",
    )
    args = parser.parse_args(argv)
    leaky = sys.version_info < (3, 12) and pyside_version.startswith("6.12.")
    if args.pin_singletons and leaky:
        pin_singletons()
    figures, details = run(args.scale, args.scans, args.slow_ms)
    if args.pin_singletons and leaky:
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        pinned = f"None/True/False pinned (PySide6 {pyside_version} on Python {python})"
        figures = [replace(f, note=f"{f.note}; {pinned}" if f.note else pinned) for f in figures]
    for figure in figures:
        print(json.dumps(figure.as_dict()))
    print(json.dumps(details))
    return 0


if __name__ == "__main__":
    sys.exit(main())
