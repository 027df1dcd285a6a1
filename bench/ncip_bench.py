"""NCIP responder speed: AcceptItem and CheckInItem end to end over HTTP on loopback, with 1
and 8 concurrent initiators, on PostgreSQL, beside the same messages handled in-process
(`respond()`, the responder without HTTP) in the same run.

The responder runs as `illdesk ncip serve` in a process of its own (as in production), once
as one process and once with `--workers 2`, both on the same database; the 8-initiator
phases take turns between the two in rounds. The initiators are threads of this process,
each with its own keep-alive connection. Every
AcceptItem is a new request (created, received, strapped, sent in transit); every
CheckInItem sends one of those items back to its lender (loan ended, item closed). The
database is a fresh one on the local PostgreSQL with the demo library, and the day's jobs
have run on it before the service starts (as on any day after the first hour): the
service's first check then finds nothing due instead of running them during the figures.

Where /proc exists (Linux), the CPU that each message costs is counted too: the responder's
process, the PostgreSQL backends of the benchmark database, and this process (the
initiators). What 2 cores allow follows from their sum; what one responder process allows
(one Python process runs Python on one core at a time) from the responder's part.

    python -m bench.ncip_bench --messages 400
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.daily import run_all_if_due, service_actor
from app.demo import load_demo
from app.library import library_settings
from app.library.actors import unattended
from app.library.runtime import Runtime
from app.ncip.http_server import freeze_startup_objects
from app.ncip.partners import allow_partner
from app.ncip.responder import respond
from app.people.staff import actor_for
from app.workstation.config import load_settings
from bench.timing import Figure, percentile, single, timed
from db import schema
from db.engine import Database, create_database_engine

PG_SERVER_URL = os.environ.get(
    "ILLDESK_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NS = "http://www.niso.org/2008/ncip"
SECRET = "bench-shared-secret-0123456789"
PATRONS = ("21000123456", "21000234567", "21000345678", "21000456789", "T00567890")
PICKUPS = ("METRO", "SE", "WEST", "NEC")
_STRAP = re.compile(rb"<ncip:ItemIdentifierValue>([^<]+)</ncip:ItemIdentifierValue>")
LIMIT_MS = 50.0
RATIO = 2.0
RATE = 100.0
WORKERS = (1, 2)  # `ncip serve --workers`: one process, then two worker processes
ROUNDS = 3  # rounds of the 8-initiator phases, taking turns between the two


def _processes(workers: int) -> str:
    return "1 process" if workers == 1 else f"{workers} worker processes"


def _suffix(workers: int) -> str:
    return "" if workers == 1 else f", {workers} workers"


def results_order(workers: Sequence[int]) -> list[tuple[int, int]]:
    return [(w, i) for w in workers for i in (1, 8)]


def _header() -> str:
    return (
        "<InitiationHeader><FromAgencyId><AgencyId>ILLIAD</AgencyId></FromAgencyId>"
        f"<FromAgencyAuthentication>{SECRET}</FromAgencyAuthentication>"
        "<ToAgencyId><AgencyId>EXC</AgencyId></ToAgencyId></InitiationHeader>"
    )


def accept_body(n: int, due: date) -> bytes:
    number = str(40_000_000 + n)
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?>'
        f'<NCIPMessage xmlns="{NS}" version="2.02"><AcceptItem>{_header()}'
        f"<RequestId><RequestIdentifierValue>{number}</RequestIdentifierValue></RequestId>"
        "<RequestedActionType>Hold For Pickup And Notify</RequestedActionType>"
        f"<UserId><UserIdentifierValue>{PATRONS[n % len(PATRONS)]}</UserIdentifierValue></UserId>"
        f"<ItemId><ItemIdentifierValue>{number}</ItemIdentifierValue></ItemId>"
        f"<DateForReturn>{due.isoformat()}T23:59:00</DateForReturn>"
        "<ItemOptionalFields><BibliographicDescription><Author>Benchmark, Ann</Author>"
        f"<Title>Benchmark title {n}</Title></BibliographicDescription></ItemOptionalFields>"
        f"<PickupLocation>{PICKUPS[n % len(PICKUPS)]}</PickupLocation>"
        "</AcceptItem></NCIPMessage>"
    ).encode("iso-8859-1")


def checkin_body(strap: str) -> bytes:
    return (
        f'<NCIPMessage xmlns="{NS}" version="2.02"><CheckInItem>{_header()}'
        f"<ItemId><ItemIdentifierValue>{strap}</ItemIdentifierValue></ItemId>"
        "</CheckInItem></NCIPMessage>"
    ).encode()


HOSTILE = {
    "XXE": (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<NCIPMessage xmlns="http://www.niso.org/2008/ncip"><LookupUser><UserId>'
        b"<UserIdentifierValue>&x;</UserIdentifierValue></UserId></LookupUser></NCIPMessage>"
    ),
    "billion laughs": (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            f'<!ENTITY a{n} "{("&a" + (str(n - 1) if n > 1 else "") + ";") * 10}">'.encode()
            for n in range(1, 10)
        )
        + b"]><NCIPMessage><LookupUser><UserId><UserIdentifierValue>&a9;"
        b"</UserIdentifierValue></UserId></LookupUser></NCIPMessage>"
    ),
}


def _accepted(bodies: Sequence[bytes]) -> None:
    for body in bodies:
        if b"Problem" in body:
            raise RuntimeError(f"the responder refused a benchmark message: {body[-700:]!r}")


def _strap(body: bytes) -> str:
    found = _STRAP.findall(body)
    if not found or b"Problem" in body:
        raise RuntimeError(f"the responder refused a benchmark message: {body[-700:]!r}")
    return found[-1].decode()


def _database() -> tuple[str, str]:
    name = f"illdesk_bench_ncip_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_database_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    return name, url


def _drop(name: str) -> None:
    admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                "AND pid <> pg_backend_pid()"
            ),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _prepare(rt: Runtime) -> None:
    load_demo(rt, unattended("bench"))
    admin = actor_for(rt, "admin", "NEC", "bench")
    allow_partner(rt, admin, "ILLIAD", secret=SECRET, networks=["127.0.0.0/8"])
    with rt.db.transaction() as session:
        library_settings.save(session, ncip_agency_id="EXC")


class CpuMeter:
    """CPU seconds spent by the responder, the PostgreSQL backends of one database and this
    process between `start` and `stop` (Linux: read from /proc; elsewhere nothing).

    The responder's pool opens and closes backends as the load changes, so the backends are
    read every quarter second: one that closes loses at most its last quarter second, and
    PostgreSQL's figure is a slight lower bound.
    """

    TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    EVERY = 0.25  # seconds between readings of the backends

    def __init__(self, server_pid: int, database: str) -> None:
        self.server_pid, self.database = server_pid, database
        self._admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._start: tuple[float, float] | None = None
        self._stopping = threading.Event()
        self._reader = threading.Thread(target=self._read_backends, daemon=True)

    @classmethod
    def _of(cls, pid: int) -> float | None:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / cls.TICKS  # utime + stime

    @classmethod
    def _tree(cls, pid: int) -> float | None:
        """The responder's CPU: its own process and its worker processes (`--workers`)."""
        own = cls._of(pid)
        if own is None:
            return None
        children = 0.0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == pid:
                children += cls._of(int(entry)) or 0.0
        return own + children

    def _backends(self, *, first: bool = False) -> None:
        with self._admin.connect() as conn:
            pids = conn.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :n"), {"n": self.database}
            ).all()
        for pid in pids:
            cpu = self._of(int(pid))
            if cpu is None:
                continue
            # a backend opened after the start spent all of its CPU within the measurement
            self._first.setdefault(int(pid), cpu if first else 0.0)
            self._last[int(pid)] = cpu

    def _read_backends(self) -> None:
        while not self._stopping.wait(self.EVERY):
            self._backends()

    def start(self) -> None:
        server = self._tree(self.server_pid)
        if server is not None:
            self._backends(first=True)
            self._start = (server, time.process_time())
            self._reader.start()

    def stop(self) -> tuple[float, float, float] | None:
        """Responder, PostgreSQL, initiators: CPU seconds since `start`."""
        server = self._tree(self.server_pid)
        if self._start is None or server is None:
            self._admin.dispose()
            return None
        own = time.process_time()
        self._stopping.set()
        self._reader.join()
        self._backends()
        self._admin.dispose()
        database = sum(cpu - self._first[pid] for pid, cpu in self._last.items())
        server_0, own_0 = self._start
        return server - server_0, database, own - own_0


