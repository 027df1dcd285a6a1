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

from app.library.actors import Actor, this_workstation, unattended
from app.library.branches import ill_office_branch
from app.library.clock import Clock, SystemClock
from app.library.runtime import Runtime
from app.people.staff import actor_for
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

    def runtime(self, *, check_schema: bool = True) -> Runtime:
        if self._runtime is None:
            choice = choose_database(self.args.db)
            database = (
                open_database(choice.url, upgrade_embedded=True)
                if check_schema
                else connect(choice.url)
            )
            self._runtime = Runtime(database, self.clock)
        return self._runtime

    def actor(self) -> Actor:
        return actor_for(self.runtime(), self.args.staff, self.args.branch, this_workstation())

    def caller(self) -> Actor:
        """Who the command acts as: the --staff account when the command takes one, else
        the command line itself, named after the computer's user (see `unattended`)."""
        if getattr(self.args, "staff", None):
            return self.actor()
        try:
            user = getpass.getuser()
        except (OSError, KeyError):
            user = "unknown user"
        return unattended(f"command line ({user})"[:64], this_workstation())

    def office_actor(self) -> Actor:
        """The actor of an ILL office command: `--branch` defaults to the office's branch."""
        if not self.args.branch:
            with self.runtime().db.reading() as session:
                self.args.branch = ill_office_branch(session).code
        return self.actor()

    def office_staff_actor(self) -> Actor:
        """`--staff` signed in at the ILL office's branch (when --branch means something else)."""
        rt = self.runtime()
        with rt.db.reading() as session:
            office = ill_office_branch(session).code
        return actor_for(rt, self.args.staff, office, this_workstation())

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
