"""`illdesk daily run`: the once-a-day jobs, for cron or the Windows Task Scheduler.

It runs what is due today (anonymising and the public holidays, then the notices run), as
`illdesk ncip serve` does hourly. Who it runs as follows the database:

- PostgreSQL with staff roles, connected as the `<prefix>service` role (its URL, with the
  password IT set): no --staff; it runs as the service, audited as "daily jobs (service)"
  and stamped by the database with the service role. This is the one command that acts
  without a person signing in, and only there: the connection can do no more than the
  service role's grants allow (circulation, notices, anonymising, its own bookkeeping in
  the settings), so leaving out --staff opens nothing the URL's holder could not do anyway.
- PostgreSQL with roles, connected as anyone else: refused (a desk role may not do these
  jobs, and the owner's URL is for upgrades). With --staff the staff member is signed in
  first (a wrong password counts as at the window), then refused the same way.
- SQLite, or PostgreSQL without roles: --staff with their password, as before.
"""

from __future__ import annotations

from typing import Any

from app import daily
from app.cli.context import CliContext
from app.library.actors import Actor
from app.library.errors import PermissionDenied
from app.workstation.config import load_settings

EXIT_OK, EXIT_REFUSED = 0, 1


def register(sub: Any) -> None:
    parser = sub.add_parser("daily", help="the once-a-day jobs: anonymising, holidays, notices")
    commands = parser.add_subparsers(dest="daily_command", metavar="ACTION", required=True)
    run = commands.add_parser(
        "run",
        help="run today's daily jobs if no one has yet (for cron or the Task Scheduler)",
        description="Anonymise loans past retention, fill in the public holidays, then queue "
        "and send the day's notices; each at most once a library day. On PostgreSQL with "
        "staff roles it runs with the service role's URL and no --staff; elsewhere it needs "
        "--staff.",
    )
    run.add_argument(
        "--staff",
        default=None,
        metavar="USERNAME",
        help="who is acting (not with the service role's URL on PostgreSQL with roles)",
    )
    run.add_argument("--branch", default=None, help="branch code (default: the ILL office's)")
    run.set_defaults(handler=_run)


def _acting(ctx: CliContext) -> Actor:
    """The staff member when --staff is given (signed in first), else the service."""
    rt = ctx.runtime()
    actor = ctx.actor() if ctx.has_staff() else None
    runner = daily.who_runs(rt)
    if runner is daily.JobRunner.THIS_SERVICE:
        return daily.service_actor()
    if runner is daily.JobRunner.SERVICE_ELSEWHERE:
        raise PermissionDenied(
            "On this database the daily jobs run as the ILL Desk service, connected as the "
            f"role {daily.service_role_name(rt)}: run this command with that role's URL "
            "(--db or ILLDESK_DATABASE_URL) and without --staff. Nothing was done.",
            code="service_role_needed",
        )
    if actor is None:
        raise PermissionDenied(
            "This command needs --staff USERNAME on this database (only the service role of a "
            "PostgreSQL database with staff roles runs it unattended). Nothing was done.",
            code="staff_needed",
        )
    return actor


def _run(ctx: CliContext) -> int:
    actor = _acting(ctx)
    result = daily.run_all_if_due(ctx.runtime(), actor, load_settings())
    report, notices = result.privacy, result.notices
    ctx.emit(
        {
            "job": "privacy",
            "ran": report is not None,
            "loans": report.loans if report else 0,
            "audit_events": report.audit_events if report else 0,
        },
        f"Anonymising: {report.loans} loans anonymised."
        if report
        else "Anonymising: already ran today.",
    )
    ctx.emit(
        {
            "job": "notices",
            "ran": notices is not None,
            "queued_due_soon": notices.queued_due_soon if notices else 0,
            "queued_overdue": notices.queued_overdue if notices else 0,
            "sent": notices.sent if notices else 0,
            "failed": notices.failed if notices else 0,
            "mail_problem": notices.mail_problem if notices else "",
        },
        f"Notices: {notices.message}" if notices else "Notices: already ran today.",
    )
    for problem in result.problems:
        ctx.emit({"error": "job_failed", "message": problem}, f"Not done: {problem}")
    return EXIT_REFUSED if result.problems else EXIT_OK
