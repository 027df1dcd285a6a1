"""LookupUser: who a patron is, as much of it as the partner asks for."""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

from app.ncip import messages as m
from app.ncip.handling import (
    Context,
    Result,
)
from app.ncip.problems import NcipProblem, ProblemType
from app.ncip.responses import add, add_user_id
from app.people.patrons import patron_blocks, patron_by_reference
from db.models import (
    Branch,
)

# --- LookupUser ------------------------------------------------------------------------


@dataclass(frozen=True)
class UserFound(Result):
    user_id: str
    first_name: str
    last_name: str
    email: str
    patron_type: str
    home_branch: str
    blocks: tuple[str, ...]
    element_types: tuple[str, ...]

    def render(self, response: Element, agency: str) -> None:
        add_user_id(response, agency, self.user_id)
        wanted = set(self.element_types)
        if not wanted:
            return
        fields = add(response, "UserOptionalFields")
        if "name information" in wanted:
            personal = add(add(fields, "NameInformation"), "PersonalNameInformation")
            structured = add(personal, "StructuredPersonalUserName")
            if self.first_name:
                add(structured, "GivenName", self.first_name)
            add(structured, "Surname", self.last_name)
            add(
                personal,
                "UnstructuredPersonalUserName",
                f"{self.first_name} {self.last_name}".strip(),
            )
        if "user address information" in wanted and self.email:
            address = add(fields, "UserAddressInformation")
            add(address, "UserAddressRoleType", "Home")
            electronic = add(address, "ElectronicAddress")
            add(electronic, "ElectronicAddressType", "mailto")
            add(electronic, "ElectronicAddressData", self.email)
        if "user privilege" in wanted:
            privilege = add(fields, "UserPrivilege")
            add(privilege, "AgencyId", agency)
            add(privilege, "AgencyUserPrivilegeType", self.patron_type)
            add(privilege, "UserPrivilegeDescription", "patron type")
            if self.home_branch:
                home = add(fields, "UserPrivilege")
                add(home, "AgencyId", agency)
                add(home, "AgencyUserPrivilegeType", "home branch")
                add(home, "UserPrivilegeDescription", self.home_branch)
        if "block or trap" in wanted:
            for block in self.blocks:
                element = add(fields, "BlockOrTrap")
                add(element, "AgencyId", agency)
                add(element, "BlockOrTrapType", block)
        if "user id" in wanted:
            add_user_id(fields, agency, self.user_id)


def lookup_user(ctx: Context, msg: m.LookupUser) -> UserFound:
    patron = patron_by_reference(ctx.session, msg.user_id)
    if patron is None or patron.is_ill_dummy:
        raise NcipProblem(
            ProblemType.UNKNOWN_USER,
            "No patron has this campus ID or patron barcode.",
            element="UserIdentifierValue",
            value=msg.user_id,
        )
    home = ctx.session.get(Branch, patron.home_branch_id) if patron.home_branch_id else None
    blocks = patron_blocks(ctx.session, patron, ctx.rt.clock.today(), ctx.settings)
    return UserFound(
        user_id=patron.patron_id,
        first_name=patron.first_name,
        last_name=patron.last_name,
        email=patron.email,
        patron_type=patron.patron_type.value,
        home_branch=home.code if home else "",
        blocks=tuple(b.message for b in blocks),
        element_types=msg.element_types,
    )
