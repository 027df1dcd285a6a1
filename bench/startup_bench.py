"""Start-up to a focused scan field: from the `illdesk` command, and from the frozen bundle.

Each run starts the program in a subprocess (offscreen) with ILLDESK_BENCH_STARTUP=1 (see
ui/startup_probe.py): it signs in the demo desk account through the sign-in dialog and
prints one line when the Check In scan field has the focus. The time is from starting the
process to reading that line. The database is a copy of the generated library; settings and
logs go to a temporary home so the machine's own settings are not touched. One cold run is
made first and not counted.

    python -m bench.startup_bench --scale 0.01 --runs 10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import datagen
from bench.timing import Figure, timed

ROOT = Path(__file__).resolve().parent.parent
REPORT_LINE = "illdesk-startup: scan field focused"  # ui.startup_probe.REPORT_LINE
FROM_COMMAND_MS = 1500.0
FROM_BUNDLE_MS = 1000.0
TIMEOUT_S = 60


def command() -> list[str]:
    script = Path(sys.executable).with_name("illdesk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ui.launcher"]


def bundle() -> list[str] | None:
    program = ROOT / "dist" / "illdesk" / ("illdesk.exe" if os.name == "nt" else "illdesk")
    return [str(program)] if program.exists() else None


def once(argv: Sequence[str], url: str, home: Path) -> float:
    env = dict(os.environ)
    env.update(
        ILLDESK_BENCH_STARTUP="1",
        ILLDESK_CONFIG_DIR=str(home / "config"),
        ILLDESK_DATA_DIR=str(home / "data"),
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        APPDATA=str(home / "appdata"),
        LOCALAPPDATA=str(home / "localappdata"),
    )
    env.pop("ILLDESK_DATABASE_URL", None)
    started = time.perf_counter()
    process = subprocess.Popen(
        [*argv, "--db", url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=home,
    )
    assert process.stdout is not None
    elapsed: float | None = None
    for line in process.stdout:
        if line.strip() == REPORT_LINE:
            elapsed = (time.perf_counter() - started) * 1000
            break
    # Measured: stop the desk now (work it starts after the focus, such as the daily
    # anonymising run, is not start-up).
    process.terminate()
    try:
        process.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if elapsed is None:
        raise RuntimeError(f"{argv[0]} never reported a focused scan field")
    return elapsed


def measure(
    label: str,
    argv: Sequence[str],
    url: str,
    runs: int,
    limit_ms: float,
    say: Callable[[str], None],
) -> Figure:
    with tempfile.TemporaryDirectory(prefix="illdesk-startup-") as tmp:
        home = Path(tmp)
        once(argv, url, home)  # cold: the file cache, Python's bytecode cache
        times = [once(argv, url, home) for _ in range(runs)]
    figure = timed(label, "sqlite", times, limit_ms=limit_ms)
    say(f"  {label}: median {figure.median:.0f} ms, slowest {figure.p99:.0f} ms")
    return figure


def run(scale: float, runs: int, say: Callable[[str], None] = print) -> list[Figure]:
    generated = datagen.generate_sqlite(scale, say=say)
    url = datagen.working_copy(generated, "startup")
    figures = [
        measure(
            "Start-up to focused scan field (command)", command(), url, runs, FROM_COMMAND_MS, say
        )
    ]
    frozen = bundle()
    if frozen is None:
        say("  no bundle in dist/illdesk (make bundle): the frozen start-up is not measured")
    else:
        figures.append(
            measure(
                "Start-up to focused scan field (bundle)", frozen, url, runs, FROM_BUNDLE_MS, say
            )
        )
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup_bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    for figure in run(args.scale, args.runs):
        print(json.dumps(figure.as_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
