"""Signing in on a shared PostgreSQL database opens the desk's connections as the staff
member: the server checks the password (SCRAM), and everything the desk does next runs
with that person's grants and is stamped with their name by the database itself.

Before anyone signs in the desk holds only the sign-in role's credential (branches, the
library's name, the staff count, the lockout counter). On SQLite, or on a PostgreSQL
database whose roles were never set up (`illdesk db roles`), signing in is `sign_in`'s
password check and the desk keeps the connection it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import select, text

from app.library.actors import Actor
from app.library.errors import InvalidInput, PermissionDenied
from app.library.runtime import Runtime
from app.people.staff import (
    WRONG_PASSWORD,
    _actor_at,
    normalize_username,
    password_matches,
    sign_in,
    sign_in_os_user,
    unlock,
)
from app.records import audit
from db import roles, server_functions
from db.engine import Database
from db.models import Staff


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, and the runtime whose connections are theirs (dispose it at sign-out
    when it is not the desk's own)."""

    actor: Actor
    rt: Runtime


def sign_in_connected(
    rt: Runtime, username: str, password: str, branch_code: str, workstation: str = ""
) -> SignedIn:
    """Sign in; on PostgreSQL with roles, connect as the staff member's own login role."""
    with rt.db.reading() as session:
        prefix = roles.installed_prefix(session.connection())
    if prefix is None:
        return SignedIn(sign_in(rt, username, password, branch_code, workstation), rt)
    try:
        name = normalize_username(username)
        role = roles.staff_role(prefix, name)
    except (InvalidInput, ValueError):
        raise PermissionDenied(WRONG_PASSWORD) from None
    where = branch_code.strip().upper()[:16]
    with rt.db.reading() as session:
        until = server_functions.locked_until(session.connection(), name)
    if until is not None:
        wait = int((until - rt.clock.now().astimezone(UTC)).total_seconds()) + 1
        raise PermissionDenied(
            f"Too many wrong passwords: this account is locked for {max(wait, 1)} more "
            "seconds. An administrator can reset the password to unlock it at once."
        )
    own = Runtime(Database(roles.login_url(rt.db.url, role, password)), rt.clock)
    outcome = _first_connection(own)  # the server checks the password once, on the
    if outcome is roles.LoginOutcome.WRONG_PASSWORD:  # connection the desk then keeps
        with rt.db.transaction() as session:  # counted and committed before refusing
            server_functions.count_failed_sign_in(session.connection(), name, where)
        raise PermissionDenied(WRONG_PASSWORD)
    if outcome is roles.LoginOutcome.NOT_PERMITTED:
        raise PermissionDenied(f"The account '{name}' is deactivated. Ask an administrator.")
    return _open_as(rt, own, password, name, branch_code, workstation, "")


def _first_connection(own: Runtime) -> roles.LoginOutcome:
    """Open the staff member's first pooled connection: CONNECTED, or why the server said
    no (the runtime is then disposed); the server away raises as usual."""
    try:
        with own.db.engine.connect():
            return roles.LoginOutcome.CONNECTED
    except Exception as exc:
        own.db.dispose()
        refused = roles.login_refusal(exc)
        if refused is None:
            raise
        return refused


PASSWORD_NEEDED = (
    "This database asks for a password: sign in with your username and password. (IT can "
    "let the computer's own login through with the server's SSPI or GSS authentication: "
    "see 'Sign-in by computer account' in the README.)"
)


def sign_in_os_user_connected(
    rt: Runtime, os_user: str, branch_code: str, workstation: str = ""
) -> SignedIn:
    """Sign in as the staff account mapped to this computer's login.

    On PostgreSQL with roles the desk connects as that staff member with no password of
    its own: the server decides (`sspi`, `gss` or `peer` in pg_hba.conf, mapping the
    computer account to the role), so no desk can claim someone else's computer account.
    """
    with rt.db.reading() as session:
        prefix = roles.installed_prefix(session.connection())
        name = (
            server_functions.mapped_staff(session.connection(), os_user.strip()) if prefix else None
        )
    if prefix is None:
        return SignedIn(sign_in_os_user(rt, os_user, branch_code, workstation), rt)
    if name is None:
        raise PermissionDenied(
            f"The computer account '{os_user.strip()}' is not mapped to a staff account. "
            "Sign in with your username and password, or ask an administrator to map it."
        )
    role = roles.staff_role(prefix, name)
    own = Runtime(Database(roles.login_url(rt.db.url, role, None)), rt.clock)
    outcome = _first_connection(own)
    if outcome is roles.LoginOutcome.NOT_PERMITTED:
        raise PermissionDenied(f"The account '{name}' is deactivated. Ask an administrator.")
    if outcome is not roles.LoginOutcome.CONNECTED:
        raise PermissionDenied(PASSWORD_NEEDED)
    detail = f"signed in as computer account {os_user.strip()}"
    return _open_as(rt, own, None, name, branch_code, workstation, detail)


