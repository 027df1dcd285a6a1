"""`make bench` (`python -m bench`): run every benchmark, print median and p99, write results.

Each benchmark runs in its own process (a clean Qt application and a clean memory figure
each) and prints its figures as JSON lines; this collects them into
bench/results/parts/<name>.json, then writes bench/results/latest.json and the Markdown table
bench/results/latest.md from every part present, so a long benchmark measured on its own
(`--only scanner_integrity`) joins the table of the others (`--skip scanner_integrity`).
Benchmarks never decide whether the test suite passes.

    python -m bench                 full size (1,000,000 items; data generation takes a while)
    python -m bench --quick         1% of the data, fewer samples, 1,000 scans
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PARTS = RESULTS / "parts"


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str
    full: tuple[str, ...]  # arguments at full size
    quick: tuple[str, ...]  # arguments for --quick


BENCHMARKS = (
    Benchmark("checkin", "bench.checkin_bench", ("--samples", "1000"), ("--samples", "300")),
    Benchmark("gui", "bench.gui_bench", ("--samples", "500"), ("--samples", "150")),
    Benchmark("startup", "bench.startup_bench", ("--runs", "10"), ("--runs", "5")),
    Benchmark(
        "trust",
        "bench.trust_bench",
        ("--samples", "1000", "--sign-ins", "60"),
        ("--samples", "300", "--sign-ins", "20"),
    ),
    Benchmark("straps", "bench/straps_bench.py", (), ("--runs", "100")),
    Benchmark(
        "batch", "bench.batch_bench", ("--privacy-seconds", "120"), ("--privacy-seconds", "60")
    ),
    Benchmark("refcount_drain", "bench.refcount_drain", (), ()),
    Benchmark("reports", "bench.reports_bench", ("--samples", "5"), ("--samples", "3")),
    Benchmark("ncip", "bench.ncip_bench", ("--messages", "500"), ("--messages", "150")),
    Benchmark(
        "desks",
        "bench.desks_bench",
        ("--desks", "500", "--seconds", "60"),
        ("--desks", "100", "--seconds", "20", "--cold-samples", "10"),
    ),
    Benchmark(
        "scanner_integrity",
        "bench.scanner_integrity",
        ("--scans", "10000", "--pin-singletons"),
        ("--scans", "1000", "--pin-singletons"),
    ),
)


def _straps_figures(path: Path) -> list[dict[str, Any]]:
    """The straps benchmark writes its own JSON; turn it into table rows."""
    data = json.loads(path.read_text())
    one_ok = data["one_strap_p99_ms"] <= 20
    batch_ok = data["batch_straps_per_second"] >= 200
    return [
        {
            "benchmark": "One strap PDF",
            "database": "-",
            "samples": None,
            "median": data["one_strap_median_ms"],
            "p99": data["one_strap_p99_ms"],
            "unit": "ms",
            "target": "p99 <= 20 ms",
            "met": one_ok,
            "note": f"first (cold) strap {data['first_strap_ms']} ms",
        },
        {
            "benchmark": f"Batch of {data['batch_straps']} straps",
            "database": "-",
            "samples": 1,
            "median": data["batch_straps_per_second"],
            "p99": data["batch_straps_per_second"],
            "unit": "straps/s",
            "target": ">= 200 straps/s",
            "met": batch_ok,
            "note": f"{data['batch_seconds']} s, one PDF of {data['batch_pdf_bytes'] // 1024} KiB",
        },
    ]


def run_one(bench: Benchmark, scale: float, quick: bool) -> dict[str, Any]:
    """Run one benchmark in a subprocess; its figures, or what went wrong."""
    extra = list(bench.quick if quick else bench.full)
    started = datetime.now(UTC)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    straps_json = PARTS / "straps.raw.json"
    if bench.module.endswith(".py"):
        argv = [sys.executable, bench.module, *extra, "--json", str(straps_json)]
    else:
        argv = [sys.executable, "-u", "-m", bench.module, "--scale", f"{scale:g}", *extra]
    print(f"== {bench.name}: {' '.join(argv[1:])}", flush=True)
    clock = time.perf_counter()
    process = subprocess.Popen(
        argv, cwd=RESULTS.parent.parent, env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    figures: list[dict[str, Any]] = []
    details: list[dict[str, Any]] = []
    for line in process.stdout:  # progress lines are shown as they come
        if not line.startswith("{"):
            print(line, end="", flush=True)
            continue
        record = json.loads(line)
        (figures if "benchmark" in record else details).append(record)
    process.wait()
    if bench.name == "straps" and straps_json.exists():
        figures = _straps_figures(straps_json)
        straps_json.unlink()
    problem = "" if figures else f"no figures (exit code {process.returncode})"
    return {
        "name": bench.name,
        "scale": scale,
        "quick": quick,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - clock, 1),
        "figures": figures,
        "details": details,
        "problem": problem,
    }


def _value(number: float | None, unit: str) -> str:
    if number is None:
        return "-"
    if unit == "ms":
        return f"{number:.2f} ms" if number < 100 else f"{number:.0f} ms"
    if unit == "x":
        return f"{number:g}x"
    return f"{number:g} {unit}"


def markdown(parts: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| Benchmark | Database | Median | p99 | Target | Met | Data | Note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for part in parts:
        data = "-" if part["name"] == "straps" else f"{part['scale']:g}x"
        for f in part["figures"]:
            met = {True: "yes", False: "**no**", None: "-"}[f["met"]]
            lines.append(
                f"| {f['benchmark']} | {f['database']} | {_value(f['median'], f['unit'])} | "
                f"{_value(f['p99'], f['unit'])} | {f['target']} | {met} | {data} | "
                f"{f.get('note', '')} |"
            )
        if part["problem"]:
            lines.append(
                f"| {part['name']} | - | - | - | - | **failed** | {data} | {part['problem']} |"
            )
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python "
    machine += platform.python_version()
    when = max(part["started"] for part in parts) if parts else ""
    lines += [
        "",
        f"Measured {when[:10]} on {machine}. Data: 1x = 1,000,000 items, 200,000 patrons, "
        "300,000 ILL requests, 2,000,000 past loans. p99 is the nearest-rank 99th percentile "
        "(for start-up, the slowest of the runs).",
    ]
    return "\n".join(lines) + "\n"


def write_report() -> list[dict[str, Any]]:
    order = [b.name for b in BENCHMARKS]
    parts = [json.loads(p.read_text()) for p in sorted(PARTS.glob("*.json"))]
    parts = [p for p in parts if p.get("name") in order]
    parts.sort(key=lambda p: order.index(p["name"]))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps({"parts": parts}, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(markdown(parts))
    return parts


def main(argv: Sequence[str] | None = None) -> int:
    names = [b.name for b in BENCHMARKS]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=None, help="data size (1.0 = full)")
    parser.add_argument("--quick", action="store_true", help="1%% of the data, fewer samples")
    parser.add_argument("--only", nargs="+", choices=names, default=None)
    parser.add_argument("--skip", nargs="+", choices=names, default=())
    args = parser.parse_args(argv)
    scale = args.scale if args.scale is not None else (0.01 if args.quick else 1.0)
    chosen = [b for b in BENCHMARKS if (args.only is None or b.name in args.only)]
    chosen = [b for b in chosen if b.name not in args.skip]
    PARTS.mkdir(parents=True, exist_ok=True)
    for bench in chosen:
        part = run_one(bench, scale, args.quick)
        (PARTS / f"{bench.name}.json").write_text(json.dumps(part, indent=2) + "\n")
        for f in part["figures"]:
            met = {True: "met", False: "NOT MET", None: ""}[f["met"]]
            print(
                f"   {f['benchmark']} [{f['database']}]: median {_value(f['median'], f['unit'])}"
                f", p99 {_value(f['p99'], f['unit'])}  ({f['target']}) {met}",
                flush=True,
            )
        if part["problem"]:
            print(f"   {bench.name}: {part['problem']}", flush=True)
    write_report()
    print(f"Results: {RESULTS / 'latest.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
