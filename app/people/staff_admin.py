"""What an administrator does to staff accounts: roles, passwords, deactivation, OS users.

Every change needs the admin role, is audited (never with a password), and keeps at least
one active administrator, so the library can never lock itself out of its own settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound
from app.library.runtime import Runtime
from app.people.staff import (
    add_staff,
    check_new_password,
    hash_password,
    normalize_username,
    sync_login,
)
from app.records import audit
from db.models import Role, Staff


@dataclass(frozen=True)
class StaffAccount:
    """A staff account as the administrator sees it (never its password hash)."""

    username: str
    full_name: str
    role: Role
    active: bool
    os_user: str | None
    locked_until: datetime | None  # None: not locked now
    failed_sign_ins: int
    has_password: bool


def _view(staff: Staff, now: datetime) -> StaffAccount:
    locked = staff.locked_until if staff.locked_until and staff.locked_until > now else None
    return StaffAccount(
        username=staff.username,
        full_name=staff.full_name,
        role=staff.role,
        active=staff.active,
        os_user=staff.os_user,
        locked_until=locked,
        failed_sign_ins=staff.failed_sign_ins,
        has_password=bool(staff.password_hash),
    )


def staff_accounts(rt: Runtime, actor: Actor) -> list[StaffAccount]:
    actor.require(Role.ADMIN, "Managing staff accounts")
    now = rt.clock.now()
    with rt.db.reading() as session:
        rows = session.scalars(select(Staff).order_by(Staff.username)).all()
        return [_view(s, now) for s in rows]


def create_staff(
    rt: Runtime, actor: Actor, username: str, full_name: str, role: Role, password: str
) -> StaffAccount:
    """A new account that can sign in at once with `password`."""
    actor.require(Role.ADMIN, "Adding staff")
    check_new_password(password)
    info = add_staff(rt, actor, username, full_name, role, password)
    return StaffAccount(info.username, info.full_name, role, info.active, None, None, 0, True)


def _account(session: Session, username: str) -> Staff:
    name = normalize_username(username)
    staff = session.scalar(select(Staff).where(Staff.username == name))
    if staff is None:
        raise NotFound(f"There is no staff account '{name}'. The Staff list shows them all.")
    return staff


def _other_active_admins(session: Session, staff: Staff) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(Staff)
        .where(Staff.role == Role.ADMIN, Staff.active, Staff.id != staff.id)
    )
    return int(count or 0)


def _keep_an_admin(session: Session, staff: Staff, what: str) -> None:
    if staff.role is Role.ADMIN and staff.active and _other_active_admins(session, staff) == 0:
        raise Conflict(
            f"{what} would leave no active administrator. Give another account the "
            "admin role first."
        )


def set_role(rt: Runtime, actor: Actor, username: str, role: Role) -> StaffAccount:
    actor.require(Role.ADMIN, "Changing a staff role")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        staff = _account(session, username)
        before = staff.role
        if before is role:
            return _view(staff, now)
        if role is not Role.ADMIN:
            _keep_an_admin(session, staff, f"Making '{staff.username}' {role.value}")
        staff.role = role
        sync_login(session, staff)
        audit.record(
            session,
            actor,
            "staff.set_role",
            at=now,
            entity="staff",
            entity_id=staff.id,
            before={"role": before.value},
            after={"role": role.value},
        )
        return _view(staff, now)


def reset_password(rt: Runtime, actor: Actor, username: str, new_password: str) -> StaffAccount:
    """Set a new password; it also lifts a lockout. The password itself is never recorded."""
    actor.require(Role.ADMIN, "Resetting a password")
    check_new_password(new_password)
    now = rt.clock.now()
    with rt.db.transaction() as session:
        staff = _account(session, username)
        staff.password_hash = hash_password(new_password)
        staff.failed_sign_ins = 0
        staff.locked_until = None
        sync_login(session, staff, new_password)
        audit.record(
            session,
            actor,
            "staff.reset_password",
            at=now,
            entity="staff",
            entity_id=staff.id,
            detail="password reset and lockout cleared",
        )
        return _view(staff, now)


def set_active(rt: Runtime, actor: Actor, username: str, active: bool) -> StaffAccount:
    """Deactivate (the account can no longer sign in; its history stays) or reactivate."""
    actor.require(Role.ADMIN, "Deactivating or reactivating a staff account")
    now = rt.clock.now()
    with rt.db.transaction() as session:
        staff = _account(session, username)
        if staff.active is active:
            return _view(staff, now)
        if not active:
            if staff.id == actor.staff_id:
                raise InvalidInput(
                    "You cannot deactivate the account you are signed in with. "
                    "Ask another administrator."
                )
            _keep_an_admin(session, staff, f"Deactivating '{staff.username}'")
        staff.active = active
        sync_login(session, staff)
        audit.record(
            session,
            actor,
            "staff.activate" if active else "staff.deactivate",
            at=now,
            entity="staff",
            entity_id=staff.id,
            before={"active": not active},
            after={"active": active},
        )
        return _view(staff, now)


def deactivate(rt: Runtime, actor: Actor, username: str) -> StaffAccount:
    return set_active(rt, actor, username, False)


def reactivate(rt: Runtime, actor: Actor, username: str) -> StaffAccount:
    return set_active(rt, actor, username, True)


def map_os_user(rt: Runtime, actor: Actor, username: str, os_user: str | None) -> StaffAccount:
    """Let the computer account `os_user` sign in as `username` (None or "" removes it)."""
    actor.require(Role.ADMIN, "Mapping a computer account to staff")
    name = (os_user or "").strip() or None
    if name is not None and (len(name) > 128 or any(c.isspace() for c in name)):
        raise InvalidInput(
            "A computer account name has no spaces and at most 128 characters, "
            "like 'jdoe' or 'CAMPUS\\jdoe'."
        )
    now = rt.clock.now()
    with rt.db.transaction() as session:
        staff = _account(session, username)
        if name is not None:
            holder = session.scalar(select(Staff).where(Staff.os_user == name))
            if holder is not None and holder.id != staff.id:
                raise Conflict(
                    f"The computer account '{name}' already signs in as '{holder.username}'. "
                    "Remove that mapping first."
                )
        before = staff.os_user
        staff.os_user = name
        audit.record(
            session,
            actor,
            "staff.map_os_user",
            at=now,
            entity="staff",
            entity_id=staff.id,
            before={"os_user": before},
            after={"os_user": name},
        )
        return _view(staff, now)
