"""What every command handler gets: its arguments, the database, and a way to print results."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO

from app.cli.staff_password import staff_password
from app.library.actors import Actor, this_workstation
from app.library.branches import ill_office_branch
from app.library.clock import Clock, SystemClock
from app.library.errors import PermissionDenied
from app.library.runtime import Runtime
from app.people.own_login import sign_in_connected
from app.people.staff import parse_role
from app.workstation.config import choose_database
from app.workstation.connection import connect, open_database


def office_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """--staff and an optional --branch for commands the ILL office runs."""
    parser.add_argument("--staff", required=True, help="username of an ILL office staff member")
    parser.add_argument(
        "--branch", default=None, help="branch code (default: the ILL office's branch, WS-ILL)"
    )
    return parser


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class CliContext:
    def __init__(
        self,
        args: argparse.Namespace,
        out: TextIO | None = None,
        err: TextIO | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.args = args
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.json = bool(getattr(args, "json", False))
        self.clock = clock or SystemClock()
        self._runtime: Runtime | None = None
        self._signed_in_as: tuple[tuple[str, str], Actor] | None = None

    def runtime(self, *, check_schema: bool = True) -> Runtime:
        """The command's database."""
        if self._runtime is None:
            choice = choose_database(self.args.db)
            database = (
                open_database(choice.url, upgrade_embedded=True)
                if check_schema
                else connect(choice.url)
            )
            self._runtime = Runtime(database, self.clock)
        return self._runtime

    def maintenance_actor(self) -> Actor:
        """`--staff`, authenticated, for owner-level maintenance (replacing the demo library):
        the command keeps the connection it was started with, which only IT's own URL can
        do the work on; the person is checked and named in the trail all the same."""
        branch = getattr(self.args, "branch", None) or self._office_branch()
        return self._signed_in(branch, keep_connection=True)

    def actor(self) -> Actor:
        """`--staff`, signed in with their password at `--branch` (default: the ILL office's).

        The one place the command line turns a username into an actor: the password comes
        from `staff_password` and is checked as the window checks it (`sign_in_connected`: on
        PostgreSQL with staff roles, by the server, and the command then runs connected as
        that person), so a wrong one counts towards the account's lockout and is audited
        like a failed sign-in at the window.
        """
        branch = getattr(self.args, "branch", None) or self._office_branch()
        return self._signed_in(branch)

    def office_actor(self) -> Actor:
        """The actor of an ILL office command: `--branch` defaults to the office's branch."""
        return self.actor()

    def office_staff_actor(self) -> Actor:
        """`--staff` signed in at the ILL office's branch (when --branch means something else)."""
        return self._signed_in(self._office_branch())

    def has_staff(self) -> bool:
        return bool(getattr(self.args, "staff", None))

    def reader(self) -> Actor:
        """The actor of a command that shows only what the sign-in window shows to anyone
        (branches, the closures calendar): no password, the lowest role, named after the
        computer's user so the trail can tell it apart from people's actions."""
        try:
            user = getpass.getuser()
        except (OSError, KeyError):
            user = "unknown user"
        job = f"command line ({user})"[:64]
        return Actor(0, job, job, parse_role("desk"), "", this_workstation())

    def _office_branch(self) -> str:
        with self.runtime().db.reading() as session:
            return ill_office_branch(session).code

    def _signed_in(self, branch_code: str, *, keep_connection: bool = False) -> Actor:
        username = str(getattr(self.args, "staff", None) or "").strip()
        if not username:
            raise PermissionDenied(
                "This command needs --staff USERNAME: who is acting, signed in with their "
                "password (see `illdesk --help`). Nothing was done.",
                code="staff_needed",
            )
        key = (username.lower(), branch_code.strip().upper())
        if self._signed_in_as is None or self._signed_in_as[0] != key:
            rt = self.runtime()  # a database problem is told before any password is asked
            password = staff_password(username)
            signed = sign_in_connected(rt, username, password, branch_code, this_workstation())
            if signed.rt is not rt and keep_connection:
                signed.rt.db.dispose()
            elif signed.rt is not rt:
                # PostgreSQL with staff roles: from here on the command works through the
                # staff member's own connection, with their grants (a handler that already
                # holds `rt` holds this same runtime, so it follows).
                before, rt.db = rt.db, signed.rt.db
                before.dispose()
            self._signed_in_as = (key, signed.actor)
        return self._signed_in_as[1]

    def emit(self, record: Any, text: str | None = None) -> None:
        """One result: a JSON object on its own line with --json, else a readable line."""
        if self.json:
            print(json.dumps(_plain(record), ensure_ascii=False, sort_keys=False), file=self.out)
        elif text is not None:
            print(text, file=self.out)
        else:
            plain = _plain(record)
            print("  ".join(f"{k}={v}" for k, v in plain.items()), file=self.out)

    def say(self, text: str) -> None:
        """A human note; never mixed into --json output."""
        print(text, file=self.err if self.json else self.out)

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.db.dispose()
