"""Audit events in the words staff use: branch codes, staff names, barcodes, request numbers.

An event stores row ids where it names a branch, a staff account, an item or a request
(`{"branch_id": 3}`): the trail must not change when a branch is renamed. Reading it, those
ids are looked up once per search and shown as "branch: NEC → METRO". The stored `before`
and `after` are never rewritten; the words are an addition beside them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditEvent, Branch, IllRequest, Item, Patron, Staff

# What a row id in an event's before/after names, by the key's ending.
_BRANCH, _STAFF, _ITEM, _PATRON, _REQUEST = "branch", "staff", "item", "patron", "request"
_KEYS = {
    "destination_id": (_BRANCH, "destination"),
    "staff_id": (_STAFF, "staff"),
    "item_id": (_ITEM, "item"),
    "patron_id": (_PATRON, "patron"),
    "request_id": (_REQUEST, "request"),
}
# An event about one of these entities says which one, in words.
_ENTITIES = {
    "branch": (_BRANCH, "branch"),
    "staff": (_STAFF, "staff account"),
    "ill_request": (_REQUEST, "request"),
}


def _meaning(key: str) -> tuple[str, str] | None:
    """(what the id names, the key in words) for an id key, else None."""
    if key in _KEYS:
        return _KEYS[key]
    if key.endswith("branch_id"):
        return _BRANCH, key.removesuffix("_id").replace("_", " ")
    return None


@dataclass(frozen=True)
class Names:
    """Row ids to words, for the events of one search."""

    found: Mapping[str, Mapping[int, str]] = field(default_factory=dict)

    def of(self, kind: str, row_id: object) -> str:
        if isinstance(row_id, bool) or not isinstance(row_id, int):
            return _shown(row_id)
        return self.found.get(kind, {}).get(row_id, f"#{row_id}")


def load_names(session: Session, events: Iterable[AuditEvent]) -> Names:
    wanted: dict[str, set[int]] = {
        kind: set() for kind in (_BRANCH, _STAFF, _ITEM, _PATRON, _REQUEST)
    }
    for event in events:
        for values in (event.before or {}, event.after or {}):
            for key, value in values.items():
                meaning = _meaning(key)
                if meaning and isinstance(value, int) and not isinstance(value, bool):
                    wanted[meaning[0]].add(value)
        if event.entity in _ENTITIES and event.entity_id is not None:
            wanted[_ENTITIES[event.entity][0]].add(event.entity_id)
        if event.staff_id is not None:
            wanted[_STAFF].add(event.staff_id)
    found: dict[str, dict[int, str]] = {}
    queries: dict[str, Any] = {
        _BRANCH: (Branch.id, Branch.code),
        _ITEM: (Item.id, Item.barcode),
        _PATRON: (Patron.id, Patron.patron_id),
        _REQUEST: (IllRequest.id, IllRequest.request_number),
    }
    for kind, (id_column, word_column) in queries.items():
        if wanted[kind]:
            rows = session.execute(
                select(id_column, word_column).where(id_column.in_(wanted[kind]))
            )
            found[kind] = {row_id: str(word) for row_id, word in rows}
    if wanted[_STAFF]:
        rows = session.execute(
            select(Staff.id, Staff.username, Staff.full_name).where(Staff.id.in_(wanted[_STAFF]))
        )
        found[_STAFF] = {row_id: f"{name} ({user})" for row_id, user, name in rows}
    return Names(found)


def staff_name(names: Names, staff_id: int | None, username: str) -> str:
    """ "Ari Admin (admin)"; the username alone for the service or a removed account."""
    if staff_id is None:
        return username
    return names.found.get(_STAFF, {}).get(staff_id, username)


def about(names: Names, entity: str, entity_id: int | None) -> str:
    """What the event is about in words ("request 20261012"), when not an item or a patron."""
    if entity not in _ENTITIES or entity_id is None:
        return ""
    kind, word = _ENTITIES[entity]
    return f"{word} {names.of(kind, entity_id)}"


def _shown(value: object) -> str:
    return "(none)" if value is None else "(empty)" if value == "" else str(value)


def _value(names: Names, key: str, value: object) -> str:
    meaning = _meaning(key)
    return names.of(meaning[0], value) if meaning else _shown(value)


def _key(key: str) -> str:
    meaning = _meaning(key)
    return meaning[1] if meaning else key


def describe_change(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    detail: str,
    names: Names | None = None,
) -> str:
    """The change in words: "branch: NEC → METRO; status: on_loan → in_transit; detail"."""
    names = names or Names()
    old, new = before or {}, after or {}
    parts = []
    for key in dict.fromkeys([*old, *new]):
        said = _key(key)
        if key in old and key in new:
            parts.append(f"{said}: {_value(names, key, old[key])} → {_value(names, key, new[key])}")
        elif key in new:
            parts.append(f"{said}: {_value(names, key, new[key])}")
        else:
            parts.append(f"{said} was {_value(names, key, old[key])}")
    return "; ".join(p for p in ("; ".join(parts), detail) if p)
