"""What a PostgreSQL database's server processes and a PgBouncer spend while a benchmark runs:
the server connections of the database and their CPU, read from pg_stat_activity and /proc
(Linux) a few times a second, and the server connections PgBouncer holds for it, read from
its console (`SHOW POOLS`)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Engine

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


class ServerWatch:
    """Samples the database's server connections and the CPU of its server processes and
    of PgBouncer. A process that ends between two samples loses at most one interval."""

    def __init__(
        self,
        admin: Engine,
        database: str,
        pgbouncer_pid: int | None,
        pgbouncer_port: int | None = None,
    ) -> None:
        self.admin, self.database, self.pgbouncer_pid = admin, database, pgbouncer_pid
        self.connections: list[int] = []
        # What PgBouncer holds, by its own count: pg_stat_activity also lists a process
        # PgBouncer has just closed (to make room for another pool) until it has exited.
        self.bouncer_connections: list[int] = []
        self._console = (
            psycopg.connect(
                host="127.0.0.1",
                port=pgbouncer_port,
                dbname="pgbouncer",
                user=admin.url.username or "postgres",
                autocommit=True,
                cursor_factory=psycopg.ClientCursor,  # the console speaks simple queries only
            )
            if pgbouncer_port
            else None
        )
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="server-watch", daemon=True)
        self._bouncer_start = cpu_seconds(pgbouncer_pid) if pgbouncer_pid else None
        self.bouncer_cpu = 0.0

    def _pids(self) -> list[int]:
        with self.admin.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = :d "
                        "AND backend_type = 'client backend'"
                    ),
                    {"d": self.database},
                ).scalars()
            )

    def _held_by_pgbouncer(self) -> int:
        assert self._console is not None
        cursor = self._console.execute("SHOW POOLS")
        names = [column.name for column in cursor.description or ()]
        held = ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login")
        total = 0
        for row in cursor.fetchall():
            pool = dict(zip(names, row, strict=True))
            if pool["database"] == self.database:
                total += sum(int(pool[name]) for name in held)
        return total

    def sample(self) -> None:
        pids = self._pids()
        self.connections.append(len(pids))
        if self._console is not None:
            self.bouncer_connections.append(self._held_by_pgbouncer())
        for pid in pids:
            cpu = cpu_seconds(pid)
            if cpu is None:
                continue
            self._first.setdefault(pid, cpu if self._started else 0.0)
            self._last[pid] = cpu

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.sample()

    def __enter__(self) -> ServerWatch:
        self._started = False
        self.sample()  # processes already there count from now
        self._started = True
        self.connections.clear()
        self.bouncer_connections.clear()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._console is not None:
            self._console.close()
        if self.pgbouncer_pid and self._bouncer_start is not None:
            end = cpu_seconds(self.pgbouncer_pid)
            self.bouncer_cpu = (end or self._bouncer_start) - self._bouncer_start

    @property
    def server_cpu(self) -> float:
        return sum(self._last[p] - self._first[p] for p in self._last)


def pgbouncer_pid(port: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"pgbouncer"):
            ini = argv[-2] if argv[-1] == b"" else argv[-1]
            try:
                if f"listen_port = {port}\n" in Path(ini.decode()).read_text():
                    return int(entry.name)
            except OSError:
                continue
    return None
