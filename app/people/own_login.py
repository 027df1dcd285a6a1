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

from sqlalchemy import select

from app.library.actors import Actor
from app.library.errors import InvalidInput, PermissionDenied
from app.library.runtime import Runtime
from app.people.staff import WRONG_PASSWORD, _actor_at, normalize_username, sign_in
from app.records import audit
from db import roles
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
        until = roles.locked_until(session.connection(), name)
    if until is not None:
        wait = int((until - rt.clock.now().astimezone(UTC)).total_seconds()) + 1
        raise PermissionDenied(
            f"Too many wrong passwords: this account is locked for {max(wait, 1)} more "
            "seconds. An administrator can reset the password to unlock it at once."
        )
    outcome = roles.try_login(rt.db.url, role, password)
    if outcome is roles.LoginOutcome.WRONG_PASSWORD:
        with rt.db.transaction() as session:  # counted and committed before refusing
            roles.count_failed_sign_in(session.connection(), name, where)
        raise PermissionDenied(WRONG_PASSWORD)
    if outcome is roles.LoginOutcome.NOT_PERMITTED:
        raise PermissionDenied(f"The account '{name}' is deactivated. Ask an administrator.")
    own = Runtime(Database(roles.login_url(rt.db.url, role, password)), rt.clock)
    try:
        with own.db.transaction() as session:
            roles.count_signed_in(session.connection())
            staff = session.scalar(select(Staff).where(Staff.username == name))
            if staff is None or not staff.active:
                raise PermissionDenied(
                    f"The account '{name}' is deactivated. Ask an administrator."
                )
            actor = _actor_at(session, staff, branch_code, workstation)
            audit.record(
                session,
                actor,
                "staff.sign_in",
                at=rt.clock.now(),
                entity="staff",
                entity_id=staff.id,
                detail="connected as its own database role",
            )
    except BaseException:
        own.db.dispose()
        raise
    return SignedIn(actor, own)
