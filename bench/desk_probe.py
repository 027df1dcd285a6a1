"""A desk scanning while a batch job runs: how long does each check-in wait?

Run as its own process (a desk is another computer: no shared interpreter lock with the
job). Checks in one checked-out item every `--every` milliseconds until the stop file
appears, then prints one JSON line: every check-in's time in milliseconds and any failure.

    python -m bench.desk_probe URL BARCODES.json STOPFILE
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from app.desk.checkin import check_in
from app.library.errors import ServiceError
from app.library.runtime import Runtime
from app.people import staff
from bench import datagen
from db.engine import Database


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.desk_probe", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("barcodes", type=Path)
    parser.add_argument("stop", type=Path)
    parser.add_argument("--every", type=float, default=50.0, help="ms between check-ins")
    args = parser.parse_args(argv)
    barcodes = json.loads(args.barcodes.read_text())
    database = Database(args.url)
    rt = Runtime(database)
    actor = staff.actor_for(rt, "desk", datagen.DESK_BRANCH, "probe")
    waits: list[float] = []
    failures: list[str] = []
    print(json.dumps({"ready": True}), flush=True)
    try:
        for barcode in barcodes:
            if args.stop.exists():
                break
            started = time.perf_counter()
            try:
                check_in(rt, actor, barcode, idempotency_key=str(uuid.uuid4()))
            except ServiceError as exc:
                failures.append(exc.message[:120])
            except Exception as exc:  # a database error is what this probe looks for
                failures.append(f"{type(exc).__name__}: {str(exc)[:120]}")
            waits.append((time.perf_counter() - started) * 1000)
            time.sleep(args.every / 1000)
    finally:
        database.dispose()
    print(json.dumps({"waits_ms": waits, "failures": failures}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
