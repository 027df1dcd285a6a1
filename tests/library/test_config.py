"""Workstation settings and the choice of database."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app.library.errors import InvalidInput
from app.workstation.config import (
    WorkstationSettings,
    choose_database,
    embedded_database_path,
    load_settings,
    save_settings,
    settings_path,
)


def test_database_choice_order(monkeypatch: pytest.MonkeyPatch) -> None:
    assert choose_database().embedded_default
    assert choose_database().url.endswith(str(embedded_database_path()))
    save_settings(WorkstationSettings(database_url="postgresql://desk@db.example.edu/ill"))
    assert choose_database().source == "settings file"
    monkeypatch.setenv("ILLDESK_DATABASE_URL", "postgresql://env@db/ill")
    assert choose_database().url == "postgresql://env@db/ill"
    assert choose_database("sqlite:///x.db").source == "--db"


def test_settings_file_is_owner_only_and_round_trips() -> None:
    path = save_settings(WorkstationSettings(branch_code="METRO", printer="Front desk"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings().branch_code == "METRO"


def test_a_password_in_the_database_url_is_never_written() -> None:
    with pytest.raises(InvalidInput, match="ILLDESK_DATABASE_URL"):
        save_settings(WorkstationSettings(database_url="postgresql://u:secret@db/ill"))
    assert not settings_path().exists()


def test_a_broken_settings_file_says_how_to_recover(tmp_path: Path) -> None:
    settings_path().parent.mkdir(parents=True)
    settings_path().write_text("branch_code = [unclosed")
    with pytest.raises(InvalidInput, match="Fix or delete it"):
        load_settings()
