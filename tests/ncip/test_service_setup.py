"""How `illdesk ncip serve` sets itself up: a connection for each thread, and its startup
objects kept out of the collector's full passes."""

from __future__ import annotations

import gc
import sys

from app.library.runtime import Runtime
from app.ncip.http_server import NcipServer, freeze_startup_objects
from app.workstation.connection import open_database


def test_the_service_keeps_a_connection_for_each_thread_and_two_more(
    pg_database_url: str,
) -> None:
    database = open_database(pg_database_url)
    NcipServer(Runtime(database), host="127.0.0.1", port=0, threads=6)  # before serving
    try:
        assert database.engine.pool.size() == 8  # type: ignore[attr-defined]
    finally:
        database.dispose()


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
