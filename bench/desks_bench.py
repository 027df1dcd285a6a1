"""500 desks against one PostgreSQL server through PgBouncer in transaction mode.

The generated library (bench/datagen.py) gets 500 desk staff accounts, each with its own
login role (the trust boundary: every desk connects as its staff member). A PgBouncer of
the benchmark's own (tests/pgbouncer.py, Debian's `pgbouncer`) stands in front of the
server: pool_mode = transaction, one pool per user and database, max_db_connections = 40,
server_idle_timeout = 2 s. Each simulated desk is what the window builds: the staff
member's `Database` (`?pooler=transaction`, at most two connections, opened lazily) and the
change feed through the sign-in role (`change_feed.feed_database`), its actions run one at
a time as the desk's single runner does. The desks are shared among `--processes` worker
processes (500 PCs have 500 interpreters; one process for all of them measured mostly its
own interpreter lock), which connect their desks first, as at the start of a shift.

Arrivals, over `--seconds` after a warm-up: scans as a Poisson process of one per desk
every 10 s (50 a second for 500 desks) on checked-out items, one list refresh (the branch's
holds to pull) per desk a minute, and the change feed every 3 s at a random phase. A scan's
time runs from its arrival (a desk busy with its previous action makes it wait, as at the
desk). Sampled every 0.25 s: the server connections PgBouncer holds for the database (its
console's SHOW POOLS) and the database's server processes (pg_stat_activity),
and the CPU of each server process of it and of PgBouncer (/proc); the client's CPU is this
process's.

Before the load, one desk at a time (the machine otherwise quiet): a scan whose staff
member has a server connection open in PgBouncer (warm) against one whose has none (cold:
the desk's last action was more than server_idle_timeout ago), and the server and client
CPU of one check-in.

    python -m bench.desks_bench --scale 0.02 --desks 500 --seconds 60
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from app.desk.checkin import check_in
from app.desk.holds_to_pull import holds_to_pull
from app.library.actors import Actor
from app.library.runtime import Runtime
from app.people import staff
from app.records.change_feed import ChangeFeed, feed_database
from bench import datagen
from bench.server_watch import ServerWatch, cpu_seconds, pgbouncer_pid
from bench.timing import Figure, counted, timed
from db import roles
from db.engine import Database
from db.models import Role
from tests.pgbouncer import config_text, running_pgbouncer, through

MAX_DB_CONNECTIONS = 40
SERVER_IDLE_TIMEOUT = 2
SCAN_EVERY = 10.0
LIST_EVERY = 60.0
POLL_EVERY = 3.0
CHECKIN_TARGET_MS = 100.0


def _say(text_: str) -> None:
    print(text_, flush=True)


# -- set-up -----------------------------------------------------------------------------------


def _staff_accounts(owner: Database, count: int) -> tuple[str, list[str]]:
    """`count` desk accounts with login roles (no password: this server trusts loopback)."""
    names = [f"desk{n:03d}" for n in range(count)]
    with owner.engine.begin() as conn:
        prefix = roles.install(conn).prefix
        conn.execute(
            text(
                "INSERT INTO staff (username, full_name, role, active, failed_sign_ins, "
                "created_at) VALUES (:u, :f, 'desk', true, 0, now()) "
                "ON CONFLICT (username) DO NOTHING"
            ),
            [{"u": n, "f": f"Desk {n}"} for n in names],
        )
        for name in names:
            roles.sync_staff_login(conn, name, Role.DESK, active=True)
    return prefix, names


def _branches(owner: Database) -> list[str]:
    with owner.engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT code FROM branches WHERE ill_office = false ORDER BY code")
            ).scalars()
        )


@dataclass
class Desk:
    """One simulated desk: its staff member's connections and the sign-in role's feed."""

    number: int
    rt: Runtime
    actor: Actor
    feed: ChangeFeed
    signin: Database
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: deque[tuple[float, str]] = field(default_factory=deque)
    busy: bool = False

    def close(self) -> None:
        self.rt.db.dispose()
        self.signin.dispose()


def _desks(
    url: str, prefix: str, names: list[str], branches: list[str], campuses: int
) -> list[Desk]:
    owner = Runtime(Database(url))
    desks = []
    try:
        for n, name in enumerate(names):
            branch = branches[(n * campuses // len(names)) % len(branches)]
            actor = staff.actor_for(owner, name, branch, f"pc-{n:03d}")
            own = Database(roles.login_url(url, roles.staff_role(prefix, name), None))
            signin = Database(roles.login_url(url, prefix + roles.SIGNIN, None))
            feed = ChangeFeed(feed_database(signin, own))
            desks.append(Desk(n, Runtime(own), actor, feed, signin))
    finally:
        owner.db.dispose()
    return desks


def _sign_in_all(desks: list[Desk]) -> None:
    """Every desk connected as at the start of a shift: its staff member's connection and
    the sign-in role's (each engine's first connection asks the server a few questions)."""

    def connect(desk: Desk) -> None:
        with desk.rt.db.reading() as session:
            session.execute(text("SELECT 1"))
        desk.feed.poll()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(connect, desks))


# -- one desk at a time: warm and cold scans, CPU per check-in ---------------------------------


def _backend_pid(admin: Engine, role: str) -> int | None:
    with admin.connect() as conn:
        found = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE usename = :r ORDER BY backend_start"),
            {"r": role},
        ).scalars()
        pids = list(found)
    return pids[-1] if pids else None


def _wait_no_server_connection(admin: Engine, role: str, limit: float = 10.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if _backend_pid(admin, role) is None:
            return True
        time.sleep(0.1)
    return False


def measure_one_desk(
    desks: list[Desk], barcodes: Iterator[str], admin: Engine, prefix: str, samples: int
) -> tuple[list[Figure], dict[str, Any]]:
    """Cold and warm scans alternating on desks nobody else uses; CPU of warm check-ins."""
    cold_ms: list[float] = []
    warm_ms: list[float] = []
    cold_server_cpu: list[float] = []
    for desk in desks[:samples]:
        role = roles.staff_role(prefix, desk.actor.username)
        desk.rt.db.engine.dispose()
        with desk.rt.db.reading() as session:  # the desk's client connection to PgBouncer
            session.execute(text("SELECT 1"))
        if not _wait_no_server_connection(admin, role):
            continue
        started = time.perf_counter()
        check_in(desk.rt, desk.actor, next(barcodes), idempotency_key=str(uuid.uuid4()))
        cold_ms.append((time.perf_counter() - started) * 1000)
        pid = _backend_pid(admin, role)
        cpu = cpu_seconds(pid) if pid else None
        if cpu is not None:
            cold_server_cpu.append(cpu)  # the server process's whole life: start + scan
        started = time.perf_counter()
        check_in(desk.rt, desk.actor, next(barcodes), idempotency_key=str(uuid.uuid4()))
        warm_ms.append((time.perf_counter() - started) * 1000)
    # CPU of one check-in, warm: one desk, many scans in a row, on one server process.
    desk = desks[samples]
    role = roles.staff_role(prefix, desk.actor.username)
    for _ in range(20):
        check_in(desk.rt, desk.actor, next(barcodes), idempotency_key=str(uuid.uuid4()))
    pid = _backend_pid(admin, role)
    before_server = cpu_seconds(pid) if pid else None
    before_client = time.thread_time()
    runs = 300
    for _ in range(runs):
        check_in(desk.rt, desk.actor, next(barcodes), idempotency_key=str(uuid.uuid4()))
    client_ms = (time.thread_time() - before_client) / runs * 1000
    after_server = cpu_seconds(pid) if pid else None
    same = pid is not None and _backend_pid(admin, role) == pid
    server_ms = (
        (after_server - before_server) / runs * 1000
        if same and after_server is not None and before_server is not None
        else None
    )
    figures = [
        timed(
            "Scan, staff member's server connection open (one desk)",
            "pgbouncer",
            warm_ms,
            limit_ms=None,
        ),
        timed(
            "Scan, no server connection open for the staff member",
            "pgbouncer",
            cold_ms,
            limit_ms=None,
            note=f"a new server process: {statistics.median(cold_server_cpu) * 1000:.1f} ms "
            "server CPU for its start and the scan (median)"
            if cold_server_cpu
            else "",
        ),
    ]
    detail = {
        "warm_scan_client_cpu_ms": round(client_ms, 2),
        "warm_scan_server_cpu_ms": round(server_ms, 2) if server_ms is not None else None,
        "cold_scan_server_cpu_ms_median": round(statistics.median(cold_server_cpu) * 1000, 2)
        if cold_server_cpu
        else None,
        "cold_samples": len(cold_ms),
    }
    return figures, detail


# -- 500 desks at once ------------------------------------------------------------------------


class Load:
    """Runs each desk's actions one at a time, in arrival order, on a shared worker pool."""

    def __init__(self, desks: list[Desk], barcodes: Iterator[str], workers: int) -> None:
        self.desks = desks
        self.barcodes = barcodes
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="desk")
        self.times: dict[str, list[float]] = {"scan": [], "list": [], "poll": []}
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self.measuring = False

    def arrive(self, desk: Desk, at: float, kind: str) -> None:
        with desk.lock:
            desk.waiting.append((at, kind))
            if desk.busy:
                return
            desk.busy = True
        self.pool.submit(self._drain, desk)

    def _drain(self, desk: Desk) -> None:
        while True:
            with desk.lock:
                if not desk.waiting:
                    desk.busy = False
                    return
                at, kind = desk.waiting.popleft()
            try:
                self._act(desk, kind)
            except Exception as exc:  # counted and shown; the desk goes on
                with self._lock:
                    self.errors.append(f"{kind}: {type(exc).__name__}: {str(exc)[:200]}")
            done = time.monotonic()
            if self.measuring:
                with self._lock:
                    self.times[kind].append((done - at) * 1000)

    def _act(self, desk: Desk, kind: str) -> None:
        if kind == "scan":
            check_in(desk.rt, desk.actor, next(self.barcodes), idempotency_key=str(uuid.uuid4()))
        elif kind == "list":
            holds_to_pull(desk.rt, desk.actor, desk.actor.branch_code)
        else:
            desk.feed.poll()


