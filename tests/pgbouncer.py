"""A PgBouncer in transaction mode in front of the test server, started for one test run.

The service tests marked `through_pgbouncer` run once more through it (the `backend`
"pgbouncer"): what a library with hundreds of desks runs. PgBouncer keeps a pool per user
and database, lets the staff's own roles in as the server does (`auth_type = trust`, the
users looked up on the server with `auth_query`), caps the server connections of the
database and closes idle ones quickly, as the README's set-up does.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from db.engine import POOLER_OPTION

INSTALL = "apt install pgbouncer"
MAX_DB_CONNECTIONS = 20
SERVER_IDLE_TIMEOUT = 10


class PgBouncerMissing(Exception):
    """No pgbouncer program on this machine."""


def _program() -> str:
    found = shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer") if Path(p).exists()),
        None,
    )
    if found is None:
        raise PgBouncerMissing(
            f"The tests run the service tests through PgBouncer too, and pgbouncer is not "
            f"installed: {INSTALL} (Debian/Ubuntu), then run the tests again."
        )
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def config_text(server_url: str, port: int, folder: Path) -> str:
    """pgbouncer.ini for a PgBouncer on `port` in front of the server of `server_url`."""
    server = make_url(server_url)
    host, server_port = server.host or "127.0.0.1", server.port or 5432
    return f"""\
[databases]
* = host={host} port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
pool_mode = transaction
auth_type = trust
auth_file = {folder / "userlist.txt"}
auth_user = {server.username or "postgres"}
stats_users = {server.username or "postgres"}
auth_query = SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename = $1
max_client_conn = 2000
default_pool_size = {MAX_DB_CONNECTIONS}
max_db_connections = {MAX_DB_CONNECTIONS}
server_idle_timeout = {SERVER_IDLE_TIMEOUT}
logfile = {folder / "pgbouncer.log"}
log_connections = 0
log_disconnections = 0
"""


@contextmanager
def running_pgbouncer(
    server_url: str, ini_for: Callable[[int, Path], str] | None = None
) -> Iterator[int]:
    """Start PgBouncer on a free port, its config from `config_text` or `ini_for(port,
    folder)`; yield the port, stop it at the end. Raises PgBouncerMissing or RuntimeError
    with its log."""
    program = _program()
    # PgBouncer refuses to run as root: it then runs as the server's account, which must
    # be able to read its folder.
    folder = Path(tempfile.mkdtemp(prefix="illdesk-pgbouncer-"))
    folder.chmod(0o755)
    port = _free_port()
    user = make_url(server_url).username or "postgres"
    (folder / "userlist.txt").write_text(f'"{user}" ""\n')
    ini = ini_for(port, folder) if ini_for else config_text(server_url, port, folder)
    (folder / "pgbouncer.ini").write_text(ini)
    command = [program]
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres" if _has_account("postgres") else "nobody")
        os.chown(folder, account.pw_uid, account.pw_gid)  # it writes its log there
        command += ["-u", account.pw_name]
    command.append(str(folder / "pgbouncer.ini"))
    for name in ("userlist.txt", "pgbouncer.ini"):
        (folder / name).chmod(0o644)
    # Its output goes to a file: a pipe nobody reads fills up, and PgBouncer, blocked
    # writing its log, would stop answering everyone.
    said = folder / "stderr.txt"
    with said.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 10
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = folder / "pgbouncer.log"
                text = said.read_text() + (log.read_text() if log.exists() else "")
                raise RuntimeError(f"PgBouncer did not start: {text}"[-2000:])
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _has_account(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def through(url: str, port: int) -> str:
    """`url` with PgBouncer's address and the desk's transaction-pooler option."""
    parsed = make_url(url).set(host="127.0.0.1", port=port)
    return parsed.update_query_dict({POOLER_OPTION: "transaction"}).render_as_string(
        hide_password=False
    )
