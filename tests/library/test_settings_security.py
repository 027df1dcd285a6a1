"""Secrets stay out of the settings file: owner-only file, passwords from env or keyring, TLS."""

from __future__ import annotations

import logging
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from sqlalchemy.engine import make_url

from app.library.errors import InvalidInput
from app.workstation import secrets
from app.workstation.config import WorkstationSettings, load_settings, save_settings, settings_path
from app.workstation.log_setup import configure_logging
from db.engine import create_database_engine

PG_URL = "postgresql://illdesk@db.example.edu:5433/library"


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in this test only."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv(secrets.DATABASE_PASSWORD_ENV, raising=False)
    monkeypatch.delenv(secrets.SMTP_PASSWORD_ENV, raising=False)
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.set_keyring(before)


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(secrets.DATABASE_PASSWORD_ENV, raising=False)
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_settings_file_is_owner_only_even_when_it_was_not_before() -> None:
    path = save_settings(WorkstationSettings(branch_code="METRO", smtp_host="smtp.example.edu"))
    assert path == settings_path() and _mode(path) == 0o600
    path.chmod(0o644)
    save_settings(WorkstationSettings(branch_code="NEC"))
    assert _mode(path) == 0o600
    assert load_settings().branch_code == "NEC"
    assert not list(path.parent.glob("*.tmp"))


def test_a_database_password_is_refused_in_the_settings_file() -> None:
    path = save_settings(WorkstationSettings(database_url=PG_URL))
    before = path.read_bytes()
    with pytest.raises(InvalidInput, match="ILLDESK_DATABASE_URL environment variable"):
        save_settings(
            WorkstationSettings(database_url="postgresql://illdesk:hunter22@db.example.edu/lib")
        )
    assert path.read_bytes() == before
    assert b"hunter22" not in before


def test_the_settings_file_has_no_place_for_any_password() -> None:
    path = save_settings(
        WorkstationSettings(
            database_url=PG_URL, smtp_host="smtp.example.edu", smtp_username="illdesk"
        )
    )
    keys = tomllib.loads(path.read_text(encoding="utf-8"))
    assert [key for key in keys if "password" in key or "secret" in key] == []


def test_database_password_comes_from_the_keyring(memory_keyring: MemoryKeyring) -> None:
    assert secrets.with_database_password(PG_URL) == PG_URL  # nothing stored yet
    name = secrets.store_database_password(PG_URL, "s3cret-pass")
    assert name == "database:illdesk@db.example.edu:5433/library"
    assert memory_keyring.store == {("ILL Desk", name): "s3cret-pass"}
    url = make_url(secrets.with_database_password(PG_URL))
    assert (url.username, url.password, url.host, url.port) == (
        "illdesk",
        "s3cret-pass",
        "db.example.edu",
        5433,
    )


def test_the_environment_wins_over_the_keyring(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets.store_database_password(PG_URL, "from-keyring")
    monkeypatch.setenv(secrets.DATABASE_PASSWORD_ENV, "from-environment")
    assert make_url(secrets.with_database_password(PG_URL)).password == "from-environment"
    # A URL that already names its password (ILLDESK_DATABASE_URL) is used as it is.
    given = "postgresql://illdesk:given@db.example.edu/library"
    assert secrets.with_database_password(given) == given
    # The embedded SQLite file needs no password.
    assert secrets.with_database_password("sqlite:///x.db") == "sqlite:///x.db"


def test_without_a_keyring_the_message_says_to_use_the_environment(no_keyring: None) -> None:
    assert secrets.keyring_available() is False
    assert secrets.database_password(PG_URL) is None
    with pytest.raises(InvalidInput, match="environment variable instead"):
        secrets.store_database_password(PG_URL, "anything")


def test_smtp_password_from_keyring_or_environment(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = WorkstationSettings(smtp_host="smtp.example.edu", smtp_username="illdesk")
    assert secrets.smtp_password(settings) is None
    secrets.store_smtp_password(settings, "mail-pass-1")
    assert secrets.smtp_password(settings) == "mail-pass-1"
    monkeypatch.setenv(secrets.SMTP_PASSWORD_ENV, "mail-pass-env")
    assert secrets.smtp_password(settings) == "mail-pass-env"
    with pytest.raises(InvalidInput, match="SMTP server and user name first"):
        secrets.store_smtp_password(WorkstationSettings(), "x")
    with pytest.raises(InvalidInput, match="empty"):
        secrets.store_smtp_password(settings, "")


def test_passwords_read_from_the_keyring_never_reach_the_log(
    memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    secrets.store_database_password(PG_URL, "Zq9-unusual-token")
    log_file = configure_logging(tmp_path / "logs")
    assert log_file is not None
    try:
        url = secrets.with_database_password(PG_URL)
        logging.getLogger("app.test").warning("connecting to %s", url)
        logging.getLogger("app.test").warning("the password is %s", "Zq9-unusual-token")
    finally:
        configure_logging(tmp_path / "elsewhere")
    text = log_file.read_text(encoding="utf-8")
    assert "Zq9-unusual-token" not in text
    assert "postgresql://illdesk:***@db.example.edu:5433/library" in text


def test_sslmode_in_the_url_reaches_the_driver() -> None:
    url = f"{PG_URL}?sslmode=verify-full&sslrootcert=/etc/ssl/campus-ca.pem"
    assert secrets.tls_mode(url) == "verify-full"
    secrets.check_tls(url)
    engine = create_database_engine(url)
    try:
        assert engine.url.query["sslmode"] == "verify-full"
        assert engine.url.query["sslrootcert"] == "/etc/ssl/campus-ca.pem"
    finally:
        engine.dispose()
    assert secrets.tls_mode(PG_URL) is None
    with pytest.raises(InvalidInput, match="sslmode=yes is not a PostgreSQL TLS mode"):
        secrets.check_tls(f"{PG_URL}?sslmode=yes")


def test_a_mistyped_sslmode_is_refused_before_connecting() -> None:
    with pytest.raises(InvalidInput, match="Use one of: disable, allow, prefer, require"):
        secrets.with_database_password(f"{PG_URL}?sslmode=requried")


def test_keyring_command_stores_the_password_given_on_standard_input(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from app.cli.main import parse, run

    def cli(*argv: str, stdin: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        out, err = io.StringIO(), io.StringIO()
        return run(parse(list(argv)), out, err), out.getvalue(), err.getvalue()

    code, out, _ = cli("keyring", "database", "--db", PG_URL, "--json", stdin="pg-pass-9\n")
    assert code == 0 and "pg-pass-9" not in out
    assert make_url(secrets.with_database_password(PG_URL)).password == "pg-pass-9"
    save_settings(WorkstationSettings(smtp_host="smtp.example.edu", smtp_username="desk"))
    code, _, _ = cli("keyring", "smtp", stdin="mail-pass-9\n")
    assert code == 0 and memory_keyring.store[("ILL Desk", "smtp:desk@smtp.example.edu")]
    code, _, err = cli("keyring", "database", "--db", "sqlite:///x.db", stdin="p\n")
    assert code == 1 and "needs no password" in err
    code, _, err = cli("keyring", "database", "--db", PG_URL, stdin="\n")
    assert code == 1 and "No password arrived" in err


def test_a_new_embedded_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    from app.workstation.connection import open_database

    path = tmp_path / "desk" / "illdesk.db"
    database = open_database(f"sqlite:///{path}")
    database.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for extra in path.parent.glob("illdesk.db-*"):
        assert stat.S_IMODE(extra.stat().st_mode) == 0o600
