"""The daily jobs run as the `<prefix>service` role, and a desk's role is refused them.

Each test connects as a real login role of the test database (this machine's server trusts
local connections, as tests/people/test_database_roles.py does) and runs the job through
the services, exactly as the ILL Desk service and `illdesk daily run` do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from app import daily
from app.borrowing.due_dates import renew_public_holidays
from app.library import library_settings
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from app.notices import daily_run
from app.notices.mailer import OutgoingMail
from app.records import privacy
from app.workstation.config import WorkstationSettings
from db import roles, server_functions
from db.engine import Database
from db.models import AuditEvent, Closure, Loan, Notice, NoticeStatus
from tests.records.test_privacy import _flag, _loan_history, _return_a_loan

ON_POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
DESK = roles.STAFF_MARK + "desk"


@contextmanager
def connected_as(rt: Runtime, role: str) -> Iterator[Runtime]:
    """A runtime on the same database and clock, logged in as `<prefix><role>`."""
    prefix = roles.prefix_for(str(rt.db.engine.url.database))
    own = Runtime(Database(roles.login_url(rt.db.url, prefix + role, None)), rt.clock)
    try:
        yield own
    finally:
        own.db.dispose()


def refused(exc: pytest.ExceptionInfo[DBAPIError]) -> bool:
    return isinstance(exc.value.orig, errors.InsufficientPrivilege)


class Outbox:
    """A mail server stand-in that keeps what it is given (the database is real)."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail) -> None:
        self.sent.append(mail)


def _patron_events(rt: Runtime, patron_id: int) -> int:
    with rt.db.reading() as session:
        return len(
            session.scalars(select(AuditEvent).where(AuditEvent.patron_id == patron_id)).all()
        )


@ON_POSTGRESQL
def test_the_service_role_anonymises_and_a_desk_role_is_refused(
    demo_rt: Runtime, clock: FixedClock
) -> None:
    returned = _return_a_loan(demo_rt, clock)
    _loan_history(demo_rt, returned, clock)
    _flag(demo_rt, returned, clock, cleared=True)  # its notes name the patron
    clock.advance(days=31)
    events_before = _patron_events(demo_rt, returned.patron_id)
    assert events_before > 0
    with connected_as(demo_rt, DESK) as desk, pytest.raises(DBAPIError) as desk_try:
        daily.run_if_due(desk, daily.service_actor())
    assert refused(desk_try)
    with connected_as(demo_rt, DESK) as desk, pytest.raises(DBAPIError) as desk_try:
        privacy.anonymise_closed_loans(desk)  # even without the day's bookkeeping
    assert refused(desk_try)
    with demo_rt.db.reading() as session:
        loan = session.get(Loan, returned.loan_id)
        assert loan is not None and loan.patron_id == returned.patron_id  # nothing done

    with connected_as(demo_rt, roles.SERVICE) as service:
        assert daily.who_runs(service) is daily.JobRunner.THIS_SERVICE
        report = daily.run_if_due(service, daily.service_actor())
    assert report is not None and report.loans == 1
    assert report.audit_events > 0
    assert report.missing_piece_notes == 1  # the service role may rewrite those notes
    with demo_rt.db.reading() as session:
        loan = session.get(Loan, returned.loan_id)
        assert loan is not None and loan.patron_id is None
        assert library_settings.load(session).privacy_last_run == clock.today().isoformat()
        run_event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "privacy.anonymise")
        ).one()
    prefix = roles.prefix_for(str(demo_rt.db.engine.url.database))
    assert run_event.username == prefix + roles.SERVICE  # the database names the service
    assert _patron_events(demo_rt, returned.patron_id) == events_before - report.audit_events


@ON_POSTGRESQL
def test_the_service_role_renews_the_public_holidays_and_a_desk_role_is_refused(
    demo_rt: Runtime,
) -> None:
    with demo_rt.db.transaction() as session:  # as if this year's were never filled
        session.execute(Closure.__table__.delete())
        library_settings.save(session, public_holidays_through=0, public_holidays_for="")
    with connected_as(demo_rt, DESK) as desk, pytest.raises(DBAPIError) as desk_try:
        renew_public_holidays(desk, daily.service_actor())
    assert refused(desk_try)
    with connected_as(demo_rt, roles.SERVICE) as service:
        renewal = renew_public_holidays(service, daily.service_actor())
    assert renewal is not None and renewal.added
    with demo_rt.db.reading() as session:
        assert len(session.scalars(select(Closure)).all()) == len(renewal.added)
        settings = library_settings.load(session)
        assert settings.public_holidays_through == demo_rt.clock.today().year + 1


