"""`illdesk ncip serve|allow|deny|list|log`: the NCIP responder and its trusted partners.

`serve` runs until stopped (Ctrl+C, SIGTERM from systemd, or the Windows service manager);
it finishes the messages in hand before it exits. It also runs the once-a-day jobs
(`app.daily.DailyScheduler`: soon after start, then hourly) unless `--no-daily-jobs`: on
PostgreSQL with staff roles no desk may run them, so the service, connected as the
`<prefix>service` role, does. `allow`, `deny` and `list` are for
administrators; `log` shows the ILL office the recent traffic.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from app import daily
from app.cli.context import CliContext, office_options
from app.library.errors import InvalidInput
from app.ncip.partners import (
    PartnerView,
    allow_partner,
    deny_partner,
    list_partners,
    parse_networks,
)
from app.ncip.traffic import MessageRow, recent_traffic
from app.workstation.config import choose_database, load_settings
from app.workstation.secrets import with_database_password

EXIT_OK, EXIT_REFUSED = 0, 1


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "ncip",
        help="NCIP responder: the ILL system (ILLiad, Tipasa, ReShare) drives the desk",
        description="The NCIP 2.02 responder and the ILL systems trusted to send to it.",
    )
    commands = parser.add_subparsers(dest="ncip_command", metavar="ACTION", required=True)

    serve = commands.add_parser(
        "serve",
        help="answer NCIP messages on POST /ncip until stopped",
        description="Serve POST /ncip and GET /healthz. Runs until Ctrl+C or SIGTERM; the "
        "messages in hand finish first.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.add_argument("--certfile", default=None, help="TLS certificate (PEM) to serve HTTPS")
    serve.add_argument("--keyfile", default=None, help="TLS private key (PEM)")
    serve.add_argument(
        "--threads", type=int, default=8, help="messages handled at once (in each worker)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes answering on the one port (default 1); one process answers about "
        "120 messages a second, so give one per core the service may use",
    )
    serve.add_argument(
        "--rate", type=float, default=200.0, help="messages per second allowed per partner"
    )
    serve.add_argument(
        "--proxy",
        metavar="CIDR",
        nargs="+",
        default=[],
        help="reverse proxies whose X-Forwarded-For names the partner's address",
    )
    serve.add_argument(
        "--no-daily-jobs",
        dest="daily_jobs",
        action="store_false",
        help="do not run the once-a-day jobs here (anonymising, holidays, notices); "
        "run them elsewhere, e.g. `illdesk daily run` from cron",
    )
    serve.set_defaults(handler=_serve)

    allow = office_options(
        commands.add_parser(
            "allow",
            help="trust an ILL system (or change its secret or networks); administrators",
        )
    )
    allow.add_argument("agency", metavar="AGENCY", help="the agency id it sends in FromAgencyId")
    allow.add_argument(
        "--secret-stdin",
        action="store_true",
        help="read the shared secret from the first line of standard input",
    )
    allow.add_argument(
        "--from",
        dest="networks",
        metavar="CIDR",
        nargs="+",
        default=None,
        help="networks it may call from, e.g. 192.0.2.0/24 (default: keep; new: any)",
    )
    allow.set_defaults(handler=_allow)

    deny = office_options(
        commands.add_parser("deny", help="stop trusting an ILL system; administrators")
    )
    deny.add_argument("agency", metavar="AGENCY")
    deny.set_defaults(handler=_deny)

    listing = office_options(commands.add_parser("list", help="the trusted ILL systems"))
    listing.set_defaults(handler=_list)

    log = office_options(
        commands.add_parser("log", help="recent NCIP messages, newest first, and today's failures")
    )
    log.add_argument("--limit", type=int, default=50, help="how many messages (default 50)")
    log.set_defaults(handler=_log)


def _partner_record(view: PartnerView) -> dict[str, Any]:
    return {
        "agency_id": view.agency_id,
        "active": view.active,
        "has_secret": view.has_secret,
        "networks": list(view.networks),
        "updated_at": view.updated_at.isoformat(),
    }


def _partner_text(view: PartnerView) -> str:
    networks = ", ".join(view.networks) or "any address"
    secret = "secret" if view.has_secret else "no secret"
    state = "trusted" if view.active else "denied"
    return f"{view.agency_id:<16} {state:<8} {secret:<10} from {networks}"


def _allow(ctx: CliContext) -> int:
    secret = None
    if ctx.args.secret_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
        if not secret:
            raise InvalidInput("No secret arrived on standard input.")
    view = allow_partner(
        ctx.runtime(),
        ctx.office_actor(),
        ctx.args.agency,
        secret=secret,
        networks=ctx.args.networks,
    )
    ctx.emit(_partner_record(view), _partner_text(view))
    return EXIT_OK


def _deny(ctx: CliContext) -> int:
    view = deny_partner(ctx.runtime(), ctx.office_actor(), ctx.args.agency)
    ctx.emit(_partner_record(view), _partner_text(view))
    return EXIT_OK


def _list(ctx: CliContext) -> int:
    views = list_partners(ctx.runtime(), ctx.office_actor())
    for view in views:
        ctx.emit(_partner_record(view), _partner_text(view))
    if not views:
        ctx.say("No NCIP partner is trusted yet: `illdesk ncip allow AGENCY` adds one.")
    return EXIT_OK


def _row_record(row: MessageRow) -> dict[str, Any]:
    return {
        "at": row.at.isoformat(),
        "partner": row.partner,
        "service": row.service,
        "outcome": row.outcome,
        "problem": row.problem or None,
        "element": row.element or None,
        "http_status": row.http_status,
        "duration_ms": row.duration_ms,
    }


def _log(ctx: CliContext) -> int:
    if ctx.args.limit < 1:
        raise InvalidInput("--limit is a number of messages, 1 or more.")
    traffic = recent_traffic(ctx.runtime(), ctx.office_actor(), ctx.args.limit)
    for row in traffic.rows:
        problem = f"  {row.problem} ({row.element})" if row.problem else ""
        ctx.emit(
            _row_record(row),
            f"{row.at.astimezone():%Y-%m-%d %H:%M:%S}  {row.partner or '-':<12} "
            f"{row.service or '-':<18} {row.outcome}{problem}",
        )
    summary = {
        "messages_today": traffic.messages_today,
        "failures_today": traffic.failures_today,
    }
    ctx.emit(
        summary,
        f"Today: {traffic.messages_today} messages, {traffic.failures_today} failed.",
    )
    return EXIT_OK


def _serve(ctx: CliContext) -> int:
    if bool(ctx.args.certfile) != bool(ctx.args.keyfile):
        raise InvalidInput("Give both --certfile and --keyfile to serve HTTPS, or neither.")
    if not 0 <= ctx.args.port <= 65535:
        raise InvalidInput("--port is a number from 0 to 65535.")
    if not 1 <= ctx.args.workers <= 64:
        raise InvalidInput("--workers is a number from 1 to 64.")
    from app.ncip import http_server, worker_processes  # the HTTP server loads only to serve

    rt = ctx.runtime()
    ncip_log = logging.getLogger("illdesk.ncip")
    worker_processes.log_to_stderr(ncip_log, logging.getLogger(daily.__name__))
    options = worker_processes.ServeOptions(
        url=with_database_password(choose_database(ctx.args.db).url),
        host=ctx.args.host,
        port=ctx.args.port,
        certfile=ctx.args.certfile,
        keyfile=ctx.args.keyfile,
        threads=max(1, ctx.args.threads),
        rate_per_second=max(0.1, ctx.args.rate),
        burst=max(1, int(ctx.args.rate * 2)),
        proxies=tuple(parse_networks(ctx.args.proxy)),
    )
    stop_requested = threading.Event()
    if ctx.args.workers == 1:
        server = http_server.NcipServer(
            rt,
            options.host,
            options.port,
            certfile=options.certfile,
            keyfile=options.keyfile,
            threads=options.threads,
            rate_per_second=options.rate_per_second,
            burst=options.burst,
            proxies=options.proxies,
        )
        serve: Callable[[], None] = server.serve
        stop_serving: Callable[[], None] = server.stop
    else:
        pool = worker_processes.WorkerPool(options, ctx.args.workers)

        def serve() -> None:
            pool.watch(stop_requested)

        stop_serving = pool.stop

    def stop(_signum: int, _frame: object) -> None:
        ncip_log.info("stopping: finishing the messages in hand")
        stop_requested.set()
        threading.Thread(target=stop_serving, daemon=True).start()

    # before the workers start: a stop asked while they load must reach them too
    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)
    if ctx.args.workers == 1:
        host, port = server.start()
        http_server.freeze_startup_objects()
    else:
        pool.start()
        host, port = pool.address
    scheme = "https" if options.certfile else "http"
    ncip_log.info(
        "NCIP responder listening on %s://%s:%d/ncip (%d %s)",
        scheme,
        host,
        port,
        ctx.args.workers,
        "process" if ctx.args.workers == 1 else "worker processes",
    )
    jobs = daily.DailyScheduler(rt, load_settings()) if ctx.args.daily_jobs else None
    if jobs is not None:
        jobs.start()
        ncip_log.info("daily jobs: checked soon and then hourly (--no-daily-jobs turns it off)")
    try:
        serve()
    finally:
        if jobs is not None:
            jobs.stop(timeout=10)  # a run in flight ends after its current batch
        stop_serving()
        ncip_log.info("NCIP responder stopped")
    return EXIT_OK
