"""Statistics reports at library size: each report for one year, one campus and all campuses.

The benchmark library (`bench.datagen`: 1,000,000 items, 300,000 requests, 2,000,000 past
loans) gets two years of the events the reports count that the generator does not make:
check-ins and lending steps in the audit trail, hold-shelf entries, in-house uses, not-found
scans, due-date discrepancies, charges and IFM payments, cancellations and copies. Then
every report kind is computed for 2025-11-01 to 2026-10-31 (previous year beside it), for
all campuses and for METRO, `--samples` times each on a warm database.

Target: each report at most 1 s on PostgreSQL, 2 s on SQLite (the slowest sample).

    python -m bench.reports_bench --scale 1 --samples 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from app.library.actors import unattended
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from app.reports.compute import compute
from app.reports.figures import ReportKind
from app.reports.periods import Period
from bench import datagen
from bench.timing import Figure
from db.engine import Database
from db.models import Base
from db.models.circulation import add_postgresql_conditions

PERIOD = Period(date(2025, 11, 1), date(2026, 10, 31))
LIMITS_MS = {"postgresql": 1000.0, "sqlite": 2000.0}
PG_NAME = "illdesk_reports_bench_{tag}"
EVENTS = {  # at full size, over two years
    "check_ins": 400_000,
    "holds": 60_000,
    "in_house_uses": 20_000,
    "not_found": 20_000,
    "discrepancies": 10_000,
    "charges": 10_000,
    "ifm": 2_000,
}
OUTCOMES = ("hold_shelf", "transit", "return_to_ill_office", "reshelve")
REASONS = ("Not available from any lender", "Duplicate request", "Patron no longer needs it")
START = datetime(2024, 11, 1, tzinfo=UTC)
SPAN_MINUTES = 2 * 365 * 24 * 60


class _Events:
    def __init__(self, sqlite: bool, scale: float) -> None:
        self.sqlite, self.scale = sqlite, scale
        self.rng = random.Random(20_261_206)

    def n(self, name: str) -> int:
        return max(20, round(EVENTS[name] * self.scale))

    def moment(self) -> datetime:
        return START + timedelta(minutes=self.rng.randrange(SPAN_MINUTES))

    def ts(self, moment: datetime) -> Any:
        if self.sqlite:
            return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return moment

    def day(self, moment: datetime) -> Any:
        return moment.date().isoformat() if self.sqlite else moment.date()


def _ids(connection: Any, sql: str) -> list[Any]:
    return [row[0] for row in connection.execute(sql).fetchall()]


def _top_up(connection: Any, sqlite: bool, scale: float, say: Callable[[str], None]) -> None:
    """Add the two years of counted events (once per database)."""
    found = connection.execute("SELECT COUNT(*) FROM audit_events WHERE action = 'check_in'")
    if found.fetchone()[0] > 0:
        say("  events already there")
        return
    load = datagen._sqlite_loader(connection) if sqlite else datagen._pg_loader(connection)
    e = _Events(sqlite, scale)
    branches = connection.execute("SELECT id, code FROM branches WHERE virtual = false").fetchall()
    staff = _ids(connection, "SELECT id FROM staff")
    patrons = _ids(connection, "SELECT id FROM patrons LIMIT 5000")
    temporary = _ids(connection, "SELECT id FROM items WHERE kind = 'temporary'")
    lending = connection.execute(
        "SELECT id, created_at FROM ill_requests WHERE direction = 'lending'"
    ).fetchall()
    borrowing = _ids(connection, "SELECT id FROM ill_requests WHERE direction = 'borrowing'")
    no, yes = (0, 1) if sqlite else (False, True)
    started = time.perf_counter()

    def audit_rows() -> Iterator[tuple[Any, ...]]:
        for n in range(e.n("check_ins")):
            branch = branches[n % len(branches)]
            item = temporary[e.rng.randrange(len(temporary))]
            yield (
                e.ts(e.moment()),
                staff[n % len(staff)],
                "desk",
                branch[1],
                "bench",
                "check_in",
                "item",
                item,
                item,
                None,
                OUTCOMES[n % len(OUTCOMES)],
            )
        for n, (request_id, _) in enumerate(lending):
            at = e.moment()
            yield (
                e.ts(at),
                staff[0],
                "office",
                "WS-ILL",
                "bench",
                "lending.ship",
                "ill_request",
                request_id,
                None,
                None,
                "",
            )
            if n % 10 == 0:
                yield (
                    e.ts(at - timedelta(days=2)),
                    staff[0],
                    "ctl",
                    branches[n % len(branches)][1],
                    "bench",
                    "lending.not_on_shelf",
                    "ill_request",
                    request_id,
                    None,
                    None,
                    "",
                )
            if n % 50 == 0:
                yield (
                    e.ts(at + timedelta(days=60)),
                    staff[0],
                    "office",
                    "WS-ILL",
                    "bench",
                    "lending.lost_billable",
                    "ill_request",
                    request_id,
                    None,
                    None,
                    "",
                )

    load(
        "audit_events",
        ("at", "staff_id", "username", "branch_code", "workstation", "action", "entity",
         "entity_id", "item_id", "patron_id", "detail"),
        audit_rows(),
    )  # fmt: skip

    def holds() -> Iterator[tuple[Any, ...]]:
        for n in range(min(e.n("holds"), len(temporary))):
            at = e.moment()
            expired = n % 20 == 0
            yield (
                temporary[n],
                patrons[n % len(patrons)],
                branches[n % len(branches)][0],
                "expired" if expired else "picked_up",
                e.ts(at),
                e.day(at + timedelta(days=7)),
                e.ts(at + timedelta(days=3)),
            )

    load("hold_shelf_entries",
         ("item_id", "patron_id", "branch_id", "status", "placed_at", "pickup_by", "ended_at"),
         holds())  # fmt: skip
    load("in_house_uses", ("item_id", "patron_id", "branch_id", "started_at", "ended_at"),
         ((temporary[n % len(temporary)], None, branches[n % len(branches)][0],
           e.ts(at := e.moment()), e.ts(at + timedelta(hours=2)))
          for n in range(e.n("in_house_uses"))))  # fmt: skip
    load("not_found_scans", ("at", "barcode", "branch_id", "review_note"),
         ((e.ts(e.moment()), f"NF{n}", branches[n % len(branches)][0], "")
          for n in range(e.n("not_found"))))  # fmt: skip
    load("due_date_discrepancies",
         ("at", "patron_campus_id", "request_number", "system_date", "strap_date", "branch_id",
          "review_note"),
         ((e.ts(at := e.moment()), "T0", f"B{n}", e.day(at), e.day(at + timedelta(days=1)),
           branches[n % len(branches)][0], "") for n in range(e.n("discrepancies"))))  # fmt: skip
    load("charges",
         ("patron_id", "request_id", "kind", "amount", "estimated", "is_ill", "reason",
          "created_at", "reported_at", "transcript_hold", "removed_at"),
         ((patrons[n % len(patrons)], borrowing[n % len(borrowing)],
           "replacement" if n % 2 else "processing_fee", 30 + n % 70, no, yes, "Lost",
           e.ts(at := e.moment()), e.ts(at + timedelta(days=5)) if n % 2 else None, no,
           e.ts(at + timedelta(days=40)) if n % 5 == 0 else None)
          for n in range(e.n("charges"))))  # fmt: skip
    load("ifm_transactions",
         ("request_id", "direction", "partner_symbol", "amount", "dummy_title",
          "verification_note", "lender_string", "status", "created_at", "processed_at"),
         ((lending[n % len(lending)][0], "we_receive" if n % 3 else "we_pay",
           datagen.LENDERS[n % len(datagen.LENDERS)], 50 + n % 100, "Replacement", "", "X",
           "processed", e.ts(at := e.moment()), e.ts(at + timedelta(days=3)))
          for n in range(e.n("ifm"))))  # fmt: skip
    connection.execute(
        "UPDATE ill_requests SET status = 'cancelled', cancel_reason = CASE id % 3 "
        f"WHEN 0 THEN '{REASONS[0]}' WHEN 1 THEN '{REASONS[1]}' ELSE '{REASONS[2]}' END "
        "WHERE direction = 'borrowing' AND id % 10 = 3"
    )
    connection.execute(
        "UPDATE ill_requests SET copy_available_at = closed_at "
        "WHERE direction = 'borrowing' AND kind = 'copy'"
    )
    connection.execute(
        "UPDATE loans SET strap_due_date = due_date, adjustment_reason = "
        "'Strap date is a closed day (bench)' WHERE id % 50 = 0"
    )
    say(f"  events added in {time.perf_counter() - started:.1f} s")


def _indexes(url: str) -> None:
    """Every index the models declare (data generated before an index was added gets it)."""
    database = Database(url)
    try:
        if database.engine.dialect.name == "postgresql":
            add_postgresql_conditions(Base.metadata)
        with database.engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                present = {
                    i["name"]: i["column_names"] for i in inspect(conn).get_indexes(table.name)
                }
                for index in table.indexes:
                    wanted = [c.name for c in index.columns]
                    if index.name in present and present[index.name] != wanted:
                        index.drop(conn)  # an older form of the index: made again below
                    if index.name not in present or present[index.name] != wanted:
                        index.create(conn)
    finally:
        database.dispose()


def prepare(backend: str, scale: float, say: Callable[[str], None]) -> str:
    if backend == "sqlite":
        generated = datagen.generate_sqlite(scale, say)
        url = generated.url
        _indexes(url)
        path = make_url(url).database or ""
        connection = sqlite3.connect(path, isolation_level=None)
        try:
            connection.execute("BEGIN")
            _top_up(connection, True, scale, say)
            connection.execute("COMMIT")
            connection.execute("ANALYZE")
        finally:
            connection.close()
        return url
    import psycopg

    name = PG_NAME.format(tag=datagen.scale_tag(scale))
    server = make_url(datagen.PG_SERVER_URL)
    url = server.set(database=name).render_as_string(hide_password=False)
    exists = _pg_exists(name)
    if not exists:
        datagen.generate_pg(scale, datagen.PG_SERVER_URL, say, name=name)
    _indexes(url)
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection:
        _top_up(connection, False, scale, say)
        connection.commit()
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return url


def _pg_exists(name: str) -> bool:
    database = Database(datagen.PG_SERVER_URL)
    try:
        with database.engine.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            return found.first() is not None
    finally:
        database.dispose()


def _backend_pid(rt: Runtime) -> int | None:
    """The PostgreSQL server process serving our pooled connection (None on SQLite)."""
    with rt.db.reading() as session:
        if session.bind is None or session.get_bind().dialect.name != "postgresql":
            return None
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _server_cpu_ms(pid: int | None) -> float | None:
    """CPU time (user + system) the server process has used, from /proc (Linux)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) * 1000 / ticks


