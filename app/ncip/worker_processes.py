"""Several responder processes on one port, for more messages per second than one can answer.

One Python process runs Python on one core at a time, and a message costs the responder
several milliseconds of it: one process tops out near 120 messages a second whatever
`--threads` says. `illdesk ncip serve --workers N` binds the port once in the service's
process and starts N worker processes that accept on that one socket (the operating system
hands each new connection to a worker that is waiting), so partners keep one address.

- The workers are started with the "spawn" method on every system, so Linux behaves as
  Windows must: each imports the service afresh and opens its own database connections.
  The listening socket travels to them as the standard library passes sockets between
  processes (a duplicated descriptor on Linux, `socket.share` on Windows).
- The per-partner rate limit is one count shared by all workers (`SharedBuckets`, token
  buckets in shared memory under one lock), so `--rate` means the same with any `--workers`.
- The daily jobs run in the service's own process only, never once per worker.
- Stopping (Ctrl+C, SIGTERM from systemd, the Windows service manager) sets one shared
  flag: every worker stops accepting, finishes the messages in hand and exits. A worker
  that dies is started again, and the log says so.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

from app.library.errors import DatabaseUnavailable, ServiceError
from app.ncip.http_server import (
    SHUTDOWN_TIMEOUT,
    LocalBuckets,
    NcipServer,
    RateLimiter,
    freeze_startup_objects,
)
from app.workstation.connection import open_database

log = logging.getLogger("illdesk.ncip")

_SPAWN = multiprocessing.get_context("spawn")
RESTART_PAUSE = 1.0  # seconds before a worker that died is started again
STOP_POLL = 0.2  # seconds between a worker's looks at the service's stop flag
START_TIMEOUT = 120  # seconds the workers get to load and connect


class _Flag(Protocol):
    """A byte in shared memory: set once, read by every process, no lock a dead one could
    leave held (a multiprocessing Event would: its set() waits for every waiter to wake)."""

    value: int


class SharedBuckets:
    """The rate limiter's buckets in shared memory: one count per partner for all workers.

    A small open-addressed table of (key, tokens, since) triples; a partner's key is the
    CRC-32 of its agency id (plus one, so that 0 means an empty slot). Only trusted partners
    reach the limiter, so the table never fills in practice; if it did, a new partner would
    share the bucket of the slot its key points at. The lock is held for microseconds; a
    worker killed while holding it would leave it held for good, so a worker that cannot
    take it within `LOCK_WAIT` counts on its own from then on, and says so in the log.
    """

    SLOTS = 256
    LOCK_WAIT = 0.5  # seconds

    def __init__(self, values: Any) -> None:
        self._values = values  # a synchronized multiprocessing Array('d', SLOTS * 3)
        self._own: LocalBuckets | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"_values": self._values, "_own": None}

    @classmethod
    def create(cls) -> SharedBuckets:
        return cls(_SPAWN.Array("d", cls.SLOTS * 3))

    @contextmanager
    def get_lock(self) -> Iterator[None]:
        if self._own is None:
            lock = self._values.get_lock()
            if lock.acquire(timeout=self.LOCK_WAIT):
                try:
                    yield
                finally:
                    lock.release()
                return
            log.error(
                "the workers' shared rate count is stuck (a worker died holding it); "
                "this worker counts its partners' messages on its own until restarted"
            )
            self._own = LocalBuckets()
        with self._own.get_lock():
            yield

    def _slot(self, agency: str) -> int:
        key = float(zlib.crc32(agency.encode("utf-8")) + 1)
        values = self._values.get_obj()
        home = int(key) % self.SLOTS
        for step in range(self.SLOTS):
            slot = (home + step) % self.SLOTS
            if values[slot * 3] in (key, 0.0):
                values[slot * 3] = key
                return slot
        return home

    def get(self, agency: str) -> tuple[float, float] | None:
        """(tokens, since) of the partner's bucket, or None before its first message; the
        caller holds `get_lock()`."""
        if self._own is not None:
            return self._own.get(agency)
        slot = self._slot(agency)
        values = self._values.get_obj()
        since = values[slot * 3 + 2]
        return None if since == 0.0 else (values[slot * 3 + 1], since)

    def put(self, agency: str, tokens: float, since: float) -> None:
        if self._own is not None:
            self._own.put(agency, tokens, since)
            return
        slot = self._slot(agency)
        values = self._values.get_obj()
        values[slot * 3 + 1], values[slot * 3 + 2] = tokens, since


@dataclass(frozen=True)
class ServeOptions:
    """What `illdesk ncip serve` was asked for, the same in every worker."""

    url: str
    host: str = "127.0.0.1"
    port: int = 8080
    certfile: str | None = None
    keyfile: str | None = None
    threads: int = 8
    rate_per_second: float = 200.0
    burst: int = 400
    proxies: tuple[str, ...] = ()


def listening_socket(host: str, port: int) -> socket.socket:
    """The service's one listening socket, IPv4 or IPv6 as `host` is (port 0: a free one)."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    listener = socket.create_server((host, port), family=family, backlog=1024)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as cheroot's own
    return listener


class TakingTurns(socket.socket):
    """The shared listening socket as a worker holds it: after taking a connection it lets
    the other workers take the next one.

    Connections that arrive together (an ILL system opening its keep-alive connections at
    once) would otherwise mostly go to whichever worker woke first, and stay with it: one
    worker busy, the other idle. A pause of `TURN` after each connection taken is nothing
    beside a message's work.
    """

    TURN = 0.002  # seconds

    @classmethod
    def adopt(cls, listener: socket.socket) -> TakingTurns:
        return cls(listener.family, listener.type, listener.proto, fileno=listener.detach())

    def accept(self) -> tuple[socket.socket, Any]:
        taken = super().accept()
        time.sleep(self.TURN)
        return taken


