"""The long-lived service (`illdesk ncip serve`) runs the once-a-day jobs on a thread."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app import daily
from app.cli.main import parse
from app.library import library_settings
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from app.workstation.config import WorkstationSettings
from db import roles
from db.engine import Database
from db.models import Loan
from tests.ncip import initiator as ini
from tests.records.test_privacy import _return_a_loan

ON_POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


@contextmanager
def connected_as(rt: Runtime, role: str) -> Iterator[Runtime]:
    prefix = roles.prefix_for(str(rt.db.engine.url.database))
    own = Runtime(Database(roles.login_url(rt.db.url, prefix + role, None)), rt.clock)
    try:
        yield own
    finally:
        own.db.dispose()


def _patron_of(rt: Runtime, loan_id: int) -> int | None:
    with rt.db.reading() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        return loan.patron_id


@ON_POSTGRESQL
def test_the_scheduler_runs_the_days_jobs_soon_after_start_as_the_service(
    demo_rt: Runtime, clock: FixedClock
) -> None:
    loan_id = _return_a_loan(demo_rt, clock).loan_id
    clock.advance(days=30)
    runs: list[daily.DailyRun] = []
    done = threading.Event()

    def ran(run: daily.DailyRun) -> None:
        runs.append(run)
        done.set()

    with connected_as(demo_rt, roles.SERVICE) as service:
        jobs = daily.DailyScheduler(service, WorkstationSettings(), first_after=0, on_run=ran)
        jobs.start()
        try:
            assert done.wait(30), "the first check did not come"
        finally:
            jobs.stop(timeout=30)
        assert not jobs._thread.is_alive()
        assert jobs.check() is not None  # checked again: nothing left to do today
    assert runs[0].problems == ()
    assert runs[0].privacy is not None and runs[0].privacy.loans == 1
    assert runs[0].notices is not None
    assert _patron_of(demo_rt, loan_id) is None


@ON_POSTGRESQL
def test_a_service_connected_as_another_role_says_so_and_does_nothing(
    demo_rt: Runtime, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    loan_id = _return_a_loan(demo_rt, clock).loan_id
    clock.advance(days=30)
    with connected_as(demo_rt, roles.STAFF_MARK + "desk") as desk:
        jobs = daily.DailyScheduler(desk, WorkstationSettings())
        with caplog.at_level(logging.WARNING, logger=daily.__name__):
            assert jobs.check() is None
    prefix = roles.prefix_for(str(demo_rt.db.engine.url.database))
    assert f"run as the role {prefix}{roles.SERVICE}" in caplog.text
    assert _patron_of(demo_rt, loan_id) is not None
    with demo_rt.db.reading() as session:
        assert library_settings.load(session).privacy_last_run == ""


def test_no_daily_jobs_turns_the_scheduler_off() -> None:
    assert parse(["ncip", "serve"]).daily_jobs is True
    assert parse(["ncip", "serve", "--no-daily-jobs"]).daily_jobs is False


@ON_POSTGRESQL
@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_with_the_service_roles_url_runs_the_daily_jobs(
    demo_rt: Runtime, workers: str
) -> None:
    loan_id = _return_a_loan(demo_rt, FixedClock(datetime(2020, 1, 6, tzinfo=UTC))).loan_id
    prefix = roles.prefix_for(str(demo_rt.db.engine.url.database))
    url = roles.login_url(demo_rt.db.url, prefix + roles.SERVICE, None)
    port = ini.free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("ILLDESK_PASSWORD", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "--db", url, "ncip", "serve", "--port", str(port),
         "--workers", workers],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while _patron_of(demo_rt, loan_id) is not None:
            assert process.poll() is None, "the service stopped"
            assert time.monotonic() < deadline, "the daily jobs did not run"
            time.sleep(0.2)
        assert ini.get(port, "/healthz").status == 200  # and it answers NCIP meanwhile
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode()
    assert err.decode().count("daily jobs: anonymised 1 loans") == 1  # by the service only
