"""Staff accounts: creation, listing and signing in (argon2 password hashes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from app import audit
from app.actors import Actor
from app.branches import branch_by_code
from app.errors import Conflict, InvalidInput, PermissionDenied
from app.runtime import Runtime
from db.models import Role, Staff

_hasher = PasswordHasher()
MAX_FAILED_SIGN_INS = 5
LOCKOUT_BASE = timedelta(seconds=30)


@dataclass(frozen=True)
class StaffInfo:
    username: str
    full_name: str
    role: str
    active: bool


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInput(f"'{text}' is not a role. Use one of: {roles}.") from None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_staff(
    rt: Runtime,
    actor: Actor | None,
    username: str,
    full_name: str,
    role: Role,
    password: str | None,
) -> StaffInfo:
    """Create a staff account. `actor` None is the set-up path (CLI on a new database)."""
    username = username.strip().lower()
    if not username or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise InvalidInput("A username is letters, digits, dots, dashes or underscores.")
    if actor is not None:
        actor.require(Role.ADMIN, "Adding staff")
    if password is not None and len(password) < 8:
        raise InvalidInput("A password needs at least 8 characters.")
    with rt.db.transaction() as session:
        if session.scalar(select(Staff).where(Staff.username == username)):
            raise Conflict(f"There is already a staff account '{username}'.")
        staff = Staff(
            username=username,
            full_name=full_name.strip() or username,
            role=role,
            password_hash=hash_password(password) if password else None,
            created_at=rt.clock.now(),
        )
        session.add(staff)
        session.flush()
        if actor is not None:
            audit.record(
                session,
                actor,
                "staff.add",
                at=rt.clock.now(),
                entity="staff",
                entity_id=staff.id,
                after={"username": username, "role": role.value},
            )
        return StaffInfo(staff.username, staff.full_name, staff.role.value, staff.active)


def list_staff(rt: Runtime) -> list[StaffInfo]:
    with rt.db.reading() as session:
        rows = session.scalars(select(Staff).order_by(Staff.username)).all()
        return [StaffInfo(s.username, s.full_name, s.role.value, s.active) for s in rows]


def actor_for(rt: Runtime, username: str, branch_code: str, workstation: str = "") -> Actor:
    """The actor for a command-line action: an active account allowed at that branch."""
    with rt.db.reading() as session:
        staff = session.scalar(select(Staff).where(Staff.username == username.strip().lower()))
        if staff is None or not staff.active:
            raise PermissionDenied(
                f"There is no active staff account '{username}'. `illdesk staff list` shows them."
            )
        branch = branch_by_code(session, branch_code)
        actor = Actor(
            staff.id, staff.username, staff.full_name, staff.role, branch.code, workstation
        )
        if branch.virtual:
            actor.require(Role.ILL_OFFICE, f"Working at the virtual branch {branch.code}")
        return actor


def sign_in(
    rt: Runtime, username: str, password: str, branch_code: str, workstation: str = ""
) -> Actor:
    """Check the password; repeated failures lock the account for a growing time."""
    generic = "Wrong username or password. Check Caps Lock and try again."
    now = rt.clock.now()
    failure: str | None = None
    with rt.db.transaction() as session:
        staff = session.scalar(select(Staff).where(Staff.username == username.strip().lower()))
        if staff is None or not staff.active or not staff.password_hash:
            raise PermissionDenied(generic)
        if staff.locked_until and staff.locked_until > now:
            wait = int((staff.locked_until - now).total_seconds()) + 1
            raise PermissionDenied(
                f"Too many wrong passwords: this account is locked for {wait} more seconds."
            )
        try:
            _hasher.verify(staff.password_hash, password)
        except (VerificationError, InvalidHashError):
            # Counted and committed before refusing, so the lockout cannot be dodged.
            staff.failed_sign_ins += 1
            if staff.failed_sign_ins >= MAX_FAILED_SIGN_INS:
                extra = staff.failed_sign_ins - MAX_FAILED_SIGN_INS
                staff.locked_until = now + LOCKOUT_BASE * (2 ** min(extra, 10))
            failure = generic
        else:
            staff.failed_sign_ins = 0
            staff.locked_until = None
            branch = branch_by_code(session, branch_code)
            actor = Actor(
                staff.id, staff.username, staff.full_name, staff.role, branch.code, workstation
            )
            if branch.virtual:
                actor.require(Role.ILL_OFFICE, f"Working at the virtual branch {branch.code}")
            audit.record(
                session, actor, "staff.sign_in", at=now, entity="staff", entity_id=staff.id
            )
    if failure is not None:
        raise PermissionDenied(failure)
    return actor