@ON_POSTGRESQL
def test_the_service_role_runs_the_notices_and_sends_the_outbox_and_a_desk_role_cannot(
    demo_rt: Runtime,
) -> None:
    with connected_as(demo_rt, DESK) as desk, pytest.raises(DBAPIError) as desk_try:
        daily_run.run_daily_if_due(desk, daily.service_actor(), WorkstationSettings())
    assert refused(desk_try)  # the day's bookkeeping is not a desk's to write
    with demo_rt.db.reading() as session:
        assert library_settings.load(session).notices_last_run != demo_rt.clock.today().isoformat()

    mail = Outbox()
    with connected_as(demo_rt, roles.SERVICE) as service:
        run = daily_run.run_outbox(
            service, daily.service_actor(), mail, sender_domain="example.edu"
        )
        assert not daily_run.daily_run_due(service, daily.service_actor())
    # (The desk's attempt may have queued reminders, which a desk may do for its own
    # notices; the dedupe keys keep them from being queued twice.)
    assert run.sent == len(mail.sent) >= 1 and run.waiting == 0
    with demo_rt.db.reading() as session:
        sent = session.scalars(select(Notice).where(Notice.status == NoticeStatus.SENT)).all()
    assert len(sent) == run.sent


@ON_POSTGRESQL
def test_all_the_daily_jobs_run_in_one_check_as_the_service(
    demo_rt: Runtime, clock: FixedClock
) -> None:
    returned = _return_a_loan(demo_rt, clock)
    clock.advance(days=30)
    with connected_as(demo_rt, roles.SERVICE) as service:
        run = daily.run_all_if_due(service, daily.service_actor(), WorkstationSettings())
        again = daily.run_all_if_due(service, daily.service_actor(), WorkstationSettings())
    assert run.problems == ()
    assert run.privacy is not None and run.privacy.loans == 1
    assert run.notices is not None and run.notices.queued_overdue >= 1
    assert (again.privacy, again.notices, again.problems) == (None, None, ())
    with demo_rt.db.reading() as session:
        loan = session.get(Loan, returned.loan_id)
        assert loan is not None and loan.patron_id is None


@ON_POSTGRESQL
def test_a_desk_role_running_all_the_daily_jobs_is_told_each_was_refused(
    demo_rt: Runtime, clock: FixedClock
) -> None:
    _return_a_loan(demo_rt, clock)
    clock.advance(days=30)
    with connected_as(demo_rt, DESK) as desk:
        assert daily.who_runs(desk) is daily.JobRunner.SERVICE_ELSEWHERE
        run = daily.run_all_if_due(desk, daily.service_actor(), WorkstationSettings())
    assert (run.privacy, run.notices) == (None, None)
    assert len(run.problems) == 2 and all("permission denied" in p for p in run.problems)


def _service_sql(rt: Runtime) -> psycopg.Connection:
    url = rt.db.engine.url
    prefix = roles.prefix_for(str(url.database))
    return psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        dbname=url.database,
        user=prefix + roles.SERVICE,
        autocommit=True,
    )


@ON_POSTGRESQL
def test_the_service_role_may_not_touch_staff_the_trail_or_other_settings(
    demo_rt: Runtime, clock: FixedClock
) -> None:
    returned = _return_a_loan(demo_rt, clock)
    _loan_history(demo_rt, returned, clock)
    with _service_sql(demo_rt) as service:
        for statement in (
            "UPDATE staff SET active = false",
            "UPDATE staff SET password_hash = 'x' WHERE username = 'admin'",
            "INSERT INTO staff (username, full_name, role, active) "
            "VALUES ('x', 'x', 'admin', true)",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
            "UPDATE audit_events SET username = 'nobody'",
            "UPDATE audit_events SET at = now()",
            "UPDATE charges SET amount = 0",
            "UPDATE ncip_partners SET active = true",
            "DELETE FROM closures",
            "INSERT INTO library_settings (key, value, updated_at) "
            "VALUES ('retention_days', '3650', now())",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                service.execute(statement)
        # Another setting's row is out of its reach (row-level security): nothing changes.
        changed = service.execute(
            "UPDATE library_settings SET value = '3650' WHERE key NOT IN "
            "('notices_last_run', 'privacy_last_run', 'public_holidays_through', "
            "'public_holidays_for')"
        )
        assert changed.rowcount == 0
        # An event may lose its patron (anonymising), never say something else.
        row = service.execute(
            "SELECT id FROM audit_events WHERE patron_id = %s LIMIT 1", (returned.patron_id,)
        ).fetchone()
        assert row is not None
        for statement in (
            "UPDATE audit_events SET detail = 'nothing happened' WHERE id = %s",
            "UPDATE audit_events SET after = '{\"amount\": 0}' WHERE id = %s",
            "UPDATE audit_events SET patron_id = patron_id + 1 WHERE id = %s",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                service.execute(statement, (row[0],))
        service.execute("UPDATE audit_events SET patron_id = NULL WHERE id = %s", (row[0],))
        with pytest.raises(errors.InsufficientPrivilege):  # a forgotten patron stays gone
            service.execute("UPDATE audit_events SET patron_id = 1 WHERE id = %s", (row[0],))


def test_the_trigger_replaces_the_patron_as_the_application_does() -> None:
    assert server_functions.PATRON_SHOWN_AS == privacy.PATRON_SHOWN_AS