def _in_process(rt: Runtime, bodies: Sequence[bytes]) -> tuple[list[float], list[bytes]]:
    samples, answers = [], []
    for body in bodies:
        started = time.perf_counter()
        answer = respond(rt, body, remote_addr="127.0.0.1")
        samples.append((time.perf_counter() - started) * 1000)
        answers.append(answer.body)
    return samples, answers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    """`illdesk ncip serve` in a process of its own, once it says it listens (with
    `--workers`, once every worker answers); its log is read and dropped meanwhile."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen(
        [
            sys.executable, "-m", "app.cli.main", "--db", url, "ncip", "serve",
            "--port", str(port), "--threads", "8", "--rate", "100000",
            "--workers", str(workers),
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    listening = threading.Event()

    def drain() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if b"NCIP responder listening" in line:
                listening.set()

    threading.Thread(target=drain, daemon=True).start()
    if not listening.wait(120):
        process.kill()
        raise RuntimeError("the responder did not start")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/healthz")
    if conn.getresponse().status != 200:
        process.kill()
        raise RuntimeError("the responder does not answer /healthz")
    conn.close()
    return process


def _over_http(
    port: int, bodies: Sequence[bytes], initiators: int
) -> tuple[list[float], list[bytes], float]:
    """Post every body, split among `initiators` threads; latencies, answers, wall seconds."""
    samples: list[float] = []
    answers: list[bytes] = [b""] * len(bodies)
    lock = threading.Lock()
    barrier = threading.Barrier(initiators + 1)

    def initiator(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        barrier.wait()
        for position in range(index, len(bodies), initiators):
            started = time.perf_counter()
            conn.request(
                "POST", "/ncip", body=bodies[position], headers={"Content-Type": "text/xml"}
            )
            response = conn.getresponse()
            answers[position] = response.read()
            mine.append((time.perf_counter() - started) * 1000)
        conn.close()
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=initiator, args=(i,)) for i in range(initiators)]
    for thread in threads:
        thread.start()
    barrier.wait()
    wall = time.perf_counter()
    for thread in threads:
        thread.join()
    return samples, answers, time.perf_counter() - wall


def run(messages: int, say: Callable[[str], None] = print) -> list[Figure]:
    name, url = _database()
    figures: list[Figure] = []
    servers: dict[int, subprocess.Popen[bytes]] = {}
    try:
        rt = Runtime(Database(url))
        _prepare(rt)
        due = date.today() + timedelta(days=40)
        serial = iter(range(10_000_000))

        def accepts(count: int) -> list[bytes]:
            return [accept_body(next(serial), due) for _ in range(count)]

        # what one round trip to this PostgreSQL costs right now: the floor under every figure
        select_ms = []
        with rt.db.reading() as session:
            for _ in range(200):
                started = time.perf_counter()
                session.execute(text("SELECT 1"))
                select_ms.append((time.perf_counter() - started) * 1000)
        figures.append(timed("Bare SELECT 1 round trip", "postgresql", select_ms, limit_ms=None))
        # warm-up: first connections, first statements, the secret's first check
        warm_answers = _in_process(rt, accepts(20))[1]
        _accepted(_in_process(rt, [checkin_body(_strap(b)) for b in warm_answers])[1])
        freeze_startup_objects()  # as `ncip serve` does before its first message

        say(f"in-process: {messages} AcceptItem, then {messages} CheckInItem")
        cpu_started = time.process_time()
        accept_ms, answers = _in_process(rt, accepts(messages))
        checkin_ms, checkin_answers = _in_process(rt, [checkin_body(_strap(b)) for b in answers])
        in_process_cpu = (time.process_time() - cpu_started) * 1000 / (2 * messages)
        _accepted(checkin_answers)
        # The day's jobs, done before the service starts: its first check (5 s after the
        # start) then costs a query instead of a whole day's run during the figures.
        jobs_started = time.perf_counter()
        run_all_if_due(rt, service_actor(), load_settings())
        say(f"the day's jobs ran in {time.perf_counter() - jobs_started:.1f} s")
        # one responder process, and two worker processes on one port (`--workers 2`),
        # both serving the same database; measured one after the other in the same run
        ports = {workers: _free_port() for workers in WORKERS}
        for workers, port in ports.items():
            servers[workers] = _start_server(url, port, workers)
            _over_http(port, accepts(20), 1)
        results: dict[tuple[str, int, int], list[float]] = {}
        rates: dict[tuple[int, int], list[float]] = {}
        cpu: dict[tuple[int, int], list[list[float]]] = {}
        # one initiator once on each; eight in ROUNDS rounds that take turns between the
        # two, so that what else the machine does falls on both alike
        phases = [(w, 1) for w in WORKERS] + [(w, 8) for _ in range(ROUNDS) for w in WORKERS]
        for workers, initiators in phases:
            port = ports[workers]
            count = messages if initiators == 1 else messages * 2 // ROUNDS
            say(
                f"HTTP, {_processes(workers)}, {initiators} initiator(s): "
                f"{count} AcceptItem, then {count} CheckInItem"
            )
            meter = CpuMeter(servers[workers].pid, name)
            meter.start()
            a_ms, a_answers, a_wall = _over_http(port, accepts(count), initiators)
            straps = [_strap(b) for b in a_answers]
            c_ms, c_answers, c_wall = _over_http(
                port, [checkin_body(s) for s in straps], initiators
            )
            spent = meter.stop()
            if spent is not None:
                cpu.setdefault((workers, initiators), []).append(
                    [sec * 1000 / (2 * count) for sec in spent]
                )
            _accepted(c_answers)
            results.setdefault(("AcceptItem", workers, initiators), []).extend(a_ms)
            results.setdefault(("CheckInItem", workers, initiators), []).extend(c_ms)
            rates.setdefault((workers, initiators), []).append((2 * count) / (a_wall + c_wall))
        for service, local in (("AcceptItem", accept_ms), ("CheckInItem", checkin_ms)):
            figures.append(
                timed(f"NCIP {service} in-process (respond)", "postgresql", local, limit_ms=None)
            )
            for workers, initiators in results_order(WORKERS):
                figures.append(
                    timed(
                        f"NCIP {service} over HTTP, {initiators} initiator(s){_suffix(workers)}",
                        "postgresql",
                        results[(service, workers, initiators)],
                        limit_ms=LIMIT_MS,
                    )
                )
            http_one = results[(service, 1, 1)]
            p99_ratio = percentile(http_one, 0.99) / percentile(local, 0.99)
            median_ratio = statistics.median(http_one) / statistics.median(local)
            figures.append(
                Figure(
                    benchmark=f"NCIP {service} HTTP / in-process (1 initiator)",
                    database="postgresql",
                    samples=len(http_one),
                    median=round(median_ratio, 2),
                    p99=round(p99_ratio, 2),
                    unit="x",
                    target=f"p99 <= {RATIO:g} x in-process",
                    met=p99_ratio <= RATIO,
                )
            )
        for workers, initiators in results_order(WORKERS):
            rate = statistics.median(rates[(workers, initiators)])
            figures.append(
                Figure(
                    benchmark=f"NCIP messages per second, {initiators} initiator(s)"
                    + _suffix(workers),
                    database="postgresql",
                    samples=len(rates[(workers, initiators)]),
                    median=round(rate, 1),
                    p99=round(min(rates[(workers, initiators)]), 1),
                    unit="msg/s",
                    target=f">= {RATE:g} msg/s" if initiators == 8 else "-",
                    met=rate >= RATE if initiators == 8 else None,
                    note="AcceptItem and CheckInItem phases; median of the rounds, "
                    "slowest round in the p99 column",
                )
            )
        two, one = (statistics.median(rates[(w, 8)]) for w in (2, 1))
        figures.append(
            Figure(
                benchmark="NCIP messages per second, 8 initiators: 2 workers / 1 process",
                database="postgresql",
                samples=ROUNDS,
                median=round(two / one, 2),
                p99=round(two / one, 2),
                unit="x",
                target="-",
                met=None,
                note="side by side, rounds taking turns",
            )
        )
        figures.extend(
            _cpu_figures(
                {key: [statistics.median(part) for part in zip(*runs, strict=True)]
                 for key, runs in cpu.items()},
                in_process_cpu,
            )
        )  # fmt: skip
        for label, body in HOSTILE.items():
            samples = _in_process(rt, [body] * 50)[0]
            figures.append(
                timed(f"NCIP {label} answered with a Problem", "postgresql", samples, limit_ms=100)
            )
        rt.db.dispose()
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=30)
        _drop(name)
    return figures


def _cpu_figures(cpu: dict[tuple[int, int], list[float]], in_process: float) -> list[Figure]:
    """CPU per message by process, and the message rates that this CPU allows."""
    note = "CPU time per message (AcceptItem and CheckInItem averaged)"
    figures = [
        single("NCIP CPU per message, in-process (respond)", "postgresql", in_process, "ms",
               target="baseline", note=note)
    ]  # fmt: skip
    cores = os.cpu_count() or 1
    for (workers, initiators), spent in cpu.items():
        responder, database, initiating = spent
        for part, ms in (
            ("responder", responder),
            ("PostgreSQL", database),
            ("initiators", initiating),
        ):
            label = f"NCIP CPU per message, {initiators} initiator(s){_suffix(workers)}: {part}"
            figures.append(single(label, "postgresql", ms, "ms", note=f"{note}, from /proc"))
    # What the 2 cores allow at the CPU of the two workers (the service using both cores);
    # what one process allows at its own (Python runs one thread at a time in a process).
    allowed: list[tuple[str, str, float]] = []
    if (2, 8) in cpu:
        rate = cores * 1000 / sum(cpu[2, 8])
        allowed.append((f"NCIP messages per second {cores} cores allow", "2 workers", rate))
    if (1, 8) in cpu:
        rate = 1000 / cpu[1, 8][0]
        allowed.append(("NCIP messages per second one responder process allows", "1 process", rate))
    for label, service, rate in allowed:
        note_ = f"from the CPU per message at 8 initiators, {service}"
        figures.append(single(label, "postgresql", rate, "msg/s", digits=1, note=note_))
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ncip_bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="ignored: the demo library")
    parser.add_argument("--messages", type=int, default=400)
    args = parser.parse_args(argv)
    for figure in run(args.messages):
        print(json.dumps(figure.as_dict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
