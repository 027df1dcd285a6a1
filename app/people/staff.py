"""Staff accounts: creation, listing and signing in (argon2 password hashes).

Passwords are only ever hashed or verified here; they are never stored, logged or audited.
Repeated wrong passwords lock the account for a time that doubles with each further failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.library import library_settings
from app.library.actors import Actor
from app.library.branches import BranchInfo, branch_by_code, branch_infos
from app.library.errors import Conflict, InvalidInput, PermissionDenied
from app.library.library_settings import LibrarySettings
from app.library.runtime import Runtime
from app.people.computer_account import current_os_user as current_os_user  # the sign-in uses it
from app.records import audit
from db import roles
from db.models import Role, Staff

_hasher = PasswordHasher()
MAX_FAILED_SIGN_INS = 5
LOCKOUT_BASE = timedelta(seconds=30)
MIN_PASSWORD_LENGTH = 8
WRONG_PASSWORD = "Wrong username or password. Check Caps Lock and try again."


@dataclass(frozen=True)
class StaffInfo:
    username: str
    full_name: str
    role: str
    active: bool


def staff_info(staff: Staff) -> StaffInfo:
    return StaffInfo(staff.username, staff.full_name, staff.role.value, staff.active)


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInput(f"'{text}' is not a role. Use one of: {roles}.") from None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if password != password.strip():
        raise InvalidInput("A password cannot begin or end with a space.")


def normalize_username(username: str) -> str:
    value = username.strip().lower()
    if not value or not value.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise InvalidInput("A username is letters, digits, dots, dashes or underscores.")
    if len(value) > 64:
        raise InvalidInput("A username has at most 64 characters.")
    return value


def sync_login(session: Session, staff: Staff, password: str | None = None) -> None:
    """On PostgreSQL with roles set up, the account's own login role follows the account:
    created or altered in the same transaction, in its role's group, LOGIN while active,
    with `password` (sent only as a SCRAM verifier) when one is given."""
    try:
        roles.sync_staff_login(
            session.connection(),
            staff.username,
            staff.role,
            active=staff.active,
            password=password,
        )
    except ValueError as exc:  # a username too long for a role name on this database
        raise InvalidInput(str(exc)) from None


def add_staff(
    rt: Runtime,
    actor: Actor | None,
    username: str,
    full_name: str,
    role: Role,
    password: str | None,
) -> StaffInfo:
    """Create a staff account; the audit trail names who added it.

    `actor` None is the set-up path: the first account of a database that has none, added
    before anyone can sign in. It must be an administrator (else nobody could add the
    next), and it is refused once any account exists. Its event names the new account.
    """
    username = normalize_username(username)
    if actor is not None:
        actor.require(Role.ADMIN, "Adding staff")
    elif role is not Role.ADMIN:
        raise InvalidInput(
            "The first staff account of a library must be an administrator: use --role admin."
        )
    if password is not None:
        check_new_password(password)
    with rt.db.transaction() as session:
        if actor is None and session.scalar(select(func.count()).select_from(Staff)):
            raise PermissionDenied(
                "This database already has staff accounts: adding one needs --staff USERNAME "
                "(an administrator) and their password.",
                code="staff_needed",
            )
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
        sync_login(session, staff, password)
        audit.record(
            session,
            actor or Actor(staff.id, staff.username, staff.full_name, staff.role, ""),
            "staff.add",
            at=rt.clock.now(),
            entity="staff",
            entity_id=staff.id,
            after={"username": username, "role": role.value},
            detail="" if actor else "first administrator of an empty database",
        )
        return staff_info(staff)


def list_staff(rt: Runtime, actor: Actor) -> list[StaffInfo]:
    actor.require(Role.ADMIN, "Listing staff accounts")
    with rt.db.reading() as session:
        rows = session.scalars(select(Staff).order_by(Staff.username)).all()
        return [staff_info(s) for s in rows]


@dataclass(frozen=True)
class SignInFacts:
    """What the sign-in window shows before anyone is signed in."""

    branches: list[BranchInfo]
    staff_count: int  # 0: nobody can sign in until the first account is added
    library: LibrarySettings


def sign_in_facts(rt: Runtime) -> SignInFacts:
    """The branches to choose from, whether any account exists, the library's name and
    whether it is a demo. Like `sign_in`, it needs no actor: nobody is signed in yet."""
    with rt.db.reading() as session:
        branches = branch_infos(session)
        staff_count = session.scalar(select(func.count()).select_from(Staff)) or 0
        return SignInFacts(branches, int(staff_count), library_settings.load(session))


def _actor_at(session: Session, staff: Staff, branch_code: str, workstation: str) -> Actor:
    """The actor for `staff` at a branch; only the ILL office may work at a virtual branch."""
    branch = branch_by_code(session, branch_code)
    actor = Actor(staff.id, staff.username, staff.full_name, staff.role, branch.code, workstation)
    if branch.virtual:
        actor.require(Role.ILL_OFFICE, f"Working at the virtual branch {branch.code}")
    return actor


def actor_for(rt: Runtime, username: str, branch_code: str, workstation: str = "") -> Actor:
    """The actor for a command-line action: an active account allowed at that branch."""
    with rt.db.reading() as session:
        staff = session.scalar(select(Staff).where(Staff.username == username.strip().lower()))
        if staff is None or not staff.active:
            raise PermissionDenied(
                f"There is no active staff account '{username}'. `illdesk staff list` shows them."
            )
        return _actor_at(session, staff, branch_code, workstation)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one `password_hash` (argon2) was made from."""
    try:
        return bool(_hasher.verify(password_hash or "", password))
    except (VerificationError, InvalidHashError):
        return False


