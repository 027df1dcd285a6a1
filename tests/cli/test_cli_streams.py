"""The command line with real streams: a closed pipe, and barcodes pasted together."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.main import parse, run
from app.library.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_output_piped_into_head_stops_quietly(demo_rt: Runtime, database_url: str) -> None:
    scans = [f"NOSUCH{n:05d}" for n in range(3000)]
    command = [sys.executable, "-m", "app.cli.main", "--db", database_url, "checkin"]
    command += ["--branch", "METRO", "--staff", "desk", "-"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pipeline = subprocess.run(
        f"{subprocess.list2cmdline(command)} | head -n 1",
        shell=True,
        input="\n".join(scans),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert pipeline.stdout.startswith("NOSUCH00000")
    assert "Traceback" not in pipeline.stderr and "BrokenPipeError" not in pipeline.stderr
    assert "output was closed" in pipeline.stderr


def test_two_barcodes_in_one_argument_are_two_scans(demo_rt: Runtime, database_url: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = ["--db", database_url, "--json", "checkin", "--branch", "SE", "--staff", "desk"]
    code = run(parse([*argv, "ILL00000018\nNOSUCH1"]), out, err)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["barcode"] for r in rows] == ["ILL00000018", "NOSUCH1"]
    assert rows[0]["outcome"] == "hold_shelf" and rows[1]["outcome"] == "not_found"
    assert code == 0


def test_a_scan_with_a_line_break_inside_is_refused_everywhere(
    demo_rt: Runtime, database_url: str
) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = ["--db", database_url, "--json", "checkout", "--branch", "METRO", "--staff", "desk"]
    code = run(parse([*argv, "--patron", "T00123456", "ILL00000042\nILL00000018"]), out, err)
    [row] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 1 and "Two scans arrived as one" in row["message"]
