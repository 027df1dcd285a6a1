"""`illdesk daily run`: unattended only as the service role; elsewhere --staff, as before."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.cli.main import parse, run
from app.library import library_settings
from app.library.clock import FixedClock
from app.library.runtime import Runtime
from db import roles
from db.models import AuditEvent, Loan
from tests.records.test_privacy import _return_a_loan

ON_POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
ON_SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def cli(*argv: str) -> tuple[int, list[dict[str, object]], str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(list(argv)), out, err)
    rows = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    return code, rows, err.getvalue()


def _long_returned_loan(rt: Runtime) -> int:
    """A loan that came back in 2020: past any retention by now."""
    return _return_a_loan(rt, FixedClock(datetime(2020, 1, 6, 12, 0, tzinfo=UTC))).loan_id


def _patron_of(rt: Runtime, loan_id: int) -> int | None:
    with rt.db.reading() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        return loan.patron_id


def _run_by(rt: Runtime) -> list[str]:
    with rt.db.reading() as session:
        return list(
            session.scalars(
                select(AuditEvent.username).where(AuditEvent.action == "privacy.anonymise")
            )
        )


def _service_url(database_url: str) -> str:
    prefix = roles.prefix_for(database_url.rsplit("/", 1)[-1].split("?")[0])
    return roles.login_url(database_url, prefix + roles.SERVICE, None)


@ON_POSTGRESQL
def test_the_service_role_runs_the_daily_jobs_without_staff_once_a_day(
    demo_rt: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ILLDESK_PASSWORD")  # nobody's password is needed, or asked for
    loan_id = _long_returned_loan(demo_rt)
    service = _service_url(database_url)
    code, rows, err = cli("--db", service, "--json", "daily", "run")
    assert code == 0, err
    assert [(r["job"], r["ran"]) for r in rows] == [("privacy", True), ("notices", True)]
    assert rows[0]["loans"] == 1
    assert _patron_of(demo_rt, loan_id) is None
    prefix = roles.prefix_for(str(demo_rt.db.engine.url.database))
    assert _run_by(demo_rt) == [prefix + roles.SERVICE]  # the database names the service

    code, rows, _ = cli("--db", service, "--json", "daily", "run")
    assert code == 0 and [r["ran"] for r in rows] == [False, False]


@ON_POSTGRESQL
def test_any_other_connection_to_a_database_with_roles_is_refused(
    demo_rt: Runtime, database_url: str
) -> None:
    loan_id = _long_returned_loan(demo_rt)
    code, rows, err = cli("--db", database_url, "--json", "daily", "run")
    assert code == 1 and rows[0]["error"] == "service_role_needed"
    prefix = roles.prefix_for(str(demo_rt.db.engine.url.database))
    assert prefix + roles.SERVICE in err and "Traceback" not in err
    # A staff member signed in (their password checked) is no way round it either.
    code, rows, err = cli("--db", database_url, "--json", "daily", "run", "--staff", "admin")
    assert code == 1 and rows[0]["error"] == "service_role_needed"
    assert _patron_of(demo_rt, loan_id) is not None
    with demo_rt.db.reading() as session:
        assert library_settings.load(session).privacy_last_run == ""


@ON_SQLITE
def test_without_roles_the_daily_run_needs_a_staff_member_as_before(
    demo_rt: Runtime, database_url: str
) -> None:
    loan_id = _long_returned_loan(demo_rt)
    code, rows, err = cli("--db", database_url, "--json", "daily", "run")
    assert code == 1 and rows[0]["error"] == "staff_needed" and "--staff" in err
    assert _patron_of(demo_rt, loan_id) is not None
    code, rows, err = cli("--db", database_url, "--json", "daily", "run", "--staff", "office")
    assert code == 0, err
    assert rows[0] == {"job": "privacy", "ran": True, "loans": 1, "audit_events": 0}
    assert _patron_of(demo_rt, loan_id) is None
    assert _run_by(demo_rt) == ["office"]
