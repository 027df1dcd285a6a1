"""Branches as the desk sees them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.library.actors import Actor
from app.library.errors import NotFound
from app.library.runtime import Runtime
from db.models import Branch


@dataclass(frozen=True)
class BranchInfo:
    code: str
    name: str
    virtual: bool
    ill_office: bool
    location: str | None  # the campus a virtual branch sits at


def list_branches(rt: Runtime, actor: Actor) -> list[BranchInfo]:
    """The active branches, by code."""
    with rt.db.reading() as session:
        return branch_infos(session)


def branch_infos(session: Session) -> list[BranchInfo]:
    branches = session.scalars(select(Branch).where(Branch.active).order_by(Branch.code)).all()
    codes = {b.id: b.code for b in branches}
    return [
        BranchInfo(
            code=b.code,
            name=b.name,
            virtual=b.virtual,
            ill_office=b.ill_office,
            location=codes.get(b.location_id) if b.location_id else None,
        )
        for b in branches
    ]


def branch_by_code(session: Session, code: str) -> Branch:
    branch = session.scalar(select(Branch).where(Branch.code == code.upper()))
    if branch is None:
        raise NotFound(f"There is no branch '{code}'. `illdesk branches` lists the branch codes.")
    return branch


_OFFICE_KEY = "illdesk.ill_office_branch"


def ill_office_branch(session: Session) -> Branch:
    """The branch items go back to: 'route to WS-ILL' in the example library.

    Read once per transaction: several services joined in one transaction (an NCIP
    message) share the first read. The flag is set when branches are set up, never by the
    services that ask for the office."""
    transaction = session.get_transaction()
    cached = session.info.get(_OFFICE_KEY)
    if cached is not None and transaction is not None and cached[0] is transaction:
        office: Branch = cached[1]
        return office
    branch = session.scalar(select(Branch).where(Branch.ill_office).order_by(Branch.id))
    if branch is None:
        raise NotFound("No branch is marked as the ILL office. An administrator sets one.")
    session.info[_OFFICE_KEY] = (session.get_transaction(), branch)
    return branch