def run_load(load: Load, start: float, seconds: float, warmup: float, rng: random.Random) -> float:
    """Arrivals from `start` (monotonic) for warm-up + `seconds`; latencies are kept only
    for the measured part. Returns this process's CPU seconds over that part."""
    end = start + warmup + seconds
    events: list[tuple[float, int, str]] = []
    for index, _desk in enumerate(load.desks):
        events.append((start + rng.expovariate(1 / SCAN_EVERY), index, "scan"))
        events.append((start + rng.uniform(0, LIST_EVERY), index, "list"))
        events.append((start + rng.uniform(0, POLL_EVERY), index, "poll"))
    heapq.heapify(events)
    measured_from = start + warmup
    cpu_before = 0.0
    while events:
        at, index, kind = heapq.heappop(events)
        if at >= end:
            break
        if not load.measuring and at >= measured_from:
            load.measuring = True
            cpu_before = time.process_time()
        pause = at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        load.arrive(load.desks[index], at, kind)
        gap = {
            "scan": rng.expovariate(1 / SCAN_EVERY),
            "list": LIST_EVERY,
            "poll": POLL_EVERY,
        }[kind]
        heapq.heappush(events, (at + gap, index, kind))
    load.pool.shutdown(wait=True)
    load.measuring = False
    return time.process_time() - cpu_before


