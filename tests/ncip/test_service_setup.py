"""How `illdesk ncip serve` sets itself up: a connection for each thread, and its startup
objects kept out of the collector's full passes."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from app.ncip.http_server import freeze_startup_objects
from app.workstation.connection import open_database


def test_the_pool_keeps_as_many_connections_as_the_service_asks_for(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    usual = open_database(url)
    service = open_database(url, connections=10)
    try:
        assert service.engine.pool.size() == 10  # type: ignore[attr-defined]
        assert usual.engine.pool.size() == 5  # type: ignore[attr-defined]
    finally:
        service.dispose()
        usual.dispose()


def test_what_the_service_loaded_is_frozen_before_the_first_message() -> None:
    gc.unfreeze()
    try:
        freeze_startup_objects()
        frozen = gc.get_freeze_count()
        walked = len(gc.get_objects())
    finally:
        gc.unfreeze()
    # the strap modules that the first AcceptItem would load are loaded and frozen too
    assert "app.printing.straps" in sys.modules
    assert frozen > 10_000
    # a full collection now walks only what came after: none of the startup objects
    assert walked < frozen / 10
