"""This workstation's own settings: which database, which branch, printer and sound.

They live in a TOML file in the user's config directory (owner-only). Library-wide
settings live in the database instead (`app.library.library_settings`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w
from sqlalchemy.engine import make_url

from app.library.errors import InvalidInput

APP_NAME = "ILL Desk"
APP_AUTHOR = "illdesk"
DATABASE_ENV = "ILLDESK_DATABASE_URL"
CONFIG_DIR_ENV = "ILLDESK_CONFIG_DIR"
DATA_DIR_ENV = "ILLDESK_DATA_DIR"


def config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))


def data_dir() -> Path:
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def log_dir() -> Path:
    return data_dir() / "logs"


def settings_path() -> Path:
    return config_dir() / "settings.toml"


def embedded_database_path() -> Path:
    return data_dir() / "illdesk.db"


@dataclass
class WorkstationSettings:
    database_url: str = ""
    branch_code: str = ""
    printer: str = ""
    silent_print: bool = False
    auto_print: list[str] = field(default_factory=list)  # outcome codes that print a slip
    sound_volume: int = 80
    sound_muted: bool = False
    strap_layout: str = "letter3"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_sender: str = ""
    os_user_sign_in: bool = False
    idle_lock_minutes: int = 15
    # The desk window as it was last left on this PC: maximised (the first time too), or
    # its size in pixels when it was not (0: never left un-maximised).
    window_maximized: bool = True
    window_width: int = 0
    window_height: int = 0


def load_settings(path: Path | None = None) -> WorkstationSettings:
    path = path or settings_path()
    if not path.exists():
        return WorkstationSettings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(
            f"The settings file {path} cannot be read ({exc}). Fix or delete it; "
            "ILL Desk then starts with default settings."
        ) from exc
    known = {f.name for f in fields(WorkstationSettings)}
    return WorkstationSettings(**{k: v for k, v in raw.items() if k in known})


def save_settings(settings: WorkstationSettings, path: Path | None = None) -> Path:
    """Write the settings owner-only; a database password is never written here."""
    path = path or settings_path()
    if settings.database_url and make_url(settings.database_url).password:
        raise InvalidInput(
            "The database URL holds a password. Leave it out of the settings file: put it in "
            f"the {DATABASE_ENV} environment variable, or in the operating system's keyring."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        tomli_w.dump(_without_empty(asdict(settings)), handle)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def _without_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class DatabaseChoice:
    url: str
    source: str  # "--db", "environment", "settings file", "embedded default"

    @property
    def embedded_default(self) -> bool:
        return self.source == "embedded default"


def choose_database(
    cli_url: str | None = None, settings: WorkstationSettings | None = None
) -> DatabaseChoice:
    """--db URL, else ILLDESK_DATABASE_URL, else the settings file, else the embedded file."""
    if cli_url:
        return DatabaseChoice(cli_url, "--db")
    env_url = os.environ.get(DATABASE_ENV)
    if env_url:
        return DatabaseChoice(env_url, "environment")
    settings = settings if settings is not None else load_settings()
    if settings.database_url:
        return DatabaseChoice(settings.database_url, "settings file")
    return DatabaseChoice(f"sqlite:///{embedded_database_path()}", "embedded default")
