"""Administrators change library-wide settings: retention, patron display, thresholds, texts.

Values arrive as text (a form field, a command-line argument) and are read by the type of
the setting's default. Settings the software keeps for itself (the demo flag, the dates of
the last daily runs) are not offered. Every change is audited with its old and new value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from app.library import amounts, library_settings, setting_specs
from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.library_settings import LibrarySettings
from app.library.runtime import Runtime
from app.records import audit
from db.models import Role

LIST_SEPARATOR = setting_specs.LIST_SEPARATOR  # between the lines of a list setting


@dataclass(frozen=True)
class SettingValue:
    name: str
    value: str  # as text, lists joined by " | "
    default: str
    kind: str  # "number", "yes/no", "text", "amount", "list", "choice", "colour", ...
    changed: bool
    label: str = ""  # the administrator's words for the setting
    description: str = ""  # what it does
    rule: str = ""  # what it takes: type and range
    choices: tuple[str, ...] = ()
    low: int = 0  # numbers: the range
    high: int = 0


_KEPT_BY_THE_SOFTWARE = {"demo_database", "public_holidays_through", "public_holidays_for"}


def _internal(name: str) -> bool:
    return name in _KEPT_BY_THE_SOFTWARE or name.endswith("_last_run")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return f" {LIST_SEPARATOR} ".join(str(v) for v in value)
    return str(value)


def _values(current: LibrarySettings) -> list[SettingValue]:
    defaults = LibrarySettings()
    rows = []
    for field in dataclasses.fields(LibrarySettings):
        if _internal(field.name):
            continue
        value, default = getattr(current, field.name), getattr(defaults, field.name)
        spec = setting_specs.spec_for(field.name)
        rows.append(
            SettingValue(
                field.name,
                _text(value),
                _text(default),
                spec.kind,
                value != default,
                label=spec.label,
                description=spec.description,
                rule=spec.rule,
                choices=spec.choices,
                low=spec.low,
                high=spec.high,
            )
        )
    return rows


def library_setting_values(rt: Runtime, actor: Actor) -> list[SettingValue]:
    actor.require(Role.ADMIN, "Changing library settings")
    with rt.db.reading() as session:
        return _values(library_settings.load(session))


def parse_value(name: str, text: str, amount_cap: Decimal | None = None) -> object:
    """The typed value for `name`, or a refusal that says what the setting takes."""
    if name not in library_settings.FIELDS or _internal(name):
        raise InvalidInput(
            f"There is no library setting called '{name}'. `illdesk settings list` shows them."
        )
    cap = amount_cap if amount_cap is not None else amounts.HARD_MAXIMUM
    return setting_specs.parse_text(name, text, cap)


def change_library_setting(rt: Runtime, actor: Actor, name: str, text: str) -> SettingValue:
    actor.require(Role.ADMIN, "Changing library settings")
    key = name.strip()
    with rt.db.transaction() as session:
        current = library_settings.load(session)
        value = parse_value(key, text, amounts.amount_maximum(current.amount_maximum))
        before = getattr(current, key)
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
