"""`illdesk ncip ...` as an administrator and the ILL office script it, and `ncip serve` as
systemd or the Windows service manager runs it: started, answering, stopped gracefully."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.cli.main import parse, run
from tests.ncip import initiator as ini


def cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = run(parse(list(argv)), out, err)
    finally:
        sys.stdin = old
    return code, out.getvalue(), err.getvalue()


def lines(output: str) -> list[dict[str, object]]:
    return [json.loads(text) for text in output.splitlines() if text.strip()]


@pytest.fixture
def db(database_url: str) -> str:
    assert cli("--db", database_url, "demo")[0] == 0
    return database_url


def test_allow_list_deny_as_an_administrator(db: str) -> None:
    code, out, _ = cli(
        "--db", db, "--json", "ncip", "allow", "illiad", "--secret-stdin",
        "--from", "192.0.2.0/24", "10.1.2.3", "--staff", "admin",
        stdin="a-long-shared-secret-for-illiad\n",
    )  # fmt: skip
    assert code == 0
    (record,) = lines(out)
    assert record == {
        "agency_id": "ILLIAD",
        "active": True,
        "has_secret": True,
        "networks": ["192.0.2.0/24", "10.1.2.3/32"],
        "updated_at": record["updated_at"],
    }
    code, out, _ = cli("--db", db, "--json", "ncip", "list", "--staff", "admin")
    assert code == 0 and [r["agency_id"] for r in lines(out)] == ["ILLIAD"]
    code, out, _ = cli("--db", db, "--json", "ncip", "deny", "ILLIAD", "--staff", "admin")
    assert code == 0 and lines(out)[0]["active"] is False
    code, _, err = cli("--db", db, "ncip", "allow", "OKT", "--staff", "desk", "--branch", "METRO")
    assert code == 1 and "admin" in err
    code, _, err = cli("--db", db, "ncip", "allow", "BAD AGENCY", "--staff", "admin")
    assert code == 1 and "agency id" in err
    code, _, err = cli(
        "--db", db, "ncip", "allow", "OKT", "--from", "not-a-net", "--staff", "admin"
    )  # fmt: skip
    assert code == 1 and "CIDR" in err
    code, _, err = cli(
        "--db", db, "ncip", "allow", "OKT", "--secret-stdin", "--staff", "admin", stdin="short\n"
    )  # fmt: skip
    assert code == 1 and "16 characters" in err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_then_stops_gracefully_and_the_log_lists_the_traffic(
    db: str, tmp_path: Path
) -> None:
    assert cli("--db", db, "ncip", "allow", "RESHARE", "--staff", "admin")[0] == 0
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "--db", db, "ncip", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if ini.get(port, "/healthz").status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the responder did not start"
            time.sleep(0.1)
        reply = ini.post(port, ini.tipasa(ini.lookup_user("T00123456", "Name Information")))
        assert reply.assert_valid().text("Surname") == "Müller"
        ini.post(port, ini.tipasa(ini.lookup_user("T99999999"))).assert_valid()
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode()
    text = err.decode()
    assert "listening on http://127.0.0.1" in text and "stopped" in text
    assert "T00123456" not in text and "Müller" not in text  # no patron data in the log
    code, out, _ = cli("--db", db, "--json", "ncip", "log", "--staff", "office")
    records = lines(out)
    assert code == 0
    assert [(r["service"], r["outcome"], r["problem"]) for r in records[:-1]] == [
        ("LookupUser", "problem", "Unknown User"),
        ("LookupUser", "ok", None),
    ]
    assert records[-1] == {"messages_today": 2, "failures_today": 1}
