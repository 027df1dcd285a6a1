"""Every library setting has a type, a range and words; a value that would break a daily
job is refused when it is set, with the rule it breaks."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.library import library_settings, setting_specs
from app.library.actors import Actor
from app.library.amounts import HARD_MAXIMUM
from app.library.errors import InvalidInput
from app.library.library_settings import LibrarySettings
from app.library.runtime import Runtime
from app.records.settings_admin import (
    _text,
    change_library_setting,
    library_setting_values,
    parse_value,
)

ActorAt = Callable[[str, str], Actor]
NO_DEADLINE = settings(deadline=None, max_examples=60)
OFFERED = sorted(name for name, spec in setting_specs.SPECS.items() if not spec.internal)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("due_soon_days", "99999999"),
        ("retention_days", "1e20"),
        ("retention_days", "0"),
        ("processing_fee", "NaN"),
        ("ifm_settlement_threshold", "1e309"),
        ("strap_colour", "#GGGGGG"),
        ("institutional_email_domain", ""),
        ("institutional_email_domain", "*"),
        ("institutional_email_domain", "@example.edu"),
        ("strap_messages", "Return it.\x00 | Keep the strap."),
        ("strap_keep_notice", "KEEP\nTHIS"),
        ("pickup_days", "１０"),
        ("library_oclc_symbol", "TOOLONG"),
    ],
)
def test_values_that_break_the_daily_jobs_are_refused_when_set(
    demo_rt: Runtime, actor_at: ActorAt, name: str, value: str
) -> None:
    with demo_rt.db.reading() as session:
        before = library_settings.load(session)
    with pytest.raises(InvalidInput) as refused:
        change_library_setting(demo_rt, actor_at("admin", "NEC"), name, value)
    assert name in refused.value.message
    with demo_rt.db.reading() as session:
        assert library_settings.load(session) == before


def test_code_cannot_store_what_the_admin_tab_refuses(demo_rt: Runtime) -> None:
    with demo_rt.db.transaction() as session, pytest.raises(InvalidInput, match="0 to 60"):
        library_settings.save(session, due_soon_days=99_999_999)


def test_every_setting_has_words_and_its_default_passes_its_own_rule() -> None:
    defaults = LibrarySettings()
    assert set(setting_specs.SPECS) == set(library_settings.FIELDS)
    for name, spec in setting_specs.SPECS.items():
        assert spec.label and spec.description and spec.rule, name
        assert "_" not in spec.label, name
        value = getattr(defaults, name)
        assert setting_specs.check(name, value, HARD_MAXIMUM) == value, name


def test_the_settings_list_shows_label_description_and_rule(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    rows = {r.name: r for r in library_setting_values(demo_rt, actor_at("admin", "NEC"))}
    due = rows["due_soon_days"]
    assert due.label == "Due-soon notice (days before)"
    assert "due date" in due.description and due.rule == "a whole number from 0 to 60"
    assert (due.low, due.high) == (0, 60)
    assert rows["patron_display"].choices == ("surname_initial", "surname_last4", "full_name")


@pytest.mark.parametrize("name", OFFERED)
@NO_DEADLINE
@given(raw=st.one_of(st.text(max_size=40), st.from_regex(r"[0-9.,#A-Fa-f|a-z ]{0,12}")))
def test_any_text_is_a_valid_value_or_a_refusal_naming_the_rule(name: str, raw: str) -> None:
    try:
        value = parse_value(name, raw, HARD_MAXIMUM)
    except InvalidInput as exc:
        assert name in exc.message, exc.message
        return
    assert setting_specs.check(name, value, HARD_MAXIMUM) == value
    assert parse_value(name, _text(value), HARD_MAXIMUM) == value  # shown text reads back


def test_a_refusal_names_settings_in_words_for_the_window() -> None:
    in_words = setting_specs.in_words
    with pytest.raises(InvalidInput) as refused:
        setting_specs.parse_text("strap_colour", "#GGGGGG", HARD_MAXIMUM)
    said = in_words(refused.value.message)
    assert said.startswith("Strap colour is a colour as #RRGGBB")
    assert "strap_colour" not in said
    rule = in_words(setting_specs.SPECS["processing_fee"].rule)
    assert "at most the Largest amount setting" in rule
    assert setting_specs.SPECS["amount_maximum"].rule.endswith("at most 99,999,999.99")
    # A key inside a longer one is left to the longer one's label.
    assert in_words("return_strap_colour, strap_colour") == "Return strap colour, Strap colour"
    assert in_words("notices_last_run") == "notices_last_run"  # kept by the software: no label
