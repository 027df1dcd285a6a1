"""`illdesk ncip serve --workers N`: several responder processes on one port, one rate count
per partner across them, a worker that dies started again, and a clean stop."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.library.errors import ServiceError
from app.library.runtime import Runtime
from app.ncip.http_server import RateLimiter
from app.ncip.worker_processes import ServeOptions, SharedBuckets, WorkerPool
from db.models import Item
from tests.ncip import initiator as ini

ROOT = Path(__file__).resolve().parents[2]


def _try_ten(buckets: SharedBuckets, admitted: object) -> None:
    limiter = RateLimiter(0.001, 10, buckets=buckets)  # 10 at once, then almost none
    count = sum(limiter.admit("ILLIAD") for _ in range(10))
    with admitted.get_lock():  # type: ignore[attr-defined]
        admitted.value += count  # type: ignore[attr-defined]


def test_the_workers_share_one_rate_count_per_partner() -> None:
    spawn = multiprocessing.get_context("spawn")
    buckets = SharedBuckets.create()
    admitted = spawn.Value("i", 0)
    workers = [spawn.Process(target=_try_ten, args=(buckets, admitted)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert admitted.value == 10  # one burst of 10 between both, not 10 each
    other = RateLimiter(0.001, 10, buckets=buckets)
    assert other.admit("TIPASA")  # another partner has a count of its own


def _children(pid: int) -> list[int]:
    """The service's worker processes (not the standard library's resource tracker)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text(encoding="ascii")
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline:
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(condition: object, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _serve(url: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ILLDESK_PASSWORD", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "--db", url, "ncip", "serve", "--port", str(port),
         "--workers", "2", "--no-daily-jobs", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )  # fmt: skip

    def answering() -> bool:
        assert process.poll() is None, process.communicate()[1].decode()
        try:
            return ini.get(port, "/healthz").status == 200 and len(_children(process.pid)) == 2
        except OSError:
            return False

    _wait_for(answering, "the service did not start")
    return process


def _items(rt: Runtime) -> int:
    with rt.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Item)) or 0)


def _accept_all(port: int, first: int, count: int) -> list[ini.Reply]:
    """`count` AcceptItems from four initiators at once, each on a new connection."""
    replies: list[ini.Reply] = []
    lock = threading.Lock()

    def initiator(numbers: range) -> None:
        for n in numbers:
            reply = ini.post(port, ini.illiad(ini.accept_item(f"{77_000 + n}")))
            with lock:
                replies.append(reply)

    threads = [
        threading.Thread(target=initiator, args=(range(first + i, first + count, 4),))
        for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return replies


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # as deployed
def test_two_workers_answer_on_one_port_survive_a_crash_and_stop_cleanly(
    partners: Runtime,
) -> None:
    before = _items(partners)
    port = ini.free_port()
    process = _serve(partners.db.url, port)
    try:
        replies = _accept_all(port, 1, 24)
        assert len(replies) == 24
        for reply in replies:
            assert reply.status == 200
            assert reply.assert_valid().problem is None, reply.body.decode()
        assert _items(partners) == before + 24
        # the same message again, to whichever worker takes it: the same answer, nothing new
        again = ini.post(port, ini.illiad(ini.accept_item("77001"))).assert_valid()
        assert again.problem is None
        assert _items(partners) == before + 24

        crashed = _children(process.pid)[0]
        os.kill(crashed, signal.SIGKILL)
        _wait_for(
            lambda: crashed not in _children(process.pid) and len(_children(process.pid)) == 2,
            "the worker that died was not started again",
        )
        later = _accept_all(port, 100, 8)
        assert [r.status for r in later] == [200] * 8
        assert all(r.assert_valid().problem is None for r in later)
        workers = _children(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    log = err.decode()
    assert "(2 worker processes)" in log
    assert "worker 1 ended (exit code -9); starting it again" in log or (
        "worker 2 ended (exit code -9); starting it again" in log
    )
    assert "NCIP responder stopped" in log
    assert "Traceback" not in log
    assert not any(_alive(pid) for pid in workers)
    assert _items(partners) == before + 32


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_rate_limit_counts_messages_to_every_worker(partners: Runtime) -> None:
    port = ini.free_port()
    process = _serve(partners.db.url, port, "--rate", "0.5")  # bursts of 1, then one in 2 s
    try:
        started = time.monotonic()
        statuses = [
            ini.post(port, ini.illiad(ini.lookup_user("21000123456"))).status for _ in range(12)
        ]
        elapsed = time.monotonic() - started
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    assert statuses.count(429) >= 12 - (1 + int(elapsed * 0.5) + 1)
    assert statuses[0] == 200


def test_a_worker_that_cannot_take_the_shared_count_counts_on_its_own(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker killed while holding the shared count's lock must not stop the others."""
    buckets = SharedBuckets.create()
    monkeypatch.setattr(SharedBuckets, "LOCK_WAIT", 0.05)
    held, release = threading.Event(), threading.Event()

    def dead_holder() -> None:  # holds the lock as a killed worker would, for good
        lock = buckets._values.get_lock()
        lock.acquire()
        held.set()
        release.wait(30)
        lock.release()

    holder = threading.Thread(target=dead_holder)
    holder.start()
    try:
        assert held.wait(10)
        limiter = RateLimiter(0.001, 2, buckets=buckets)
        assert [limiter.admit("ILLIAD") for _ in range(3)] == [True, True, False]
        assert "shared rate count is stuck" in caplog.text
    finally:
        release.set()
        holder.join(30)


def test_workers_that_cannot_reach_the_database_stop_the_service_with_a_reason(
    capfd: pytest.CaptureFixture[str],
) -> None:
    options = ServeOptions(url="postgresql+psycopg://nobody@127.0.0.1:1/illdesk", port=0)
    pool = WorkerPool(options, 2)
    with pytest.raises(ServiceError, match="could not start") as refused:
        pool.start()
    assert "run with --workers 1" in refused.value.message
    assert pool.listener.fileno() == -1  # the port is free again
    err = capfd.readouterr().err
    assert "stopped: Cannot reach the database" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_workers_stop_when_the_service_process_is_killed(partners: Runtime) -> None:
    port = ini.free_port()
    process = _serve(partners.db.url, port)
    workers = _children(process.pid)
    process.kill()  # no word to the workers: as a kill -9 or a crash would end it
    process.communicate(timeout=60)
    _wait_for(lambda: not any(_alive(pid) for pid in workers), "the workers kept running")
    with pytest.raises(OSError):
        ini.get(port, "/healthz")
