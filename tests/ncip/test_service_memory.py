"""`illdesk ncip serve` keeps its startup objects out of the collector's full passes."""

from __future__ import annotations

import gc
import sys

from app.ncip.http_server import freeze_startup_objects


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
