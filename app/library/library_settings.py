"""Library-wide settings, shared by every desk through the database.

Defaults live here, in one typed place; the database stores only what a library changed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.library import amounts, setting_specs
from app.library.errors import InvalidInput
from db.models import LibrarySetting


@dataclass(frozen=True)
class LibrarySettings:
    library_name: str = "Example College Library"
    # Set by `illdesk demo`: the sign-in screen then lists the demo accounts.
    demo_database: bool = False
    library_oclc_symbol: str = "EXC"
    ill_dummy_barcode: str = "777110346"
    # Days an ILL item waits on the hold shelf (never past the lender's due date).
    pickup_days: int = 10
    # Which way a due date on a closed day moves: "earlier" never passes the lender's date.
    due_date_direction: str = "earlier"
    # Public holidays pre-filled into the closures calendar (python-holidays codes).
    holiday_country: str = "US"
    holiday_subdivision: str = ""
    # Kept by the software: the last year whose holidays were filled in, and for where
    # ("US/TX"); the daily run fills this year and next when they fall behind.
    public_holidays_through: int = 0
    public_holidays_for: str = ""
    # How straps and slips name the patron: "surname_initial", "surname_last4", "full_name".
    patron_display: str = "surname_initial"
    institutional_email_domain: str = "example.edu"
    processing_fee: str = "30.00"
    # The largest amount anyone may type (charges, IFM, fees): a typo's guard.
    amount_maximum: str = "100000.00"
    # Blocks: whether each kind stops a checkout.
    block_checkout_on_bursar_charges: bool = False
    block_checkout_on_overdue_ill: bool = False
    transit_overdue_days: int = 7
    lender_overdue_days: int = 21
    lender_lost_days: int = 42
    ifm_settlement_threshold: str = "100.00"
    due_soon_days: int = 3
    own_item_bursar_minimum: str = "25.00"
    hold_estimated_charges: bool = True
    # Reporting a charge to the bursar places a transcript hold on the patron.
    bursar_transcript_hold: bool = True
    # An overdue ILL loan gets a reminder at most this often (days).
    overdue_notice_every_days: int = 7
    # Local date (ISO) of the last daily notice run; the desk offers it when it is not today's.
    notices_last_run: str = ""
    retention_days: int = 30
    # Local date (ISO) of the last anonymisation run; the app runs it once a day.
    privacy_last_run: str = ""
    offline_checkouts_allowed: bool = False
    # Days a replayed offline journal is kept on the desk PC for audit before it is purged.
    offline_journal_keep_days: int = 14
    strap_messages: tuple[str, ...] = (
        "Return in person to any campus library desk during open hours.",
        "Renew through your ILL account, not at the desk: only the lender grants renewals.",
    )
    # NCIP: our agency id (blank: the OCLC symbol); messages to another agency are refused.
    ncip_agency_id: str = ""
    # NCIP AcceptItem: "ours" makes the strap barcode here and returns it; "sent" uses the
    # ItemId the ILL system sent as the strap barcode.
    ncip_item_id_policy: str = "ours"
    # NCIP PickupLocation values the ILL system sends, mapped to branch codes ("arch=METRO").
    ncip_pickup_locations: tuple[str, ...] = ()
    # Request-number prefixes meaning "in library use only" (ILLiad's prefix setting), and
    # other prefixes the ILL system puts before our request numbers, removed on arrival.
    ncip_library_use_prefixes: tuple[str, ...] = ()
    ncip_request_prefixes: tuple[str, ...] = ()
    # User ids an ILL system sends for the ILL dummy account (ILLiad's "pseudopatron").
    ncip_ill_account_ids: tuple[str, ...] = ("pseudopatron",)
    # A delivered copy (article) stays downloadable this many days or views.
    copy_available_days: int = 30
    copy_max_views: int = 5
    # Book straps: colours are hex RGB; texts print as written.
    strap_colour: str = "#1F3A5F"
    return_strap_colour: str = "#FFE14D"
    strap_keep_notice: str = "DO NOT REMOVE THIS STRAP"
    strap_back_messages: tuple[str, ...] = (
        "This item was borrowed for you from another library through interlibrary loan.",
        "The lending library sets the due date; late, lost or damaged items are billed "
        "at its replacement cost plus a processing fee.",
        "Questions: ask at any campus library desk, or contact the ILL office.",
    )
    strap_flap_patron: str = (
        "Use this item in the library only. Return it to the desk after each use; "
        "ask the ILL office to extend it."
    )
    strap_flap_staff: str = (
        "Staff: never check out. Record each use as in-house use; keep on the hold shelf "
        "between uses."
    )


FIELDS = {f.name: f for f in dataclasses.fields(LibrarySettings)}


_CACHE_KEY = "illdesk.library_settings"


def load(session: Session) -> LibrarySettings:
    """The settings, read once per session: several services joined in one transaction
    (an NCIP message) share the first read instead of each reading them again."""
    cached = session.info.get(_CACHE_KEY)
    if isinstance(cached, LibrarySettings):
        return cached
    stored = {row.key: row.value for row in session.scalars(select(LibrarySetting))}
    values: dict[str, Any] = {}
    for name, value in stored.items():
        if name in FIELDS:
            values[name] = tuple(value) if isinstance(value, list) else value
    settings = LibrarySettings(**values)
    session.info[_CACHE_KEY] = settings
    return settings


def within_amount_maximum(session: Session, value: Decimal | str, what: str) -> Decimal:
    """`value` read as an amount no larger than the library's `amount_maximum` setting."""
    cap = amounts.amount_maximum(load(session).amount_maximum)
    return amounts.parse_amount(value, what, maximum=cap)


def save(session: Session, **changes: Any) -> LibrarySettings:
    """Store changed settings; unknown names, wrong types and values out of each setting's
    range (`app.library.setting_specs`) are refused, not guessed or left for a daily job."""
    defaults = LibrarySettings()
    current = load(session)
    cap_text = changes.get("amount_maximum", current.amount_maximum)
    cap = amounts.amount_maximum(cap_text if isinstance(cap_text, str) else "")
    for name, value in changes.items():
        if name not in FIELDS:
            raise InvalidInput(f"There is no library setting called '{name}'.")
        expected = type(getattr(defaults, name))
        if expected is tuple and isinstance(value, list):
            value = tuple(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise InvalidInput(f"The setting '{name}' takes a {expected.__name__}, not {value!r}.")
        value = setting_specs.check(name, value, cap)
        stored = list(value) if isinstance(value, tuple) else value
        row = session.get(LibrarySetting, name)
        if row is None:
            session.add(LibrarySetting(key=name, value=stored))
        else:
            row.value = stored
    session.flush()
    session.info.pop(_CACHE_KEY, None)
    return load(session)
