"""The database and SMTP passwords: from the environment or the operating system's keyring.

They are never written in the settings file (`app.workstation.config.save_settings` refuses a
database URL with a password, and there is no SMTP password field at all). Lookup order:

- database: the password in ILLDESK_DATABASE_URL itself, else ILLDESK_DATABASE_PASSWORD,
  else the keyring entry "database:<user>@<host>[:port]/<dbname>" of service "ILL Desk".
  PostgreSQL's own PGPASSWORD and ~/.pgpass (%APPDATA%\\postgresql\\pgpass.conf) also work.
- SMTP: ILLDESK_SMTP_PASSWORD, else the keyring entry "smtp:<username>@<host>".

Encrypted connections to PostgreSQL: add `sslmode` to the URL's query, for example
`postgresql://illdesk@db.example.edu/illdesk?sslmode=require` (TLS, no certificate check)
or `?sslmode=verify-full&sslrootcert=/path/to/campus-ca.pem` (TLS, and the server must
prove it is db.example.edu). `check_tls` refuses unknown modes; `tls_mode` reports one.
"""

from __future__ import annotations

import os

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from app.library.errors import InvalidInput
from app.workstation.config import WorkstationSettings
from app.workstation.log_setup import register_secret

KEYRING_SERVICE = "ILL Desk"
DATABASE_PASSWORD_ENV = "ILLDESK_DATABASE_PASSWORD"
SMTP_PASSWORD_ENV = "ILLDESK_SMTP_PASSWORD"
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise InvalidInput(
            "That is not a database URL. Use postgresql://user@host/dbname "
            "or sqlite:///path/to/file.db."
        ) from None


def database_keyring_name(url: str) -> str:
    parsed = _url(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"database:{parsed.username or ''}@{parsed.host or 'localhost'}{port}/{parsed.database}"


def smtp_keyring_name(settings: WorkstationSettings) -> str:
    return f"smtp:{settings.smtp_username}@{settings.smtp_host}"


def _keyring_get(name: str) -> str | None:
    import keyring
    from keyring.errors import KeyringError

    try:
        value = keyring.get_password(KEYRING_SERVICE, name)
    except KeyringError:
        return None
    return value or None


def _keyring_set(name: str, password: str) -> None:
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(KEYRING_SERVICE, name, password)
    except KeyringError as exc:
        raise InvalidInput(
            f"This computer has no usable keyring ({exc}). Put the password in an "
            "environment variable instead (see the security notes)."
        ) from None


def keyring_available() -> bool:
    import keyring
    from keyring.backends import fail

    return not isinstance(keyring.get_keyring(), fail.Keyring)


def database_password(url: str) -> str | None:
    """The password for a database URL that carries none, or None when none is stored."""
    password = os.environ.get(DATABASE_PASSWORD_ENV) or _keyring_get(database_keyring_name(url))
    register_secret(password)
    return password


def with_database_password(url: str) -> str:
    """The URL to connect with: the stored password added when the URL has none."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # the engine explains what is wrong with it
    if parsed.get_backend_name() == "sqlite":
        return url
    check_tls(url)
    if parsed.password:
        register_secret(str(parsed.password))
        return url
    password = database_password(url)
    if not password:
        return url
    return parsed.set(password=password).render_as_string(hide_password=False)


def store_database_password(url: str, password: str) -> str:
    """Keep the password in the keyring; returns the keyring entry's name."""
    if not password:
        raise InvalidInput("The password is empty. Type it again.")
    name = database_keyring_name(url)
    _keyring_set(name, password)
    return name


def smtp_password(settings: WorkstationSettings) -> str | None:
    if not settings.smtp_host:
        return None
    password = os.environ.get(SMTP_PASSWORD_ENV) or _keyring_get(smtp_keyring_name(settings))
    register_secret(password)
    return password


def store_smtp_password(settings: WorkstationSettings, password: str) -> str:
    if not settings.smtp_host or not settings.smtp_username:
        raise InvalidInput("Set the SMTP server and user name first, then the password.")
    if not password:
        raise InvalidInput("The password is empty. Type it again.")
    name = smtp_keyring_name(settings)
    _keyring_set(name, password)
    return name


def tls_mode(url: str) -> str | None:
    """The `sslmode` a PostgreSQL URL asks for (None: libpq's default, 'prefer')."""
    value = _url(url).query.get("sslmode")
    if isinstance(value, tuple):
        value = value[-1]
    return value or None


def check_tls(url: str) -> None:
    mode = tls_mode(url)
    if mode is not None and mode not in SSL_MODES:
        raise InvalidInput(
            f"sslmode={mode} is not a PostgreSQL TLS mode. Use one of: {', '.join(SSL_MODES)}."
        )
