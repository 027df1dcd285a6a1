"""Commands to set up a library: schema, demo data, imports, branches, staff."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app import demo
from app.borrowing import imports
from app.cli import privacy_commands
from app.cli.context import CliContext
from app.cli.progress_bar import terminal_progress
from app.library.actors import Actor, this_workstation, unattended
from app.library.branches import list_branches
from app.library.errors import InvalidInput, PermissionDenied
from app.people.staff import add_staff, list_staff, parse_role, sign_in_facts
from app.workstation import connection
from app.workstation.config import choose_database

EXIT_OK, EXIT_REFUSED = 0, 1


def register(sub: Any) -> None:
    db_parser = sub.add_parser("db", help="database schema: upgrade or show the current version")
    db_sub = db_parser.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="upgrade the schema to this version (an admin step)")
    db_sub.add_parser("current", help="show the schema version and the version this code needs")
    db_sub.add_parser(
        "roles", help="PostgreSQL roles, grants and audit triggers (the owner runs it)"
    )
    db_parser.set_defaults(handler=_db)

    demo_parser = sub.add_parser("demo", help="load the demo library into an empty database")
    demo_parser.add_argument(
        "--reset", action="store_true", help="replace an existing demo database (never real data)"
    )
    _acting(demo_parser, "an administrator; not needed while the database has no staff")
    demo_parser.set_defaults(handler=_demo)

    import_parser = sub.add_parser("import", help="import patrons or requests from CSV")
    import_parser.add_argument("what", choices=("patrons", "requests"))
    import_parser.add_argument("file", type=Path)
    import_parser.add_argument(
        "--strict", action="store_true", help="import nothing when any row is bad"
    )
    _acting(import_parser, "your staff username (recorded in the audit trail)", required=True)
    import_parser.set_defaults(handler=_import)

    branches_parser = sub.add_parser("branches", help="list branches")
    branches_parser.set_defaults(handler=_branches)

    staff_parser = sub.add_parser("staff", help="add or list staff accounts")
    staff_sub = staff_parser.add_subparsers(dest="staff_command", required=True)
    add = staff_sub.add_parser("add", help="create a staff account")
    add.add_argument("username")
    add.add_argument("--name", required=True, help='full name, e.g. "Dana Desk"')
    add.add_argument("--role", required=True, help="desk, ctl, ill_office or admin")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    _acting(add, "an administrator; not needed for the first account of an empty database")
    _acting(staff_sub.add_parser("list", help="list staff accounts"), "an administrator", True)
    privacy_commands.register_staff(staff_sub)
    staff_parser.set_defaults(handler=_staff)


def _acting(
    parser: argparse.ArgumentParser, who: str, required: bool = False
) -> argparse.ArgumentParser:
    parser.add_argument("--staff", required=required, metavar="USERNAME", help=who)
    parser.add_argument(
        "--branch", default=None, help="the branch you work at (default: the ILL office's)"
    )
    return parser


def _db(ctx: CliContext) -> int:
    choice = choose_database(ctx.args.db)
    if ctx.args.db_command == "roles":
        done = connection.install_roles(choice.url)
        ctx.emit(
            {"database": done.database, "prefix": done.prefix, "roles": list(done.roles)},
            f"Roles set up in {done.database} (prefix {done.prefix}): {', '.join(done.roles)}",
        )
    elif ctx.args.db_command == "upgrade":
        after, before = connection.upgrade_schema(choice.url)
        ctx.emit(
            {"database": after.database, "before": before, "current": after.current},
            f"Upgraded {after.database}: {before or 'empty'} -> {after.current}",
        )
    else:
        version = connection.schema_version(choice.url)
        ctx.emit(
            {
                "database": version.database,
                "current": version.current,
                "head": version.head,
                "up_to_date": version.up_to_date,
            },
            f"{version.database}: schema {version.current or 'none'} "
            f"(this version needs {version.head})",
        )
    return EXIT_OK


def _demo(ctx: CliContext) -> int:
    actor = _setting_up(ctx, "the demo library")
    summary = demo.load_demo(ctx.runtime(), actor, reset=ctx.args.reset)
    ctx.emit(
        summary,
        f"Demo library loaded: {summary.branches} branches, {summary.staff} staff, "
        f"{summary.patrons} patrons, {summary.requests} requests, "
        f"{summary.items} items. Staff password: {demo.DEMO_PASSWORD}",
    )
    return EXIT_OK


def _import(ctx: CliContext) -> int:
    text = imports.read_csv(ctx.args.file)
    run = imports.import_patrons if ctx.args.what == "patrons" else imports.import_requests
    actor = ctx.actor()
    with terminal_progress(f"Importing {ctx.args.what}", ctx.err, quiet=ctx.json) as progress:
        report = run(ctx.runtime(), actor, text, strict=ctx.args.strict, progress=progress)
    for error in report.errors:
        ctx.emit(
            {"line": error.line, "error": error.message}, f"line {error.line}: {error.message}"
        )
    summary = {
        "inserted": report.inserted,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "bad_rows": len(report.errors),
        "committed": report.committed,
    }
    if report.committed:
        text_summary = (
            f"Imported {ctx.args.what}: {report.inserted} new, {report.updated} "
            f"updated, {report.unchanged} unchanged, {len(report.errors)} bad rows "
            "skipped."
        )
    else:
        text_summary = (
            f"Nothing imported: {len(report.errors)} bad rows and --strict. "
            "Fix the rows listed above and import again."
        )
    ctx.emit(summary, text_summary)
    return EXIT_OK if report.ok else EXIT_REFUSED


def _branches(ctx: CliContext) -> int:
    for branch in list_branches(ctx.runtime(), ctx.reader()):
        flags = [
            f for f, on in (("virtual", branch.virtual), ("ILL office", branch.ill_office)) if on
        ]
        where = f" at {branch.location}" if branch.location else ""
        ctx.emit(
            branch,
            f"{branch.code:8} {branch.name}{where}" + (f"  ({', '.join(flags)})" if flags else ""),
        )
    return EXIT_OK


def _staff(ctx: CliContext) -> int:
    if ctx.args.staff_command == "list":
        for staff in list_staff(ctx.runtime(), ctx.actor()):
            ctx.emit(
                staff,
                f"{staff.username:16} {staff.role:11} {staff.full_name}"
                + ("" if staff.active else "  (deactivated)"),
            )
        return EXIT_OK
    # The first administrator of an empty database is added without --staff (nobody could
    # sign in yet); `add_staff` refuses that once any account exists.
    actor = ctx.actor() if ctx.has_staff() else None
    password = None
    if ctx.args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InvalidInput("No password arrived on standard input.")
    info = add_staff(
        ctx.runtime(), actor, ctx.args.username, ctx.args.name, parse_role(ctx.args.role), password
    )
    ctx.emit(
        info,
        f"Added {info.username} ({info.role})."
        + ("" if password else " No password set: use --password-stdin."),
    )
    return EXIT_OK


def _setting_up(ctx: CliContext, what: str) -> Actor:
    """`--staff` signed in; without it, set-up work on a database nobody can sign in to yet."""
    if ctx.has_staff():
        return ctx.maintenance_actor()
    if sign_in_facts(ctx.runtime()).staff_count:
        raise PermissionDenied(
            f"This database has staff accounts: loading {what} needs --staff USERNAME "
            "(an administrator) and their password. Nothing was done.",
            code="staff_needed",
        )
    return unattended("first-time set-up", this_workstation())


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options every command accepts, before or after the command name."""
    parser.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL (else ILLDESK_DATABASE_URL, settings, embedded file)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print one JSON object per result, one per line",
    )