def _open_as(
    rt: Runtime,
    own: Runtime,
    password: str | None,
    name: str,
    branch_code: str,
    workstation: str,
    detail: str,
) -> SignedIn:
    """`own`, the runtime connected as the staff member, once the server has let it in."""
    try:
        with own.db.transaction() as session:
            staff = session.scalar(select(Staff).where(Staff.username == name))
            if staff is None or not staff.active:
                raise PermissionDenied(
                    f"The account '{name}' is deactivated. Ask an administrator."
                )
            own_hash = server_functions.own_password_hash(session.connection())
            if password is not None and not password_matches(own_hash, password):
                # The server let a wrong password in: its pg_hba.conf trusts this PC. The
                # account's own password is still the rule, as on SQLite.
                raise _ServerTrustedAWrongPassword
            server_functions.count_signed_in(session.connection())
            actor = _actor_at(session, staff, branch_code, workstation)
            audit.record(
                session,
                actor,
                "staff.sign_in",
                at=rt.clock.now(),
                entity="staff",
                entity_id=staff.id,
                detail=detail or "connected as its own database role",
            )
    except _ServerTrustedAWrongPassword:
        own.db.dispose()
        with rt.db.transaction() as session:
            server_functions.count_failed_sign_in(
                session.connection(), name, branch_code.strip().upper()
            )
        raise PermissionDenied(WRONG_PASSWORD) from None
    except BaseException:
        own.db.dispose()
        raise
    return SignedIn(actor, own)


class _ServerTrustedAWrongPassword(Exception):
    """Raised inside the sign-in transaction so that nothing of it is committed."""


def unlock_connected(rt: Runtime, actor: Actor, password: str) -> Actor:
    """Quick re-sign-in after the idle lock, on the staff member's own connection.

    On PostgreSQL with staff roles the desk's role may neither read other accounts' hashes
    nor write the lockout counter: its own hash and the counter are reached through the
    sign-in functions, so the lockout still counts a wrong password here.
    """
    with rt.db.reading() as session:
        conn = session.connection()
        prefix = roles.installed_prefix(conn)
        who = str(conn.execute(text("SELECT session_user")).scalar()) if prefix else ""
    if prefix is None or who != roles.staff_role(prefix, actor.username):
        return unlock(rt, actor, password)  # not the staff member's own connection
    name = actor.username
    with rt.db.transaction() as session:
        conn = session.connection()
        until = server_functions.locked_until(conn, name)
        if until is not None:
            wait = int((until - rt.clock.now().astimezone(UTC)).total_seconds()) + 1
            raise PermissionDenied(
                f"Too many wrong passwords: this account is locked for {max(wait, 1)} more "
                "seconds. An administrator can reset the password to unlock it at once."
            )
        own_hash = server_functions.own_password_hash(conn)
        if own_hash is None:
            raise PermissionDenied(
                "This account has no password: it signs in with its computer account. "
                "Sign out, then sign in again."
            )
        if password_matches(own_hash, password):
            server_functions.count_signed_in(conn)
            staff = session.scalar(select(Staff).where(Staff.username == name))
            if staff is None or not staff.active:
                raise PermissionDenied(f"The account '{name}' was deactivated meanwhile. Sign out.")
            fresh = _actor_at(session, staff, actor.branch_code, actor.workstation)
            audit.record(
                session, fresh, "staff.unlock", at=rt.clock.now(), entity="staff",
                entity_id=staff.id,
            )  # fmt: skip
            return fresh
    with rt.db.transaction() as session:  # counted and committed before refusing
        server_functions.count_failed_sign_in(session.connection(), name, actor.branch_code)
    raise PermissionDenied("Wrong password. Check Caps Lock and try again, or sign out.")
