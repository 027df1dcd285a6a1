"""The once-a-day jobs: anonymising old loans, the closures calendar, and the notices run.

Whoever gets there first each library day claims each job (`privacy.run_if_due`,
`daily_run.run_daily_if_due`); the anonymising run also keeps this year's and next year's
public holidays in the closures, so a strap date never lands on a holiday nobody entered.
It sits above the packages it uses: privacy (records), the calendar (borrowing) and the
notices know nothing of each other.

Who runs them depends on the database (`who_runs`). On SQLite, and on PostgreSQL without
staff roles, the desks do, as the staff member signed in (and `illdesk daily run --staff`).
On PostgreSQL with roles (`illdesk db roles`) no desk role may do what they do (change
patrons' loans and the audit trail's patron links, write the settings' bookkeeping): the
long-lived ILL Desk service does, connected as the `<prefix>service` role (`DailyScheduler`
in `illdesk ncip serve`, or `illdesk daily run` from cron), audited as `SERVICE_JOB`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import text

from app.borrowing.due_dates import HOLIDAY_RENEWAL, renew_public_holidays
from app.library.actors import Actor, this_workstation, unattended
from app.library.database_errors import DatabaseError
from app.library.errors import ServiceError
from app.library.progress import Progress, no_progress
from app.library.runtime import Runtime
from app.records import privacy
from app.workstation.config import WorkstationSettings
from db import roles

if TYPE_CHECKING:
    from app.notices.daily_run import OutboxRun

log = logging.getLogger(__name__)

SERVICE_JOB = "daily jobs (service)"  # the audit trail's name for the service's runs
CHECK_EVERY_SECONDS = 60 * 60
FIRST_CHECK_SECONDS = 5.0  # soon after the service starts, once it is answering


class JobRunner(StrEnum):
    """Who runs the daily jobs on the database a runtime is connected to."""

    DESKS = "desks"  # SQLite, or PostgreSQL without roles: the desks, as their staff
    THIS_SERVICE = "this_service"  # PostgreSQL with roles, connected as `<prefix>service`
    SERVICE_ELSEWHERE = "service_elsewhere"  # PostgreSQL with roles, connected as another


def who_runs(rt: Runtime) -> JobRunner:
    """Ask the connection: the login (`session_user`) decides, never a role set later."""
    with rt.db.reading() as session:
        conn = session.connection()
        prefix = roles.installed_prefix(conn)
        if prefix is None:
            return JobRunner.DESKS
        login = conn.execute(text("SELECT session_user")).scalar()
    if login == prefix + roles.SERVICE:
        return JobRunner.THIS_SERVICE
    return JobRunner.SERVICE_ELSEWHERE


def service_role_name(rt: Runtime) -> str:
    """The service role of this database (`<prefix>service`), for messages."""
    database = rt.db.engine.url.database or "illdesk"
    return roles.prefix_for(database) + roles.SERVICE


def service_actor() -> Actor:
    """The actor of the service's unattended runs: its name, not a person, in the trail."""
    return unattended(SERVICE_JOB, this_workstation())


def run_if_due(
    rt: Runtime,
    actor: Actor | None = None,
    *,
    batch: int | None = None,
    keep_going: Callable[[], bool] = lambda: True,
    progress: Progress = no_progress,
) -> privacy.AnonymisationReport | None:
    """Today's anonymising run and holidays, once per library day; None when done already."""
    report = privacy.run_if_due(rt, actor, batch=batch, keep_going=keep_going, progress=progress)
    if report is not None:
        _renew_public_holidays(rt)
    return report


def _renew_public_holidays(rt: Runtime) -> None:
    """A holiday problem (an unknown holiday country) is logged; the rest of the run stands."""
    try:
        renewal = renew_public_holidays(rt, HOLIDAY_RENEWAL)
    except ServiceError as exc:
        log.warning("public holidays not renewed: %s", exc.message)
        return
    if renewal is not None:
        log.info("public holidays: %s", renewal.message)


@dataclass(frozen=True)
class DailyRun:
    """What one check did: each job's report (None: already done today) and what failed."""

    privacy: privacy.AnonymisationReport | None
    notices: OutboxRun | None
    problems: tuple[str, ...]

    @property
    def message(self) -> str:
        parts = [
            f"anonymised {self.privacy.loans} loans" if self.privacy else "",
            f"notices: {self.notices.message}" if self.notices else "",
            *self.problems,
        ]
        said = "; ".join(p for p in parts if p)
        return said or "nothing due: today's daily jobs already ran"


def run_all_if_due(
    rt: Runtime,
    actor: Actor,
    settings: WorkstationSettings,
    *,
    keep_going: Callable[[], bool] = lambda: True,
) -> DailyRun:
    """Both daily jobs, each once per library day; one failing does not stop the other.

    A refusal or a database problem is told in `problems` (and logged), so an unattended
    run says what it could not do instead of dying with it.
    """
    from app.notices import daily_run  # templates and mail load when a run starts

    problems: list[str] = []
    report: privacy.AnonymisationReport | None = None
    notices: OutboxRun | None = None
    try:
        report = run_if_due(rt, actor, keep_going=keep_going)
    except (ServiceError, DatabaseError) as exc:
        problems.append(f"anonymising did not run: {_reason(exc)}")
    if keep_going():
        try:
            notices = daily_run.run_daily_if_due(rt, actor, settings, keep_going=keep_going)
        except (ServiceError, DatabaseError) as exc:
            problems.append(f"the notices run did not run: {_reason(exc)}")
    for problem in problems:
        log.warning("daily jobs: %s", problem)
    return DailyRun(report, notices, tuple(problems))


def _reason(exc: Exception) -> str:
    if isinstance(exc, ServiceError):
        return exc.message
    said = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return said[0] if said else type(exc).__name__


class DailyScheduler:
    """The service's daily jobs on a thread of their own: soon after `start`, then hourly.

    Checking costs a small query or two; the jobs themselves run at most once a library day
    (with desks or a cron job also running them, whoever comes first). `stop` asks a run in
    flight to end after its current batch and waits for it.
    """

    def __init__(
        self,
        rt: Runtime,
        settings: WorkstationSettings,
        *,
        every: float = CHECK_EVERY_SECONDS,
        first_after: float = FIRST_CHECK_SECONDS,
        on_run: Callable[[DailyRun], None] = lambda _run: None,
    ) -> None:
        self.rt, self.settings = rt, settings
        self.every, self.first_after = every, first_after
        self.on_run = on_run
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="illdesk-daily", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        wait = self.first_after
        while not self._stopping.wait(wait):
            wait = self.every
            self.check()

    def check(self) -> DailyRun | None:
        """One check: run what is due. None when this connection may not run the jobs (or
        the database could not be asked); the next hourly check asks again."""
        try:
            runner = who_runs(self.rt)
        except DatabaseError as exc:
            log.warning("daily jobs: the database could not be asked: %s", _reason(exc))
            return None
        if runner is JobRunner.SERVICE_ELSEWHERE:
            log.warning(
                "daily jobs not run: on this database they run as the role %s; give the "
                "service that role's URL (or start it with --no-daily-jobs)",
                service_role_name(self.rt),
            )
            return None
        try:
            run = run_all_if_due(
                self.rt, service_actor(), self.settings, keep_going=self._keep_going
            )
        except Exception:  # a bug must not end the service's daily jobs for good
            log.exception("daily jobs failed")
            return None
        if run.privacy is not None or run.notices is not None or run.problems:
            log.info("daily jobs: %s", run.message)
        self.on_run(run)
        return run

    def _keep_going(self) -> bool:
        return not self._stopping.is_set()