class WorkerPool:
    """N responder processes answering on one socket; `stop()` ends them all gracefully."""

    def __init__(self, options: ServeOptions, workers: int) -> None:
        self.options = options
        self.workers = max(1, workers)
        self.listener = listening_socket(options.host, options.port)
        self.address: tuple[str, int] = tuple(self.listener.getsockname()[:2])
        self.buckets = SharedBuckets.create()
        self._stopping: _Flag = _SPAWN.RawValue("b", 0)
        self._ready: Any = _SPAWN.RawArray("b", self.workers)  # one flag per worker
        self._processes: list[BaseProcess] = []
        self._stop_lock = threading.Lock()

    def _start_one(self, index: int) -> BaseProcess:
        self._ready[index] = 0
        process = _SPAWN.Process(
            target=run_worker,
            args=(self.options, self.listener, self.buckets, self._stopping, self._ready, index),
            name=f"illdesk-ncip-{index + 1}",
            daemon=False,
        )
        process.start()
        return process

    def start(self) -> None:
        """Start the workers and return once every one of them answers; if one cannot start
        (its reason is in the log), stop the others and refuse."""
        self._processes = [self._start_one(i) for i in range(self.workers)]
        deadline = time.monotonic() + START_TIMEOUT
        while not all(self._ready):
            if self._stopping.value:
                return  # asked to stop while the workers were loading
            ended = [p for p in self._processes if not p.is_alive()]
            if ended or time.monotonic() > deadline:
                self.stop()
                raise ServiceError(
                    f"{len(ended) or 'A'} worker process(es) could not start "
                    f"{'(see the log above)' if ended else f'within {START_TIMEOUT} s'}; "
                    "the service did not start. Check the database URL and that the "
                    "database answers, or run with --workers 1."
                )
            time.sleep(0.05)

    def watch(self, stop_requested: threading.Event) -> None:
        """Until the service is asked to stop (or a worker was, by a signal of its own):
        start again any worker that died (a crash, an out-of-memory kill)."""
        while not stop_requested.wait(RESTART_PAUSE) and not self._stopping.value:
            for index, process in enumerate(self._processes):
                if not process.is_alive():
                    log.error(
                        "worker %d ended (exit code %s); starting it again",
                        index + 1,
                        process.exitcode,
                    )
                    self._processes[index] = self._start_one(index)

    def stop(self) -> None:
        """Every worker stops accepting, finishes the messages in hand and exits."""
        with self._stop_lock:  # asked by a signal and by the end of `watch`: once is enough
            if self.listener.fileno() == -1:
                return
            self._stop_all()

    def _stop_all(self) -> None:
        self._stopping.value = 1
        deadline = time.monotonic() + SHUTDOWN_TIMEOUT + 5
        for process in self._processes:
            process.join(max(0.1, deadline - time.monotonic()))
        for process in self._processes:
            if process.is_alive():
                log.warning("%s did not finish in time; ended", process.name)
                process.terminate()
                process.join(5)
        self.listener.close()


def log_to_stderr(*loggers: logging.Logger) -> None:
    """The service's log lines on standard error (the journal under systemd), in the
    service's process and in each worker alike."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    for logger in loggers or (log,):
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def run_worker(
    options: ServeOptions,
    listener: socket.socket,
    buckets: SharedBuckets,
    stopping: _Flag,
    ready: Any,
    index: int,
) -> None:
    """One worker process: answer on the shared socket until the service stops. What
    stops it early is logged in a line and ends the process with exit code 1 (never a
    traceback)."""
    log_to_stderr()
    try:
        _answer(options, listener, buckets, stopping, ready, index)
    except Exception as error:
        if isinstance(error, ServiceError):
            message = error.message
        elif isinstance(error, DatabaseUnavailable):  # says where, never the password
            message = str(error).splitlines()[0]
        else:
            message = type(error).__name__
        log.error("worker %d stopped: %s", index + 1, message)
        sys.exit(1)


def _answer(
    options: ServeOptions,
    listener: socket.socket,
    buckets: SharedBuckets,
    stopping: _Flag,
    ready: Any,
    index: int,
) -> None:
    from app.library.runtime import Runtime

    rt = Runtime(open_database(options.url, upgrade_embedded=False))
    limiter = RateLimiter(options.rate_per_second, options.burst, buckets=buckets)
    server = NcipServer(
        rt,
        certfile=options.certfile,
        keyfile=options.keyfile,
        threads=options.threads,
        limiter=limiter,
        proxies=options.proxies,
        listener=TakingTurns.adopt(listener),
    )
    server.start()
    freeze_startup_objects()
    ready[index] = 1

    service = multiprocessing.parent_process()

    def stop_when_asked() -> None:
        # the service's process may also be gone without a word (killed): then stop too
        while not stopping.value and (service is None or service.is_alive()):
            time.sleep(STOP_POLL)
        server.stop()

    # the service's own process decides when to stop; a signal sent to the whole group
    # (Ctrl+C in a console, systemd's SIGTERM to the service's processes) is passed to it
    for name in ("SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, lambda _s, _f: setattr(stopping, "value", 1))
    threading.Thread(target=stop_when_asked, daemon=True, name="stop-when-asked").start()
    try:
        server.serve()
    finally:
        server.stop()
        rt.db.engine.dispose()
