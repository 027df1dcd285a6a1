"""Administrators change library-wide settings: retention, patron display, thresholds, texts.

Values arrive as text (a form field, a command-line argument) and are read by the type of
the setting's default. Settings the software keeps for itself (the demo flag, the dates of
the last daily runs) are not offered. Every change is audited with its old and new value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from app.library import library_settings
from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.library_settings import LibrarySettings
from app.library.runtime import Runtime
from app.records import audit
from db.models import Role

LIST_SEPARATOR = "|"  # between the lines of a list setting, e.g. strap messages
_CHOICES = {
    "patron_display": ("surname_initial", "surname_last4", "full_name"),
    "due_date_direction": ("earlier", "later"),
    "ncip_item_id_policy": ("ours", "sent"),
}
_MONEY = {"processing_fee", "ifm_settlement_threshold", "own_item_bursar_minimum"}


@dataclass(frozen=True)
class SettingValue:
    name: str
    value: str  # as text, lists joined by " | "
    default: str
    kind: str  # "number", "yes/no", "text", "amount", "list", "choice"
    changed: bool


def _internal(name: str) -> bool:
    return name == "demo_database" or name.endswith("_last_run")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return f" {LIST_SEPARATOR} ".join(str(v) for v in value)
    return str(value)


def _kind(name: str, default: object) -> str:
    if name in _CHOICES:
        return "choice"
    if name in _MONEY:
        return "amount"
    if isinstance(default, bool):
        return "yes/no"
    if isinstance(default, int):
        return "number"
    if isinstance(default, tuple):
        return "list"
    return "text"


def _values(current: LibrarySettings) -> list[SettingValue]:
    defaults = LibrarySettings()
    rows = []
    for field in dataclasses.fields(LibrarySettings):
        if _internal(field.name):
            continue
        value, default = getattr(current, field.name), getattr(defaults, field.name)
        rows.append(
            SettingValue(
                field.name,
                _text(value),
                _text(default),
                _kind(field.name, default),
                value != default,
            )
        )
    return rows


def library_setting_values(rt: Runtime, actor: Actor) -> list[SettingValue]:
    actor.require(Role.ADMIN, "Changing library settings")
    with rt.db.reading() as session:
        return _values(library_settings.load(session))


def parse_value(name: str, text: str) -> object:
    """The typed value for `name`, or a refusal that says what the setting takes."""
    if name not in library_settings.FIELDS or _internal(name):
        raise InvalidInput(
            f"There is no library setting called '{name}'. `illdesk settings list` shows them."
        )
    default = getattr(LibrarySettings(), name)
    value = text.strip()
    if name in _CHOICES:
        if value not in _CHOICES[name]:
            raise InvalidInput(f"{name} is one of: {', '.join(_CHOICES[name])}.")
        return value
    if name in _MONEY:
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise InvalidInput(f"{name} is an amount in dollars, like 30.00.") from None
        if amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise InvalidInput(f"{name} is an amount in dollars and cents, 0 or more.")
        return f"{amount:.2f}"
    if isinstance(default, bool):
        if value.lower() in ("yes", "true", "on", "1"):
            return True
        if value.lower() in ("no", "false", "off", "0"):
            return False
        raise InvalidInput(f"{name} is yes or no.")
    if isinstance(default, int):
        if not value.isdigit():
            raise InvalidInput(f"{name} is a whole number of 0 or more, like {default}.")
        return int(value)
    if isinstance(default, tuple):
        return tuple(part.strip() for part in value.split(LIST_SEPARATOR) if part.strip())
    return value


def change_library_setting(rt: Runtime, actor: Actor, name: str, text: str) -> SettingValue:
    actor.require(Role.ADMIN, "Changing library settings")
    key = name.strip()
    value = parse_value(key, text)
    with rt.db.transaction() as session:
        before = getattr(library_settings.load(session), key)
        after = library_settings.save(session, **{key: value})
        if before != value:
            audit.record(
                session,
                actor,
                "settings.change",
                at=rt.clock.now(),
                entity="library_setting",
                before={key: _text(before)},
                after={key: _text(value)},
            )
        return next(row for row in _values(after) if row.name == key)
