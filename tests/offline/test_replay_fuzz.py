"""Any JSON value in any field of a journal line: the line is read or refused, never fatal."""

from __future__ import annotations

import json
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.library.runtime import Runtime
from app.offline.journal import MAX_FIELD_CHARS, JournalEntry, read_numbered
from app.offline.replay import EntryStatus, replay_file
from tests.signed_in import as_desk

FIELDS = ("key", "at", "branch", "staff", "action", "barcode", "patron", "workstation", "v")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
moments = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]),
).map(lambda at: at.isoformat())


@st.composite
def lines(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": str(uuid.uuid4()),
        "at": draw(moments),
        "branch": draw(st.sampled_from(["METRO", "SE", "WS-ILL", "NOWHERE", "metro"])),
        "staff": draw(st.sampled_from(["desk", "admin", "nobody"])),
        "action": draw(st.sampled_from(["checkin", "checkout"])),
        "barcode": draw(st.sampled_from(["31234000000001", "ILL00000018", "x"])),
        "patron": draw(st.sampled_from([None, "T00123456"])),
        "workstation": "pc",
        "v": 1,
    }
    for name in draw(st.sets(st.sampled_from(FIELDS), max_size=3)):
        data[name] = draw(json_values)
    return data


@settings(max_examples=400, deadline=None)
@given(lines())
def test_a_line_is_read_cleanly_or_refused_with_a_short_reason(data: dict[str, Any]) -> None:
    try:
        entry = JournalEntry.from_json(json.dumps(data))
    except ValueError as exc:
        assert len(str(exc)) < 100
        return
    for text in (entry.branch, entry.staff, entry.barcode, entry.workstation, entry.patron or ""):
        assert isinstance(text, str) and len(text) <= MAX_FIELD_CHARS
        assert not any(unicodedata.category(c) in ("Cc", "Cs", "Cf") for c in text)
    assert entry.at.tzinfo is UTC


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(lines(), min_size=1, max_size=4))
def test_no_line_stops_the_replay(
    demo_rt: Runtime, tmp_path: Path, batch: list[dict[str, Any]]
) -> None:
    path = tmp_path / f"{uuid.uuid4()}.jsonl"
    last = {"key": str(uuid.uuid4()), "at": datetime(2026, 11, 2, 14, tzinfo=UTC).isoformat()}
    last |= {"branch": "METRO", "staff": "desk", "action": "checkin", "barcode": "NOSUCH1"}
    path.write_text("".join(json.dumps(d) + "\n" for d in [*batch, last]))
    report = replay_file(demo_rt, as_desk(demo_rt), path)
    assert [e.line for e in report.entries] == list(range(1, len(batch) + 2))
    assert report.entries[-1].code == "item_unknown"  # the replay reached the last line
    assert report.count(EntryStatus.NOT_REPLAYED) == 0
    assert len(read_numbered(path)[0]) + len(read_numbered(path)[1]) == len(batch) + 1
