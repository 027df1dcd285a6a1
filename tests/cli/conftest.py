"""Command-line tests sign in as the demo staff: ILLDESK_PASSWORD holds the demo password.

The keyring is one that lives in the test only, so no test reads or writes this computer's
own keyring; the refusal tests remove ILLDESK_PASSWORD to run without a password.
"""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend

from app.cli.staff_password import PASSWORD_ENV
from app.demo import DEMO_PASSWORD


class MemoryKeyring(KeyringBackend):
    """A keyring held in memory for one test."""

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


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.set_keyring(before)


@pytest.fixture(autouse=True)
def demo_password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    return DEMO_PASSWORD
