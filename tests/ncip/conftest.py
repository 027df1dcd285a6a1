"""A responder the tests start on a free loopback port over the demo library, and stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from app.library import library_settings
from app.library.runtime import Runtime
from app.ncip.http_server import NcipServer
from app.ncip.partners import allow_partner
from app.people.staff import actor_for
from tests.ncip.initiator import SECRET


@dataclass
class Responder:
    rt: Runtime
    port: int
    server: NcipServer


def allow(rt: Runtime, agency: str, secret: str | None = None, networks: list[str] | None = None):
    admin = actor_for(rt, "admin", "NEC", "test")
    return allow_partner(rt, admin, agency, secret=secret, networks=networks)


def set_library(rt: Runtime, **changes: object) -> None:
    with rt.db.transaction() as session:
        library_settings.save(session, **changes)


@pytest.fixture
def partners(demo_rt: Runtime) -> Runtime:
    """ILLiad with a secret from loopback, ReShare and Tipasa without one."""
    allow(demo_rt, "ILLIAD", SECRET, ["127.0.0.0/8"])
    allow(demo_rt, "RESHARE")
    allow(demo_rt, "TIPASA")
    return demo_rt


@pytest.fixture
def responder(partners: Runtime) -> Iterator[Responder]:
    server = NcipServer(partners, "127.0.0.1", 0, threads=4)
    _host, port = server.start()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield Responder(partners, port, server)
    finally:
        server.stop()
        thread.join(timeout=15)
