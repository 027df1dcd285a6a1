"""Trusted NCIP partners: which ILL systems may drive the desk, with what secret, from where.

The shared secret is stored as an argon2 hash. Checking argon2 costs about a tenth of a
second on purpose, so a secret that once matched a stored hash is remembered (as a digest,
in this process only) and later messages cost a dictionary lookup; a changed secret has
a new hash, so nothing stale is ever accepted.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import threading
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.library.actors import Actor
from app.library.errors import InvalidInput, NotFound
from app.library.runtime import Runtime
from app.ncip.messages import Header
from app.ncip.problems import NcipProblem, ProblemType
from app.records import audit
from db.models import NcipPartner, Role

ACTOR_PREFIX = "ncip:"
MIN_SECRET_LENGTH = 16
_AGENCY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$")
_hasher = PasswordHasher()
_verified: set[tuple[str, str]] = set()
_verified_lock = threading.Lock()
_MAX_REMEMBERED = 1000


@dataclass(frozen=True)
class PartnerView:
    agency_id: str
    has_secret: bool
    networks: tuple[str, ...]  # empty: any address
    active: bool
    updated_at: datetime


def _view(partner: NcipPartner) -> PartnerView:
    return PartnerView(
        agency_id=partner.agency_id,
        has_secret=partner.secret_hash is not None,
        networks=tuple(partner.networks or ()),
        active=partner.active,
        updated_at=partner.updated_at,
    )


def parse_agency(text: str) -> str:
    value = text.strip().upper()
    if not _AGENCY.match(value):
        raise InvalidInput(
            f"'{text.strip()[:40]}' is not an agency id: letters, digits, dots, dashes or "
            "colons, at most 64, as the ILL system sends it in FromAgencyId."
        )
    return value


def parse_networks(cidrs: list[str]) -> list[str]:
    networks = []
    for text in cidrs:
        try:
            networks.append(str(ipaddress.ip_network(text.strip(), strict=False)))
        except ValueError:
            raise InvalidInput(
                f"'{text.strip()[:60]}' is not a network. Write it as an address or CIDR "
                "block, like 192.0.2.10 or 192.0.2.0/24."
            ) from None
    return networks


def allow_partner(
    rt: Runtime,
    actor: Actor,
    agency: str,
    *,
    secret: str | None = None,
    networks: list[str] | None = None,
) -> PartnerView:
    """Trust an ILL system (or change its secret or networks); administrators only."""
    actor.require(Role.ADMIN, "Trusting an NCIP partner")
    agency_id = parse_agency(agency)
    allowed = parse_networks(networks) if networks is not None else None
    if secret is not None and len(secret.strip()) < MIN_SECRET_LENGTH:
        raise InvalidInput(
            f"A shared secret needs at least {MIN_SECRET_LENGTH} characters; use a long random "
            "one (the ILL system stores it, nobody types it)."
        )
    now = rt.clock.now()
    with rt.db.transaction() as session:
        partner = session.scalar(select(NcipPartner).where(NcipPartner.agency_id == agency_id))
        created = partner is None
        if partner is None:
            partner = NcipPartner(agency_id=agency_id, networks=[], created_at=now)
            session.add(partner)
        if secret is not None:
            partner.secret_hash = _hasher.hash(secret.strip())
        if allowed is not None:
            partner.networks = allowed
        partner.active = True
        partner.updated_at = now
        session.flush()
        audit.record(
            session,
            actor,
            "ncip.partner_allowed",
            at=now,
            entity="ncip_partner",
            entity_id=partner.id,
            after={
                "agency_id": agency_id,
                "new": created,
                "secret_changed": secret is not None,
                "networks": list(partner.networks),
            },
        )
        return _view(partner)


def deny_partner(rt: Runtime, actor: Actor, agency: str) -> PartnerView:
    """Stop trusting an ILL system: its messages are refused from now on."""
    actor.require(Role.ADMIN, "Withdrawing an NCIP partner's trust")
    agency_id = parse_agency(agency)
    now = rt.clock.now()
    with rt.db.transaction() as session:
        partner = session.scalar(select(NcipPartner).where(NcipPartner.agency_id == agency_id))
        if partner is None:
            raise NotFound(f"No NCIP partner has the agency id {agency_id}.")
        partner.active = False
        partner.updated_at = now
        audit.record(
            session,
            actor,
            "ncip.partner_denied",
            at=now,
            entity="ncip_partner",
            entity_id=partner.id,
            after={"agency_id": agency_id},
        )
        return _view(partner)


def list_partners(rt: Runtime, actor: Actor) -> list[PartnerView]:
    actor.require(Role.ADMIN, "Listing NCIP partners")
    with rt.db.reading() as session:
        rows = session.scalars(select(NcipPartner).order_by(NcipPartner.agency_id)).all()
        return [_view(p) for p in rows]


def partner_actor(agency_id: str, branch_code: str) -> Actor:
    """The partner as the actor of every change it makes: audited as `ncip:AGENCY`."""
    return Actor(
        staff_id=0,
        username=f"{ACTOR_PREFIX}{agency_id}",
        full_name=f"NCIP partner {agency_id}",
        role=Role.ILL_OFFICE,
        branch_code=branch_code,
        workstation="ncip",
    )


def _secret_matches(stored: str, presented: str) -> bool:
    key = (stored, hashlib.sha256(presented.encode("utf-8")).hexdigest())
    with _verified_lock:
        if key in _verified:
            return True
    try:
        _hasher.verify(stored, presented)
    except (VerificationError, InvalidHashError):
        return False
    with _verified_lock:
        if len(_verified) >= _MAX_REMEMBERED:
            _verified.clear()
        _verified.add(key)
    return True


def _address_allowed(networks: list[str], remote_addr: str) -> bool:
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(remote_addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(n) for n in networks)


def authenticate(
    session: Session, header: Header, remote_addr: str, basic: tuple[str, str] | None
) -> NcipPartner:
    """The trusted partner that sent this message, or the Problem that refuses it."""
    agency = header.from_agency.strip().upper()
    if not agency and basic is not None:
        agency = basic[0].strip().upper()
    if not agency:
        raise NcipProblem(
            ProblemType.NEEDED_DATA_MISSING,
            "The message has no InitiationHeader/FromAgencyId: send the agency id this "
            "library registered for your ILL system.",
            element="FromAgencyId",
        )
    partner = session.scalar(select(NcipPartner).where(func.upper(NcipPartner.agency_id) == agency))
    if partner is None or not partner.active:
        raise NcipProblem(
            ProblemType.UNKNOWN_AGENCY,
            "This agency is not a trusted NCIP partner of the library. The library's "
            "administrator adds it with `illdesk ncip allow`.",
            element="FromAgencyId",
            value=agency,
        )
    if not _address_allowed(list(partner.networks or ()), remote_addr):
        raise NcipProblem(
            ProblemType.AGENCY_AUTHENTICATION_FAILED,
            "Messages from this agency are accepted only from the networks the library "
            "registered for it; this one came from elsewhere.",
            element="FromAgencyId",
            value=agency,
        )
    if partner.secret_hash is not None:
        presented = header.authentication or (basic[1] if basic is not None else "")
        if not presented or not _secret_matches(partner.secret_hash, presented):
            raise NcipProblem(
                ProblemType.AGENCY_AUTHENTICATION_FAILED,
                "The shared secret is missing or wrong. Send it in FromAgencyAuthentication "
                "or as the HTTP Basic password.",
                element="FromAgencyAuthentication",
            )
    return partner
