"""The password of the staff member a command acts as: environment, keyring, or a prompt.

A command line has no sign-in window, so `--staff USER` alone would let anyone who can
reach the database act as anyone. The password is looked for, in this order:

1. the environment variable ILLDESK_PASSWORD (scripts, scheduled jobs);
2. the keyring entry "staff:<username>" of service "ILL Desk" (`illdesk keyring staff`);
3. a prompt without echo, when standard input is a terminal.

It is never logged (registered as a secret), printed or stored by this module.
"""

from __future__ import annotations

import getpass
import os
import sys

from app.library.errors import InvalidInput, PermissionDenied
from app.workstation.log_setup import register_secret
from app.workstation.secrets import KEYRING_SERVICE

PASSWORD_ENV = "ILLDESK_PASSWORD"

NO_PASSWORD = (
    "No password for staff account '{username}'. Give it in the environment variable "
    "ILLDESK_PASSWORD, keep it in this computer's keyring with `illdesk keyring staff "
    "{username}` (the password on standard input), or run the command in a terminal to be "
    "asked for it. Nothing was done."
)


def staff_keyring_name(username: str) -> str:
    return f"staff:{username.strip().lower()}"


def _from_keyring(username: str) -> str | None:
    import keyring
    from keyring.errors import KeyringError

    try:
        value = keyring.get_password(KEYRING_SERVICE, staff_keyring_name(username))
    except KeyringError:
        return None
    return value or None


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):  # closed or replaced standard input
        return False


def _prompt(username: str) -> str | None:
    try:
        return getpass.getpass(f"Password for {username}: ") or None
    except (EOFError, KeyboardInterrupt):
        return None


def staff_password(username: str) -> str:
    """The password to sign `username` in with; refuses when there is none to be had."""
    password = (
        os.environ.get(PASSWORD_ENV)
        or _from_keyring(username)
        or (_prompt(username) if _stdin_is_terminal() else None)
    )
    if not password:
        raise PermissionDenied(
            NO_PASSWORD.format(username=username.strip().lower()[:64]), code="password_needed"
        )
    register_secret(password)
    return password


def store_staff_password(username: str, password: str) -> str:
    """Keep a staff member's password in this computer's keyring; returns the entry's name."""
    import keyring
    from keyring.errors import KeyringError

    if not password:
        raise InvalidInput("The password is empty. Type it again.")
    name = staff_keyring_name(username)
    try:
        keyring.set_password(KEYRING_SERVICE, name, password)
    except KeyringError as exc:
        raise InvalidInput(
            f"This computer has no usable keyring ({exc}). Use the environment variable "
            f"{PASSWORD_ENV} instead."
        ) from None
    return name