def measure(url: str, backend: str, samples: int, say: Callable[[str], None]) -> list[Figure]:
    database = Database(url)
    rt = Runtime(database, FixedClock(datetime(2026, 11, 2, 15, 0, tzinfo=UTC)))
    figures: list[Figure] = []
    try:
        for kind in ReportKind:
            for campus in (None, "METRO"):
                compute(rt, unattended("bench"), kind, PERIOD, campus)  # warm the cache once
                times, cpu = [], []
                for _ in range(samples):
                    backend_pid = _backend_pid(rt)
                    server = _server_cpu_ms(backend_pid)
                    started, used = time.perf_counter(), time.process_time()
                    report = compute(rt, unattended("bench"), kind, PERIOD, campus)
                    times.append((time.perf_counter() - started) * 1000)
                    spent = (time.process_time() - used) * 1000
                    after = _server_cpu_ms(backend_pid)
                    if server is not None and after is not None and _backend_pid(rt) == backend_pid:
                        spent += after - server  # the PostgreSQL backend's own CPU time
                    cpu.append(spent)
                slowest = max(times)
                where = campus or "all campuses"
                first = report.figures[0]
                # SQLite works in this process: its CPU time is what a quiet PC would wait.
                load = os.getloadavg()[0]
                cpu_note = f"; CPU time median {statistics.median(cpu):.0f} ms"
                say(f"  {backend} {kind.value:<9} {where:<12} median "
                    f"{statistics.median(times):7.0f} ms  slowest {slowest:7.0f} ms  "
                    f"cpu {statistics.median(cpu):6.0f} ms  load {load:.1f}  "
                    f"({first.label}: {first.current})")  # fmt: skip
                figures.append(
                    Figure(
                        benchmark=f"Report {kind.value}, one year, {where}",
                        database=backend,
                        samples=len(times),
                        median=round(statistics.median(times), 1),
                        p99=round(slowest, 1),
                        unit="ms",
                        target=f"slowest <= {LIMITS_MS[backend]:g} ms",
                        met=slowest <= LIMITS_MS[backend],
                        note=f"{first.label}: {first.current}; load average {load:.1f}" + cpu_note,
                    )
                )
    finally:
        database.dispose()
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reports_bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        print(line, flush=True)

    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        url = prepare(backend, args.scale, say)
        for figure in measure(url, backend, args.samples, say):
            print(json.dumps(figure.as_dict()), flush=True)
        if backend == "postgresql" and not args.keep:
            datagen.drop_pg(args.scale, name=PG_NAME.format(tag=datagen.scale_tag(args.scale)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
