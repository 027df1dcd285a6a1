"""Commands for privacy and accountability: anonymising, the audit trail, staff administration."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from app.cli.context import CliContext
from app.cli.patron_reads import shown_patrons
from app.cli.progress_bar import terminal_progress
from app.cli.staff_password import store_staff_password
from app.library.errors import InvalidInput
from app.people import staff_admin
from app.people.staff import parse_role
from app.people.staff_admin import StaffAccount
from app.records import privacy, settings_admin
from app.records.audit_search import AuditQuery, describe, search_audit
from app.workstation import config, secrets

EXIT_OK = 0


def _acting(parser: argparse.ArgumentParser, *, branch_required: bool = True) -> None:
    parser.add_argument("--staff", required=True, metavar="USERNAME", help="your staff username")
    parser.add_argument(
        "--branch",
        required=branch_required,
        help="the branch you work at, e.g. NEC"
        + ("" if branch_required else " (default: the ILL office's)"),
    )


def register(sub: Any) -> None:
    privacy_parser = sub.add_parser("privacy", help="patron privacy: anonymise finished loans")
    privacy_sub = privacy_parser.add_subparsers(dest="privacy_command", required=True)
    run = privacy_sub.add_parser(
        "run",
        help="cut the patron link from loans finished more than retention_days ago",
        description="Anonymise loans whose item came back and whose charges were removed "
        "more than the library's retention_days ago (default 30). Safe to run repeatedly.",
    )
    _acting(run, branch_required=False)
    privacy_parser.set_defaults(handler=_privacy_run)

    audit_parser = sub.add_parser("audit", help="search the audit trail (ILL office, admin)")
    audit_sub = audit_parser.add_subparsers(dest="audit_command", required=True)
    search = audit_sub.add_parser("search", help="events by item, patron, staff and date")
    search.add_argument("--item", default="", metavar="BARCODE", help="item or strap barcode")
    search.add_argument("--patron", default="", metavar="ID", help="campus ID or patron barcode")
    search.add_argument("--user", default="", metavar="USERNAME", help="staff who acted")
    search.add_argument("--from", dest="since", default=None, metavar="YYYY-MM-DD")
    search.add_argument("--to", dest="until", default=None, metavar="YYYY-MM-DD")
    search.add_argument("--limit", type=int, default=500, help="most events shown (500)")
    _acting(search)
    audit_parser.set_defaults(handler=_audit_search)

    settings_parser = sub.add_parser("settings", help="library-wide settings (admin)")
    settings_sub = settings_parser.add_subparsers(dest="settings_command", required=True)
    _acting(settings_sub.add_parser("list", help="every setting, its value and default"))
    change = settings_sub.add_parser(
        "set",
        help="change one setting",
        description="Lists are given as lines separated by |. Yes/no settings take yes or no.",
    )
    change.add_argument("name", help="e.g. retention_days")
    change.add_argument("value", help="e.g. 30")
    _acting(change)
    settings_parser.set_defaults(handler=_settings)

    keyring_parser = sub.add_parser(
        "keyring",
        help="keep the database or SMTP password in this computer's keyring",
        description="Reads the password from the first line of standard input and stores it "
        "in the operating system's keyring, never in the settings file.",
    )
    keyring_sub = keyring_parser.add_subparsers(dest="keyring_command", required=True)
    keyring_sub.add_parser("database", help="the password for the database URL in use")
    keyring_sub.add_parser("smtp", help="the password for this desk's SMTP user")
    staff = keyring_sub.add_parser(
        "staff", help="a staff member's password, for commands run with --staff USERNAME"
    )
    staff.add_argument("username")
    keyring_parser.set_defaults(handler=_keyring)


def register_staff(staff_sub: Any) -> None:
    """Administration subcommands under `illdesk staff` (each needs an admin's --staff)."""
    role = staff_sub.add_parser("role", help="set a staff member's role")
    role.add_argument("username")
    role.add_argument("role", help="desk, ctl, ill_office or admin")
    reset = staff_sub.add_parser(
        "reset-password", help="set a new password (read from standard input); lifts a lockout"
    )
    reset.add_argument("username")
    deactivate = staff_sub.add_parser("deactivate", help="stop an account signing in")
    deactivate.add_argument("username")
    activate = staff_sub.add_parser("activate", help="let a deactivated account sign in again")
    activate.add_argument("username")
    mapping = staff_sub.add_parser(
        "map-os-user", help="let a computer account sign in as this staff member"
    )
    mapping.add_argument("username")
    mapping.add_argument("os_user", nargs="?", default="", help="omit to remove the mapping")
    for parser in (role, reset, deactivate, activate, mapping):
        _acting(parser)
        parser.set_defaults(handler=_staff_admin)


def _staff_admin(ctx: CliContext) -> int:
    command = ctx.args.staff_command
    rt, actor, username = ctx.runtime(), ctx.actor(), ctx.args.username
    info: StaffAccount
    if command == "role":
        info = staff_admin.set_role(rt, actor, username, parse_role(ctx.args.role))
        text = f"{info.username} is now {info.role.value}."
    elif command == "reset-password":
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InvalidInput("No password arrived on standard input. Pipe it in on one line.")
        info = staff_admin.reset_password(rt, actor, username, password)
        text = f"New password set for {info.username}; any lockout is lifted."
    elif command == "deactivate":
        info = staff_admin.deactivate(rt, actor, username)
        text = f"{info.username} is deactivated and can no longer sign in."
    elif command == "activate":
        info = staff_admin.reactivate(rt, actor, username)
        text = f"{info.username} can sign in again."
    else:
        info = staff_admin.map_os_user(rt, actor, username, ctx.args.os_user)
        text = (
            f"Computer account {info.os_user} signs in as {info.username}."
            if info.os_user
            else f"{info.username} has no computer account mapped."
        )
    ctx.emit(info, text)
    return EXIT_OK


def _privacy_run(ctx: CliContext) -> int:
    actor = ctx.actor()
    with terminal_progress("Anonymising loans", ctx.err, quiet=ctx.json) as progress:
        report = privacy.anonymise_closed_loans(ctx.runtime(), actor, progress=progress)
    kept = report.kept_for_open_charges + report.waiting_after_charges
    ctx.emit(
        report,
        f"Anonymised {report.loans} loans finished before "
        f"{report.cutoff.date().isoformat()} (retention {report.retention_days} days)"
        + (f"; {kept} kept because of charges." if kept else "."),
    )
    return EXIT_OK


def _day(text: str | None, option: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{option} takes a date like 2026-11-02, not '{text[:20]}'.") from None


def _audit_search(ctx: CliContext) -> int:
    query = AuditQuery(
        item_barcode=ctx.args.item,
        patron=ctx.args.patron,
        staff_username=ctx.args.user,
        since=_day(ctx.args.since, "--from"),
        until=_day(ctx.args.until, "--to"),
        limit=ctx.args.limit,
    )
    rt, actor = ctx.runtime(), ctx.actor()
    result = search_audit(rt, actor, query)
    shown_patrons(rt, actor, [row.patron_campus_id for row in result.rows], "audit search")
    for row in result.rows:
        about = " ".join(
            part
            for part in (
                f"item {row.item_barcode}" if row.item_barcode else "",
                f"patron {row.patron_campus_id}" if row.patron_campus_id else "",
                row.about,
                describe(row),
            )
            if part
        )
        ctx.emit(
            row,
            f"{row.at.astimezone().strftime('%Y-%m-%d %H:%M')}  {row.username:10} "
            f"{row.branch_code:7} {row.action:24} {about}".rstrip(),
        )
    if result.truncated:
        ctx.say(f"Only the newest {query.limit} events are shown; narrow the search.")
    elif not result.rows:
        ctx.say("No audit events match.")
    return EXIT_OK


def _keyring(ctx: CliContext) -> int:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InvalidInput("No password arrived on standard input. Pipe it in on one line.")
    if ctx.args.keyring_command == "staff":
        name = store_staff_password(ctx.args.username, password)
    elif ctx.args.keyring_command == "database":
        url = config.choose_database(ctx.args.db).url
        if url.startswith("sqlite"):
            raise InvalidInput("The embedded database file needs no password.")
        name = secrets.store_database_password(url, password)
    else:
        name = secrets.store_smtp_password(config.load_settings(), password)
    ctx.emit({"stored": name}, f"Stored in the keyring as '{name}'.")
    return EXIT_OK


def _settings(ctx: CliContext) -> int:
    rt, actor = ctx.runtime(), ctx.actor()
    if ctx.args.settings_command == "list":
        for row in settings_admin.library_setting_values(rt, actor):
            mark = "*" if row.changed else " "
            text = f"{mark} {row.name:34} {row.value}\n      {row.label}: {row.description}"
            ctx.emit(row, f"{text} Takes {row.rule}.")
        ctx.say("* changed from the default")
        return EXIT_OK
    row = settings_admin.change_library_setting(rt, actor, ctx.args.name, ctx.args.value)
    ctx.emit(row, f"{row.name} is now {row.value}.")
    return EXIT_OK
