"""Check-in through the service against the minimal raw-SQL transaction, on both databases.

Each round checks in one checked-out item through `app.desk.checkin.check_in` and another one
with the least SQL that does the same work: one indexed SELECT by barcode (with the open
loan), UPDATE the loan, UPDATE the item (version bumped), INSERT the transit when the item
belongs to another branch, INSERT the audit event and the desk's idempotency key, COMMIT.
The service is called as the desk calls it, with a fresh idempotency key per scan. Rounds
alternate which goes first, so both see the same database, cache and machine. A bare
indexed SELECT of the barcode the service has just checked in is timed too (the floor any
check-in stands on).

    python -m bench.checkin_bench --scale 0.01 --samples 1000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from app.desk.checkin import check_in
from app.desk.routing import Outcome
from app.library.runtime import Runtime
from app.people import staff
from bench import datagen
from bench.timing import Figure, percentile, timed
from db.engine import Database

WARMUP = 50
TARGET_MS = {"sqlite": 10.0, "postgresql": 15.0}
MAX_RATIO_TO_RAW = 4.0
MAX_RATIO_TO_SELECT = 5.0  # the check-in decision's own target (issue: check-in speed)


class RawCheckIn:
    """The same reads and writes as a check-in of a checked-out item, in plain SQL."""

    def __init__(self, database: Database, desk_code: str, staff_id: int, username: str):
        self.sqlite = database.is_sqlite
        self.connection: Any = database.engine.raw_connection()
        self.desk_code, self.staff_id, self.username = desk_code, staff_id, username
        cursor = self.connection.cursor()
        cursor.execute(self._sql("SELECT id FROM branches WHERE code = ?"), (desk_code,))
        self.desk_id = int(cursor.fetchone()[0])
        cursor.close()
        if not self.sqlite:
            self.connection.commit()

    def _sql(self, statement: str) -> str:
        return statement if self.sqlite else statement.replace("?", "%s")

    def _now(self) -> Any:
        now = datetime.now(UTC)
        return now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else now

    def select_only(self, barcode: str) -> None:
        cursor = self.connection.cursor()
        cursor.execute(self._sql("SELECT id FROM items WHERE barcode = ?"), (barcode,))
        cursor.fetchone()
        cursor.close()
        if not self.sqlite:
            self.connection.rollback()

    def check_in(self, barcode: str) -> None:
        now = self._now()
        cursor = self.connection.cursor()
        if self.sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        lock = "" if self.sqlite else " FOR UPDATE OF items NOWAIT"
        cursor.execute(
            self._sql(
                "SELECT items.id, items.status, items.home_branch_id, items.version, loans.id "
                "FROM items LEFT OUTER JOIN loans "
                "ON loans.item_id = items.id AND loans.returned_at IS NULL "
                "WHERE items.barcode = ?" + lock
            ),
            (barcode,),
        )
        item_id, status, home, version, loan_id = cursor.fetchone()
        cursor.execute(
            self._sql("UPDATE loans SET returned_at = ?, returned_branch_id = ? WHERE id = ?"),
            (now, self.desk_id, loan_id),
        )
        away = home != self.desk_id
        if away:
            cursor.execute(
                self._sql(
                    "INSERT INTO transits (item_id, from_branch_id, to_branch_id, reason, "
                    "started_at, started_by_id) VALUES (?, ?, ?, 'to_home', ?, ?)"
                ),
                (item_id, self.desk_id, home, now, self.staff_id),
            )
        new_status = "in_transit" if away else "available"
        cursor.execute(
            self._sql(
                "UPDATE items SET status = ?, current_branch_id = ?, version = ? "
                "WHERE id = ? AND version = ?"
            ),
            (new_status, self.desk_id, version + 1, item_id, version),
        )
        json_cast = "?" if self.sqlite else "CAST(? AS json)"
        cursor.execute(
            self._sql(
                "INSERT INTO audit_events (at, staff_id, username, branch_code, workstation, "
                "action, entity, entity_id, item_id, patron_id, before, after, detail) "
                f"VALUES (?, ?, ?, ?, '', 'check_in', 'item', ?, ?, NULL, {json_cast}, "
                f"{json_cast}, ?)"
            ),
            (
                now,
                self.staff_id,
                self.username,
                self.desk_code,
                item_id,
                item_id,
                json.dumps({"status": status, "branch_id": None}),
                json.dumps({"status": new_status, "branch_id": self.desk_id}),
                "in_transit" if away else "shelve",
            ),
        )
        cursor.execute(
            self._sql(
                "INSERT INTO applied_scans (idempotency_key, applied_at, result) VALUES (?, ?, ?)"
            ),
            (str(uuid.uuid4()), now, "transit" if away else "reshelve"),
        )
        cursor.close()
        if self.sqlite:
            self.connection.execute("COMMIT")
        else:
            self.connection.commit()

    def close(self) -> None:
        self.connection.close()


def _ms(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000


def measure(url: str, backend: str, samples: int, say: Callable[[str], None]) -> list[Figure]:
    """Alternating rounds of service and raw check-ins on one database."""
    rounds = WARMUP + samples
    barcodes = datagen.open_loan_barcodes(url, 2 * rounds)
    if len(barcodes) < 2 * rounds:
        rounds = len(barcodes) // 2
        samples = rounds - WARMUP
        say(f"  only {len(barcodes)} checked-out items: {samples} samples each")
    database = Database(url)
    rt = Runtime(database)
    actor = staff.actor_for(rt, "desk", datagen.DESK_BRANCH, "bench")
    raw = RawCheckIn(database, datagen.DESK_BRANCH, actor.staff_id, actor.username)
    service_ms: list[float] = []
    raw_ms: list[float] = []
    select_ms: list[float] = []
    outcomes: dict[str, int] = {}
    try:
        for n in range(rounds):
            mine, theirs = barcodes[2 * n], barcodes[2 * n + 1]
            results: list[Any] = []

            def service(barcode: str = mine, results: list[Any] = results) -> None:
                results.append(check_in(rt, actor, barcode, idempotency_key=str(uuid.uuid4())))

            def plain(barcode: str = theirs) -> None:
                raw.check_in(barcode)

            if n % 2:
                t_service, t_raw = _ms(service), _ms(plain)
            else:
                t_raw, t_service = _ms(plain), _ms(service)
            t_select = _ms(lambda barcode=mine: raw.select_only(barcode))  # the same barcode
            outcome = results[0].outcome
            outcomes[outcome.value] = outcomes.get(outcome.value, 0) + 1
            if n >= WARMUP:
                service_ms.append(t_service)
                raw_ms.append(t_raw)
                select_ms.append(t_select)
    finally:
        raw.close()
        database.dispose()
    expected = {Outcome.RESHELVE.value, Outcome.TRANSIT.value}
    unexpected = {k: v for k, v in outcomes.items() if k not in expected}
    note = f"outcomes {outcomes}" if unexpected else ""
    service = timed(
        "Check-in through the service", backend, service_ms, limit_ms=TARGET_MS[backend], note=note
    )
    bare = timed("Minimal raw-SQL check-in transaction", backend, raw_ms, limit_ms=None)
    select = timed("Bare indexed SELECT by barcode", backend, select_ms, limit_ms=None)
    ratio = service.p99 / bare.p99
    to_select = service.p99 / select.p99
    say(
        f"  {backend}: service {service.median:.2f}/{service.p99:.2f} ms, raw "
        f"{bare.median:.2f}/{bare.p99:.2f} ms, select {select.p99:.3f} ms (median/p99)"
    )
    return [
        service,
        bare,
        Figure(
            benchmark="Check-in service / raw transaction",
            database=backend,
            samples=len(service_ms),
            median=round(service.median / bare.median, 2),
            p99=round(ratio, 2),
            unit="x",
            target=f"p99 <= {MAX_RATIO_TO_RAW:g} x raw",
            met=ratio <= MAX_RATIO_TO_RAW,
        ),
        select,
        Figure(
            benchmark="Check-in service / bare SELECT",
            database=backend,
            samples=len(service_ms),
            median=round(service.median / select.median, 1),
            p99=round(to_select, 1),
            unit="x",
            target=f"p99 <= {MAX_RATIO_TO_SELECT:g} x SELECT",
            met=to_select <= MAX_RATIO_TO_SELECT,
        ),
    ]


def run(
    scale: float,
    samples: int,
    backends: Sequence[str] = ("sqlite", "postgresql"),
    say: Callable[[str], None] = print,
) -> list[Figure]:
    figures: list[Figure] = []
    for backend in backends:
        if backend == "sqlite":
            generated = datagen.generate_sqlite(scale, say=say)
            figures += measure(datagen.working_copy(generated, "checkin"), backend, samples, say)
        else:
            generated = datagen.generate_pg(scale, say=say)
            try:
                figures += measure(generated.url, backend, samples, say)
            finally:
                datagen.drop_pg(scale)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.checkin_bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for figure in run(args.scale, args.samples, backends):
        print(json.dumps(figure.as_dict()))
    return 0


__all__ = ["RawCheckIn", "measure", "percentile", "run"]

if __name__ == "__main__":
    sys.exit(main())
