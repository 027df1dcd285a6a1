"""Who is acting, and where: every service call names its actor."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from app.library.errors import PermissionDenied
from db.models import Role

# What each role may do, beyond what the roles below it may do.
_RANK = {Role.DESK: 0, Role.CTL: 1, Role.ILL_OFFICE: 2, Role.ADMIN: 3}


@dataclass(frozen=True)
class Actor:
    """A signed-in staff member at a workstation running at one branch."""

    staff_id: int
    username: str
    full_name: str
    role: Role
    branch_code: str
    workstation: str = ""

    def has_role(self, needed: Role) -> bool:
        return _RANK[self.role] >= _RANK[needed]

    def require(self, needed: Role, action: str) -> None:
        """Refuse `action` unless the actor's role is `needed` or above."""
        if not self.has_role(needed):
            raise PermissionDenied(
                f"{action} needs the '{needed.value}' role; you are signed in as "
                f"'{self.role.value}'. Ask a colleague with that role, or an administrator."
            )


def this_workstation() -> str:
    return socket.gethostname()


def unattended(job: str, workstation: str = "") -> Actor:
    """The actor of work nobody signed in to: first-time setup, a command run without
    --staff, the desk's own start-up.

    It has an administrator's rights because whoever starts such work already holds the
    database's address and credentials, which give more than any role. The audit trail
    names the job (and no staff id), so its actions stay told apart from people's.
    """
    return Actor(0, job, job, Role.ADMIN, "", workstation)
