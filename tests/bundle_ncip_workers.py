"""The bundle's `illdesk-cli ncip serve --workers 2`: the frozen program starts its worker
processes, answers NCIP on one port and stops cleanly. Run by `make bundle-check`:

    python tests/bundle_ncip_workers.py dist/illdesk/illdesk-cli

A worker that cannot start in the bundle (a missing `freeze_support`, a module left out of
the build) shows here as a service that never answers or a log of workers started again.
"""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOOKUP = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<NCIPMessage xmlns="http://www.niso.org/2008/ncip" version="2.02"><LookupUser>'
    b"<InitiationHeader><FromAgencyId><AgencyId>NOBODY</AgencyId></FromAgencyId>"
    b"<ToAgencyId><AgencyId>EXC</AgencyId></ToAgencyId></InitiationHeader>"
    b"<UserId><UserIdentifierValue>21000123456</UserIdentifierValue></UserId>"
    b"</LookupUser></NCIPMessage>"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "text/xml"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def main(program: str) -> int:
    with tempfile.TemporaryDirectory(prefix="illdesk-bundle-ncip-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'ncip.db'}"
        subprocess.run([program, "--db", url, "db", "upgrade"], check=True, capture_output=True)
        port = _free_port()
        service = subprocess.Popen(
            [program, "--db", url, "ncip", "serve", "--port", str(port), "--workers", "2",
             "--no-daily-jobs"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        problems: list[str] = []
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if _request(port, "GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                if service.poll() is not None or time.monotonic() > deadline:
                    problems.append("the service did not answer /healthz")
                    break
                time.sleep(0.2)
            if not problems:
                answers = [_request(port, "POST", "/ncip", LOOKUP) for _ in range(6)]
                if any(s != 200 or b"Unknown Agency" not in b for s, b in answers):
                    problems.append(f"NCIP answers were not Problems as expected: {answers[0]}")
        finally:
            service.send_signal(signal.SIGTERM)
            try:
                _out, err = service.communicate(timeout=40)
            except subprocess.TimeoutExpired:
                service.kill()
                _out, err = service.communicate()
                problems.append("the service did not stop within 40 s of SIGTERM")
        log = err.decode("utf-8", "replace")
        if service.returncode != 0:
            problems.append(f"the service ended with exit code {service.returncode}")
        if "(2 worker processes)" not in log:
            problems.append("the log does not say two worker processes listen")
        if "starting it again" in log or "Traceback" in log:
            problems.append("a worker process failed")
    for line in problems:
        print(f"bundle ncip --workers 2: {line}", file=sys.stderr)
    if problems:
        print(log, file=sys.stderr)
        return 1
    print("bundle ncip --workers 2: two worker processes answered NCIP and stopped cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
