"""What every library setting takes: its type, its range, its words for the administrator.

A value outside these rules is refused when it is set (by the Admin tab, `illdesk settings
set` or code), never discovered later by the daily jobs: `due_soon_days 99999999` overflows
a date, `retention_days 1e20` is no number, `processing_fee NaN` bills nonsense, `strap_colour
#GGGGGG` stops strap printing, an empty or `*` e-mail domain accepts any address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.library import amounts
from app.library.errors import InvalidInput

LIST_SEPARATOR = "|"


@dataclass(frozen=True)
class SettingSpec:
    name: str
    label: str
    description: str
    kind: str  # text, number, yes/no, amount, choice, list, colour, domain, code, internal
    low: int = 0
    high: int = 0
    choices: tuple[str, ...] = ()
    max_length: int = 200
    max_lines: int = 8
    allow_zero: bool = False  # amounts
    pattern: str = ""  # code: a full-match regular expression
    example: str = ""

    @property
    def internal(self) -> bool:
        return self.kind == "internal"

    @property
    def rule(self) -> str:
        """The range in words, shown beside the description."""
        if self.kind == "number":
            return f"a whole number from {self.low} to {self.high}"
        if self.kind == "amount":
            floor = "0.00" if self.allow_zero else "more than 0.00"
            if self.name == "amount_maximum":  # the cap itself: what the ledger holds
                return f"an amount in dollars, {floor}, at most {amounts.HARD_MAXIMUM:,}"
            return f"an amount in dollars, {floor}, at most the amount_maximum setting"
        if self.kind == "choice":
            return "one of: " + ", ".join(self.choices)
        if self.kind == "yes/no":
            return "yes or no"
        if self.kind == "colour":
            return "a colour as #RRGGBB, like #1F3A5F"
        if self.kind == "domain":
            return "an e-mail domain such as example.edu (no @, no *)"
        if self.kind == "list":
            return (
                f"up to {self.max_lines} lines of at most {self.max_length} characters, "
                f"separated by {LIST_SEPARATOR}"
            )
        if self.kind == "code":
            return f"text like {self.example}"
        return f"text of at most {self.max_length} characters"


def _n(name: str, label: str, low: int, high: int, description: str) -> SettingSpec:
    return SettingSpec(name, label, description, "number", low=low, high=high)


def _amount(name: str, label: str, description: str, *, zero: bool = False) -> SettingSpec:
    return SettingSpec(name, label, description, "amount", allow_zero=zero)


def _flag(name: str, label: str, description: str) -> SettingSpec:
    return SettingSpec(name, label, description, "yes/no")


def _text(name: str, label: str, description: str, length: int = 200) -> SettingSpec:
    return SettingSpec(name, label, description, "text", max_length=length)


def _lines(name: str, label: str, description: str) -> SettingSpec:
    return SettingSpec(name, label, description, "list", max_length=200, max_lines=6)


SPECS: dict[str, SettingSpec] = {
    spec.name: spec
    for spec in (
        _text("library_name", "Library name", "Printed on slips, straps and notices.", 100),
        SettingSpec("demo_database", "Demo database", "Set by `illdesk demo`.", "internal"),
        SettingSpec(
            "library_oclc_symbol",
            "Our OCLC symbol",
            "The library's own OCLC symbol, used in IFM requests.",
            "code",
            pattern=r"[A-Z0-9]{3,5}",
            example="EXC (3 to 5 capital letters or digits)",
        ),
        SettingSpec(
            "ill_dummy_barcode",
            "ILL account barcode",
            "Barcode of the patron record our own items are lent out to.",
            "code",
            pattern=r"[A-Za-z0-9-]{1,32}",
            example="777110346 (letters, digits or -, up to 32)",
        ),
        _n(
            "pickup_days",
            "Days on the hold shelf",
            1,
            60,
            "How long an arrived ILL item waits for its patron (never past the lender's due date).",
        ),
        SettingSpec(
            "due_date_direction",
            "Due date on a closed day",
            "Which way a due date on a closed day moves: 'earlier' never passes the lender's date.",
            "choice",
            choices=("earlier", "later"),
        ),
        SettingSpec(
            "holiday_country",
            "Holiday country",
            "Public holidays pre-filled in the closures calendar.",
            "code",
            pattern=r"[A-Z]{2}",
            example="US (two capital letters)",
        ),
        SettingSpec(
            "holiday_subdivision",
            "Holiday state or region",
            "Regional holidays too; empty for the country's only.",
            "code",
            pattern=r"[A-Z0-9-]{0,6}",
            example="CA, or empty",
        ),
        SettingSpec(
            "patron_display",
            "Patron name on shelves",
            "How straps and slips name the patron.",
            "choice",
            choices=("surname_initial", "surname_last4", "full_name"),
        ),
        SettingSpec(
            "institutional_email_domain",
            "Institutional e-mail domain",
            "Every notice goes to an address at this domain.",
            "domain",
        ),
        _amount(
            "processing_fee",
            "Processing fee",
            "Charged with the replacement cost when an ILL item is lost.",
        ),
        _amount(
            "amount_maximum",
            "Largest amount",
            "No amount above it can be typed anywhere (charges, IFM, fees): a typo's guard.",
        ),
        _flag(
            "block_checkout_on_bursar_charges",
            "Bursar charges block check-out",
            "A patron with charges reported to the bursar cannot check out.",
        ),
        _flag(
            "block_checkout_on_overdue_ill",
            "Overdue ILL blocks check-out",
            "A patron with an overdue ILL item cannot check out another.",
        ),
        _n(
            "transit_overdue_days",
            "Transit overdue after (days)",
            1,
            90,
            "An item in inter-campus mail longer than this is listed as overdue.",
        ),
        _n(
            "lender_overdue_days",
            "Overdue message after (days)",
            1,
            365,
            "Days overdue before a lent item's overdue message to the borrower.",
        ),
        _n(
            "lender_lost_days",
            "Lost after (days)",
            1,
            730,
            "Days overdue before a lent item is considered lost and billable.",
        ),
        _amount(
            "ifm_settlement_threshold",
            "IFM settlement threshold",
            "Settle IFM balances once they reach plus or minus this.",
            zero=True,
        ),
        _n(
            "due_soon_days",
            "Due-soon notice (days before)",
            0,
            60,
            "Days before the due date the 'due soon' notice goes out.",
        ),
        _amount(
            "own_item_bursar_minimum",
            "Own-item bursar minimum",
            "Our own items' charges under this are not reported to the bursar.",
            zero=True,
        ),
        _flag(
            "hold_estimated_charges",
            "Hold estimated charges",
            "Estimated replacement costs wait for the lender's bill before the bursar.",
        ),
        _flag(
            "bursar_transcript_hold",
            "Transcript hold",
            "Reporting a charge to the bursar places a transcript hold.",
        ),
        _n(
            "overdue_notice_every_days",
            "Overdue reminder every (days)",
            1,
            90,
            "An overdue ILL loan gets a reminder at most this often.",
        ),
        SettingSpec("notices_last_run", "Notices last run", "Kept by the daily run.", "internal"),
        _n(
            "retention_days",
            "Keep patron links (days)",
            1,
            3650,
            "Days a returned loan keeps its patron before it is anonymised.",
        ),
        SettingSpec("privacy_last_run", "Privacy last run", "Kept by the daily run.", "internal"),
        SettingSpec(
            "public_holidays_through",
            "Public holidays filled through",
            "The last year the daily run filled with public holidays.",
            "internal",
        ),
        SettingSpec(
            "public_holidays_for",
            "Public holidays filled for",
            "The holiday country and region the daily run filled them for.",
            "internal",
        ),
        _flag(
            "offline_checkouts_allowed",
            "Offline check-outs",
            "Desks may check out while the database cannot be reached.",
        ),
        _n(
            "offline_journal_keep_days",
            "Keep replayed journals (days)",
            0,
            365,
            "Days a replayed offline journal stays on the desk PC for audit.",
        ),
        _lines("strap_messages", "Strap messages", "Lines printed on the front of a strap."),
        SettingSpec(
            "ncip_agency_id",
            "NCIP agency id",
            "Our agency id in NCIP messages (blank: the library's OCLC symbol).",
            "code",
            pattern=r"[A-Za-z0-9._:-]{0,50}",
            example="OKT",
        ),
        SettingSpec(
            "ncip_item_id_policy",
            "NCIP strap barcode",
            "ours: the strap barcode is made here and returned; sent: the ItemId sent is used.",
            "choice",
            choices=("ours", "sent"),
        ),
        SettingSpec(
            "ncip_pickup_locations",
            "NCIP pickup locations",
            "PickupLocation values mapped to branch codes, like Southeast Campus=SE.",
            "list",
            max_length=200,
            max_lines=50,
        ),
        SettingSpec(
            "ncip_library_use_prefixes",
            "NCIP library-use prefixes",
            "Request-number prefixes that mean in library use only.",
            "list",
            max_length=40,
            max_lines=20,
        ),
        SettingSpec(
            "ncip_request_prefixes",
            "NCIP request prefixes",
            "Other prefixes before our request numbers, removed on arrival.",
            "list",
            max_length=40,
            max_lines=20,
        ),
        SettingSpec(
            "ncip_ill_account_ids",
            "NCIP ILL account ids",
            "User ids that mean the ILL dummy account (ILLiad sends pseudopatron).",
            "list",
            max_length=100,
            max_lines=20,
        ),
        _n(
            "copy_available_days",
            "Copy available (days)",
            1,
            365,
            "Days a delivered article stays downloadable.",
        ),
        _n("copy_max_views", "Copy views", 1, 100, "Views of a delivered article allowed."),
        SettingSpec("strap_colour", "Strap colour", "Colour of a book strap's band.", "colour"),
        SettingSpec(
            "return_strap_colour",
            "Return strap colour",
            "Colour of the strap of an item going back to the ILL office.",
            "colour",
        ),
        _text("strap_keep_notice", "Keep-the-strap notice", "Printed in capitals on a strap.", 60),
        _lines("strap_back_messages", "Strap back texts", "Lines on the back of a strap."),
        _text(
            "strap_flap_patron",
            "Flap text for the patron",
            "On the flap of an in-library-use-only item.",
            300,
        ),
        _text(
            "strap_flap_staff",
            "Flap text for staff",
            "On the flap of an in-library-use-only item.",
            300,
        ),
    )
}

_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
_DOMAIN = re.compile(r"(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


_NAMES = re.compile(
    r"\b("
    + "|".join(sorted((n for n, s in SPECS.items() if not s.internal), key=len, reverse=True))
    + r")\b"
)


def in_words(text: str) -> str:
    """`text` (a refusal, a rule) with each setting's key replaced by its label, for the window.

    The command line keeps the keys: they are what `illdesk settings set` takes.
    """
    return _NAMES.sub(lambda found: SPECS[found.group(1)].label, text)


def spec_for(name: str) -> SettingSpec:
    spec = SPECS.get(name)
    if spec is None:
        raise InvalidInput(
            f"There is no library setting called '{name}'. `illdesk settings list` shows them."
        )
    return spec


def parse_text(name: str, text: str, amount_cap: Decimal) -> object:
    """The typed value of `text` for the setting, checked; a refusal says what it takes."""
    spec = spec_for(name)
    value = text.strip()
    typed: object = value
    if spec.kind == "yes/no":
        if value.lower() in ("yes", "true", "on", "1"):
            typed = True
        elif value.lower() in ("no", "false", "off", "0"):
            typed = False
        else:
            raise InvalidInput(f"{name} is yes or no.")
    elif spec.kind == "number":
        if not (value.isascii() and value.isdigit()) or len(value) > 6:
            raise InvalidInput(f"{name} is {spec.rule}; '{value[:20]}' is not.")
        typed = int(value)
    elif spec.kind == "list":
        typed = tuple(part.strip() for part in text.split(LIST_SEPARATOR) if part.strip())
    return check(name, typed, amount_cap)


def check(name: str, value: object, amount_cap: Decimal) -> object:
    """`value` as stored, when it is within the setting's rule; else a refusal saying the rule."""
    spec = spec_for(name)
    refuse = f"{name} is {spec.rule}"
    if spec.internal:
        return _internal(name, value)
    if spec.kind == "yes/no":
        if not isinstance(value, bool):
            raise InvalidInput(f"{refuse}.")
        return value
    if spec.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{refuse}; {value!r} is not.")
        if not spec.low <= value <= spec.high:
            raise InvalidInput(f"{refuse}; {value} is not.")
        return value
    if spec.kind == "amount":
        if not isinstance(value, str | Decimal):
            raise InvalidInput(f"{refuse}.")
        cap = amounts.HARD_MAXIMUM if name == "amount_maximum" else amount_cap
        amount = amounts.parse_amount(value, name, maximum=cap, allow_zero=spec.allow_zero)
        return f"{amount:.2f}"
    if spec.kind == "list":
        if not isinstance(value, tuple | list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput(f"{refuse}.")
        lines = tuple(str(v) for v in value)
        if len(lines) > spec.max_lines:
            raise InvalidInput(f"{refuse}; {len(lines)} lines is too many.")
        for line in lines:
            _plain_text(name, line, spec.max_length, refuse)
        return lines
    if not isinstance(value, str):
        raise InvalidInput(f"{refuse}.")
    if spec.kind == "choice":
        if value not in spec.choices:
            raise InvalidInput(f"{name} is {spec.rule}.")
        return value
    if spec.kind == "colour":
        if not _COLOUR.fullmatch(value):
            raise InvalidInput(f"{refuse}; '{value[:20]}' is not.")
        return value.upper()
    if spec.kind == "domain":
        domain = value.strip().lower()
        if not _DOMAIN.fullmatch(domain):
            raise InvalidInput(f"{refuse}; '{value[:40]}' is not.")
        return domain
    if spec.kind == "code":
        if not re.fullmatch(spec.pattern, value):
            raise InvalidInput(f"{refuse}; '{value[:40]}' is not.")
        return value
    return _plain_text(name, value, spec.max_length, refuse, empty=False)


def _plain_text(name: str, value: str, limit: int, refuse: str, *, empty: bool = True) -> str:
    if _CONTROL.search(value):
        raise InvalidInput(f"{refuse}, without control characters (NUL, tabs, line breaks).")
    if len(value) > limit:
        raise InvalidInput(f"{refuse}; this one has {len(value)}.")
    if not empty and not value.strip():
        raise InvalidInput(f"{name} cannot be empty.")
    return value


def _internal(name: str, value: object) -> object:
    """Settings the software keeps for itself: a flag, or the ISO date of a daily run."""
    if name == "demo_database":
        if not isinstance(value, bool):
            raise InvalidInput("demo_database is yes or no.")
        return value
    if name == "public_holidays_through":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 9999:
            raise InvalidInput("public_holidays_through is a year, like 2027.")
        return value
    if name == "public_holidays_for":
        if not isinstance(value, str) or len(value) > 40 or "\x00" in value:
            raise InvalidInput("public_holidays_for is a country and region, like US/NY.")
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"{name} is a date as YYYY-MM-DD.")
    if value:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{name} is a date as YYYY-MM-DD, not {value[:20]!r}.") from None
    return value