def worker(args: argparse.Namespace) -> int:
    """One of the processes the desks are shared among (one interpreter lock each, as 500
    PCs would have 500): build and connect its desks, say "ready", read the start time
    (seconds since the epoch) from stdin, run the load, print the latencies as JSON."""
    spec = json.loads(args.worker)
    names = [f"desk{n:03d}" for n in range(spec["first"], spec["first"] + spec["count"])]
    desks = _desks(spec["url"], spec["prefix"], names, spec["branches"], spec["campuses"])
    try:
        _sign_in_all(desks)
        everything = datagen.open_loan_barcodes(spec["direct_url"], 100_000)
        mine = everything[spec["index"] :: spec["of"]]
        load = Load(desks, _cycle(mine), args.workers)
        print("ready", flush=True)
        start_epoch = float(sys.stdin.readline())
        start = time.monotonic() + (start_epoch - time.time())
        rng = random.Random(20261206 + spec["index"])
        cpu = run_load(load, start, args.seconds, args.warmup, rng)
        print(json.dumps({"times": load.times, "errors": load.errors, "cpu": cpu}), flush=True)
    finally:
        for desk in desks:
            desk.close()
    return 0


def _run_processes(
    args: argparse.Namespace, spec: dict[str, Any], watch: ServerWatch
) -> tuple[Load, float]:
    """The desks shared among `args.processes` worker processes; the server watched from
    the end of the warm-up for `args.seconds`. Returns the merged latencies and CPU."""
    import subprocess

    children = []
    share = args.desks // args.processes
    for index in range(args.processes):
        first = index * share
        count = share if index < args.processes - 1 else args.desks - first
        part = dict(spec, first=first, count=count, index=index, of=args.processes)
        argv = [
            sys.executable,
            "-m",
            "bench.desks_bench",
            "--worker",
            json.dumps(part),
            "--seconds",
            str(args.seconds),
            "--warmup",
            str(args.warmup),
            "--workers",
            str(max(8, args.workers // args.processes)),
        ]
        children.append(
            subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        )
    for child in children:
        assert child.stdout is not None
        line = child.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"a desk process did not start: {line!r}")
    start_epoch = time.time() + 1.0
    for child in children:
        assert child.stdin is not None
        child.stdin.write(f"{start_epoch}\n")
        child.stdin.flush()
    time.sleep(max(0.0, start_epoch + args.warmup - time.time()))
    with watch:
        time.sleep(args.seconds)
    merged = Load([], iter(()), 1)
    cpu = 0.0
    for child in children:
        out, _ = child.communicate()
        result = json.loads(out.strip().splitlines()[-1])
        for kind, values in result["times"].items():
            merged.times[kind] += values
        merged.errors += result["errors"]
        cpu += result["cpu"]
    merged.pool.shutdown()
    return merged, cpu


# -- the run ----------------------------------------------------------------------------------


@contextmanager
def _bench_pgbouncer(server_url: str) -> Iterator[int]:
    def ini(port: int, folder: Path) -> str:
        base = config_text(server_url, port, folder)
        for old, new in (
            ("default_pool_size = 20", "default_pool_size = 5"),
            ("max_db_connections = 20", f"max_db_connections = {MAX_DB_CONNECTIONS}"),
            ("server_idle_timeout = 10", f"server_idle_timeout = {SERVER_IDLE_TIMEOUT}"),
            ("max_client_conn = 2000", "max_client_conn = 4000"),
        ):
            base = base.replace(old, new)
        return base

    with running_pgbouncer(server_url, ini_for=ini) as port:
        yield port


def run(args: argparse.Namespace) -> list[Figure]:
    name = f"illdesk_desks_bench_{datagen.scale_tag(args.scale)}"
    generated = datagen.generate_pg(args.scale, say=_say, name=name)
    admin = create_engine(datagen.PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    figures: list[Figure] = []
    desks: list[Desk] = []
    try:
        owner = Database(generated.url)
        prefix, names = _staff_accounts(owner, args.desks)
        branches = _branches(owner)
        owner.dispose()
        barcodes_list = datagen.open_loan_barcodes(generated.url, 100_000)
        _say(f"{len(names)} desk accounts, {len(branches)} branches, {len(barcodes_list)} loans")
        barcodes = _cycle(barcodes_list)
        with _bench_pgbouncer(datagen.PG_SERVER_URL) as port:
            pooled = through(generated.url, port)
            desks = _desks(pooled, prefix, names, branches, args.campuses)
            _sign_in_all(desks)
            one, detail = measure_one_desk(desks, barcodes, admin, prefix, args.cold_samples)
            figures += one
            _say(json.dumps(detail))
            for desk in desks:  # the load's desks are the worker processes' own
                desk.close()
            desks = []
            spec = {
                "url": pooled,
                "direct_url": generated.url,
                "prefix": prefix,
                "branches": branches,
                "campuses": args.campuses,
            }
            watch = ServerWatch(admin, name, pgbouncer_pid(port), port)
            load_before = os.getloadavg()
            load, client_cpu = _run_processes(args, spec, watch)
            load_after = os.getloadavg()
            seconds = args.seconds
            figures += _load_figures(args, load, watch, client_cpu, seconds, detail)
            summary = {
                "desks": args.desks,
                "processes": args.processes,
                "seconds": seconds,
                "scans": len(load.times["scan"]),
                "scans_per_second": round(len(load.times["scan"]) / seconds, 1),
                "lists": len(load.times["list"]),
                "polls": len(load.times["poll"]),
                "errors": len(load.errors),
                "first_errors": load.errors[:5],
                "server_connections_max": max(watch.connections),
                "server_connections_median": statistics.median(watch.connections),
                "pgbouncer_server_connections_max": max(watch.bouncer_connections),
                "server_cpu_s": round(watch.server_cpu, 2),
                "pgbouncer_cpu_s": round(watch.bouncer_cpu, 2),
                "client_cpu_s": round(client_cpu, 2),
                "load_average_before": load_before,
                "load_average_after": load_after,
                "cpus": os.cpu_count(),
            }
            _say(json.dumps(summary))
    finally:
        for desk in desks:
            desk.close()
        admin.dispose()
        datagen.drop_pg(args.scale, name=name)
        with create_engine(datagen.PG_SERVER_URL, isolation_level="AUTOCOMMIT").connect() as c:
            roles.drop_roles(c, roles.prefix_for(name))
    return figures


def _cycle(items: list[str]) -> Iterator[str]:
    lock = threading.Lock()

    def generate() -> Iterator[str]:
        while True:
            yield from items

    inner = generate()

    class Safe:
        def __iter__(self) -> Safe:
            return self

        def __next__(self) -> str:
            with lock:
                return next(inner)

    return Safe()


def _load_figures(
    args: argparse.Namespace,
    load: Load,
    watch: ServerWatch,
    client_cpu: float,
    seconds: float,
    detail: dict[str, Any],
) -> list[Figure]:
    scans = len(load.times["scan"])
    rate = scans / seconds
    note = (
        f"{args.desks} desks, {rate:.1f} scans/s, server CPU "
        f"{watch.server_cpu / max(scans, 1) * 1000:.1f} ms, PgBouncer "
        f"{watch.bouncer_cpu / max(scans, 1) * 1000:.1f} ms, client "
        f"{client_cpu / max(scans, 1) * 1000:.1f} ms per scan (lists and polls included); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    figures = [
        timed(
            f"Check-in from the scan's arrival, {args.desks} desks",
            "pgbouncer",
            load.times["scan"],
            limit_ms=CHECKIN_TARGET_MS,
            note=note,
        ),
        timed("List refresh (holds to pull)", "pgbouncer", load.times["list"], limit_ms=None),
        timed("Change-feed poll", "pgbouncer", load.times["poll"], limit_ms=None),
    ]
    held, processes = watch.bouncer_connections, watch.connections
    errors = len(load.errors)
    figures += [
        counted(
            f"Server connections, {args.desks} desks", "pgbouncer", held, "connections",
            target=f"max <= {MAX_DB_CONNECTIONS}", met=max(held) <= MAX_DB_CONNECTIONS,
            note=f"held by PgBouncer (SHOW POOLS), most {max(held)}; errors {errors}",
        ),
        counted(
            f"Server processes of the database, {args.desks} desks", "pgbouncer", processes,
            "connections", note=f"pg_stat_activity, most {max(processes)}: also counts a "
            "process PgBouncer has closed until it has exited",
        ),
    ]  # fmt: skip
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.desks_bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--desks", type=int, default=500)
    parser.add_argument("--campuses", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--cold-samples", type=int, default=20)
    parser.add_argument("--processes", type=int, default=4, help="desk processes")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    for figure in run(args):
        print(json.dumps(figure.as_dict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
