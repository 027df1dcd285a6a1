"""What every NCIP message handler shares: its context, its result, refusals as Problems,
and the look-ups of requests, branches and items."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Protocol
from xml.etree.ElementTree import Element

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.borrowing.request_numbers import temporary_item_for
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.library.library_settings import LibrarySettings
from app.library.runtime import Runtime
from app.library.scanning import InvalidScan, normalize_scan
from app.ncip.problems import NcipProblem, ProblemType
from db.models import (
    Branch,
    Direction,
    IllRequest,
    Item,
)

ACCEPT_ACTIONS = (
    "hold for pickup",
    "hold for pickup and notify",
    "circulate",
    "circulate and notify",
)
LIBRARY_USE_WORDS = ("library use only", "in library use", "in-library use")
UNKNOWN_LENDER = "UNKN"


@dataclass(frozen=True)
class Context:
    rt: Runtime
    actor: Actor  # the partner, at the ILL office's branch
    settings: LibrarySettings
    session: Session  # the unit of work every service call joins
    agency: str  # our agency id
    partner: str  # theirs


class Result(Protocol):
    """What a handler did, written into the `<service>Response`."""

    def render(self, response: Element, agency: str) -> None: ...


@contextmanager
def refusals(
    element: str,
    value: str,
    *,
    not_found: ProblemType = ProblemType.UNKNOWN_ITEM,
    conflict: ProblemType = ProblemType.REQUEST_ALREADY_PROCESSED,
    invalid: ProblemType = ProblemType.INVALID_MESSAGE_SYNTAX,
) -> Iterator[None]:
    """A service's refusal as the Problem this message's element and value explain."""
    try:
        yield
    except NcipProblem:
        raise
    except NotFound as error:
        raise NcipProblem(not_found, error.message, element=element, value=value) from None
    except Conflict as error:
        raise NcipProblem(conflict, error.message, element=element, value=value) from None
    except (InvalidInput, PermissionDenied) as error:
        raise NcipProblem(invalid, error.message, element=element, value=value) from None


# --- shared look-ups -------------------------------------------------------------------


def request_number(text: str, settings: LibrarySettings) -> tuple[str, bool]:
    """Our request number from the ILL system's value, and whether its prefix means the
    item is for use in the library only (ILLiad puts such prefixes before the number)."""
    value = text.strip()
    for prefix in settings.ncip_library_use_prefixes:
        if prefix and value.upper().startswith(prefix.upper()):
            return value[len(prefix) :].strip(), True
    for prefix in settings.ncip_request_prefixes:
        if prefix and value.upper().startswith(prefix.upper()):
            return value[len(prefix) :].strip(), False
    return value, False


def pickup_branch(session: Session, settings: LibrarySettings, text: str) -> Branch:
    mapping = {}
    for line in settings.ncip_pickup_locations:
        name, _, code = line.partition("=")
        mapping[name.strip().lower()] = code.strip()
    code = mapping.get(text.strip().lower(), text.strip())
    branch = session.scalar(select(Branch).where(func.upper(Branch.code) == code.upper()))
    if branch is None or not branch.active:
        raise NcipProblem(
            ProblemType.UNKNOWN_VALUE,
            "No pickup branch has this code, and the library's pickup-location map "
            "(setting ncip_pickup_locations) does not name it.",
            element="PickupLocation",
            value=text,
        )
    if branch.virtual:
        raise NcipProblem(
            ProblemType.UNKNOWN_VALUE,
            f"{branch.code} is the ILL office's virtual branch, not a place where patrons "
            "pick items up. Send the patron's campus.",
            element="PickupLocation",
            value=text,
        )
    return branch


def _item_by_barcode(session: Session, barcode: str) -> Item | None:
    return session.scalar(select(Item).where(Item.barcode == barcode))


def find_item(ctx: Context, item_id: str, request_id: str = "") -> Item | None:
    """The item an ILL system means: our barcode, else the ILL request its number names
    (ILLiad sends the transaction number as the item's identifier)."""
    session = ctx.session
    scan = normalize_scan(item_id) if item_id else None
    if isinstance(scan, InvalidScan):
        scan = None
    if scan is not None:
        item = _item_by_barcode(session, scan.barcode)
        if item is not None:
            return item
    for candidate in (item_id, request_id):
        if not candidate:
            continue
        number, _ = request_number(candidate, ctx.settings)
        number = number.split("-", 1)[0]  # ILLiad's "12345678-1OF2" pieces
        request = session.scalar(select(IllRequest).where(IllRequest.request_number == number))
        if request is None:
            continue
        if request.direction is Direction.BORROWING:
            item = temporary_item_for(session, request)
        else:
            item = session.get(Item, request.item_id) if request.item_id else None
        if item is not None:
            return item
    return None


def _unknown_item(item_id: str) -> NcipProblem:
    return NcipProblem(
        ProblemType.UNKNOWN_ITEM,
        "No item here has this barcode, and no ILL request here has this number.",
        element="ItemIdentifierValue",
        value=item_id,
    )


def _at(ctx: Context, branch_id: int | None) -> Actor:
    branch = ctx.session.get(Branch, branch_id) if branch_id else None
    return replace(ctx.actor, branch_code=branch.code) if branch else ctx.actor