def _verify(session: Session, staff: Staff, password: str, now: datetime, where: str) -> bool:
    """Check a password against the lockout; a failure is counted (and audited) either way."""
    if staff.locked_until and staff.locked_until > now:
        wait = int((staff.locked_until - now).total_seconds()) + 1
        raise PermissionDenied(
            f"Too many wrong passwords: this account is locked for {wait} more seconds. "
            "An administrator can reset the password to unlock it at once."
        )
    try:
        _hasher.verify(staff.password_hash or "", password)
    except (VerificationError, InvalidHashError):
        staff.failed_sign_ins += 1
        locked = staff.failed_sign_ins >= MAX_FAILED_SIGN_INS
        if locked:
            extra = staff.failed_sign_ins - MAX_FAILED_SIGN_INS
            staff.locked_until = now + LOCKOUT_BASE * (2 ** min(extra, 10))
        who = Actor(staff.id, staff.username, staff.full_name, staff.role, where)
        audit.record(
            session,
            who,
            "staff.sign_in_failed",
            at=now,
            entity="staff",
            entity_id=staff.id,
            after={"failed_sign_ins": staff.failed_sign_ins, "locked": locked},
        )
        return False
    staff.failed_sign_ins = 0
    staff.locked_until = None
    return True


def sign_in(
    rt: Runtime, username: str, password: str, branch_code: str, workstation: str = ""
) -> Actor:
    """Check the password; repeated failures lock the account for a growing time."""
    now = rt.clock.now()
    failure: str | None = None
    with rt.db.transaction() as session:
        staff = session.scalar(select(Staff).where(Staff.username == username.strip().lower()))
        if staff is None or not staff.password_hash:
            raise PermissionDenied(WRONG_PASSWORD)
        # Counted and committed before refusing, so the lockout cannot be dodged.
        if not _verify(session, staff, password, now, branch_code.strip().upper()[:16]):
            failure = WRONG_PASSWORD
        elif not staff.active:
            raise PermissionDenied(
                f"The account '{staff.username}' is deactivated. Ask an administrator."
            )
        else:
            actor = _actor_at(session, staff, branch_code, workstation)
            audit.record(
                session, actor, "staff.sign_in", at=now, entity="staff", entity_id=staff.id
            )
    if failure is not None:
        raise PermissionDenied(failure)
    return actor


def unlock(rt: Runtime, actor: Actor, password: str) -> Actor:
    """Quick re-sign-in after the idle lock: the same person, same branch, same screens."""
    now = rt.clock.now()
    failure: str | None = None
    with rt.db.transaction() as session:
        staff = session.get(Staff, actor.staff_id)
        if staff is None:
            raise PermissionDenied(WRONG_PASSWORD)
        if not staff.password_hash:
            raise PermissionDenied(
                "This account has no password: it signs in with its computer account. "
                "Sign out, then sign in again."
            )
        if not _verify(session, staff, password, now, actor.branch_code):
            failure = "Wrong password. Check Caps Lock and try again, or sign out."
        elif not staff.active:
            raise PermissionDenied(
                f"The account '{staff.username}' was deactivated meanwhile. Sign out."
            )
        else:
            fresh = _actor_at(session, staff, actor.branch_code, actor.workstation)
            audit.record(session, fresh, "staff.unlock", at=now, entity="staff", entity_id=staff.id)
    if failure is not None:
        raise PermissionDenied(failure)
    return fresh


def sign_in_os_user(rt: Runtime, os_user: str, branch_code: str, workstation: str = "") -> Actor:
    """Sign in as the staff account mapped to the operating-system user, if there is one.

    Used only when the workstation setting `os_user_sign_in` is on: the desk PC's own
    login is then the proof of identity. `os_user` must come from `current_os_user()`,
    which asks the operating system (never the environment, which anyone can set).
    """
    name = os_user.strip()
    now = rt.clock.now()
    with rt.db.transaction() as session:
        staff = session.scalar(select(Staff).where(Staff.os_user == name)) if name else None
        if staff is None:
            raise PermissionDenied(
                f"The computer account '{name}' is not mapped to a staff account. Sign in "
                "with your username and password, or ask an administrator to map it."
            )
        if not staff.active:
            raise PermissionDenied(
                f"The account '{staff.username}' is deactivated. Ask an administrator."
            )
        actor = _actor_at(session, staff, branch_code, workstation)
        audit.record(
            session,
            actor,
            "staff.sign_in",
            at=now,
            entity="staff",
            entity_id=staff.id,
            detail=f"signed in as computer account {name}",
        )
        return actor
