"""Administrators change library-wide settings; each change is checked and audited."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest
from sqlalchemy import select

from app.cli.main import parse, run
from app.library import library_settings
from app.library.actors import Actor
from app.library.errors import InvalidInput, PermissionDenied
from app.library.runtime import Runtime
from app.records.settings_admin import change_library_setting, library_setting_values
from db.models import AuditEvent

ActorAt = Callable[[str, str], Actor]


def _current(rt: Runtime) -> library_settings.LibrarySettings:
    with rt.db.reading() as session:
        return library_settings.load(session)


def test_admin_changes_retention_and_patron_display(demo_rt: Runtime, actor_at: ActorAt) -> None:
    admin = actor_at("admin", "NEC")
    row = change_library_setting(demo_rt, admin, "retention_days", " 45 ")
    assert (row.value, row.default, row.changed) == ("45", "30", True)
    change_library_setting(demo_rt, admin, "patron_display", "surname_last4")
    change_library_setting(demo_rt, admin, "block_checkout_on_bursar_charges", "yes")
    change_library_setting(demo_rt, admin, "processing_fee", "35")
    change_library_setting(
        demo_rt, admin, "strap_messages", "Return to any desk. | Keep the strap."
    )
    current = _current(demo_rt)
    assert current.retention_days == 45 and current.patron_display == "surname_last4"
    assert current.block_checkout_on_bursar_charges is True
    assert current.processing_fee == "35.00"
    assert current.strap_messages == ("Return to any desk.", "Keep the strap.")
    with demo_rt.db.reading() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "settings.change").order_by(AuditEvent.id)
        ).first()
        assert event is not None
        assert (event.before, event.after) == ({"retention_days": "30"}, {"retention_days": "45"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("retention_days", "-3", "whole number from 1 to 3650"),
        ("retention_days", "thirty", "whole number from 1 to 3650"),
        ("patron_display", "phone", "surname_initial, surname_last4, full_name"),
        ("processing_fee", "ten", "not an amount"),
        ("processing_fee", "1.005", "more than two decimals"),
        ("hold_estimated_charges", "maybe", "yes or no"),
        ("demo_database", "no", "no library setting called 'demo_database'"),
        ("privacy_last_run", "2026-01-01", "no library setting called"),
        ("colour_of_sky", "blue", "no library setting called 'colour_of_sky'"),
    ],
)
def test_bad_values_are_refused_and_say_what_the_setting_takes(
    demo_rt: Runtime, actor_at: ActorAt, name: str, value: str, message: str
) -> None:
    before = _current(demo_rt)
    with pytest.raises(InvalidInput, match=message):
        change_library_setting(demo_rt, actor_at("admin", "NEC"), name, value)
    assert _current(demo_rt) == before


def test_only_admins_see_or_change_library_settings(demo_rt: Runtime, actor_at: ActorAt) -> None:
    for username in ("desk", "ctl", "office"):
        actor = actor_at(username, "NEC")
        with pytest.raises(PermissionDenied, match="needs the 'admin' role"):
            change_library_setting(demo_rt, actor, "retention_days", "1")
        with pytest.raises(PermissionDenied, match="needs the 'admin' role"):
            library_setting_values(demo_rt, actor)
    names = [row.name for row in library_setting_values(demo_rt, actor_at("admin", "NEC"))]
    assert "retention_days" in names and "patron_display" in names
    assert "demo_database" not in names and "privacy_last_run" not in names


def test_settings_commands(demo_rt: Runtime) -> None:
    who = ("--staff", "admin", "--branch", "NEC", "--db", demo_rt.db.url, "--json")
    out, err = io.StringIO(), io.StringIO()
    assert run(parse(["settings", "set", "retention_days", "60", *who]), out, err) == 0
    assert json.loads(out.getvalue())["value"] == "60"
    out = io.StringIO()
    assert run(parse(["settings", "list", *who]), out, err) == 0
    rows = {r["name"]: r for r in map(json.loads, out.getvalue().splitlines())}
    assert rows["retention_days"]["changed"] is True and rows["pickup_days"]["changed"] is False
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(["settings", "set", "pickup_days", "x", *who]), out, err)
    assert code == 1 and "whole number" in err.getvalue()
