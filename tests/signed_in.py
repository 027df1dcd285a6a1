"""Demo staff signed in at their usual branch, for tests that call a service directly."""

from __future__ import annotations

from app.library.actors import Actor
from app.library.runtime import Runtime
from app.people.staff import actor_for


def as_desk(rt: Runtime) -> Actor:
    """Dana Desk at METRO (the desk role)."""
    return actor_for(rt, "desk", "METRO", "test-desk")


def as_ctl(rt: Runtime) -> Actor:
    """Chris Teamlead at METRO (the team-lead role)."""
    return actor_for(rt, "ctl", "METRO", "test-desk")


def as_office(rt: Runtime) -> Actor:
    """Olivia Office at the ILL office's virtual branch."""
    return actor_for(rt, "office", "WS-ILL", "test-desk")


def as_admin(rt: Runtime) -> Actor:
    """The demo administrator at NEC."""
    return actor_for(rt, "admin", "NEC", "test-desk")
