"""Serving NCIP over HTTP: `POST /ncip` and `GET /healthz`, with cheroot.

cheroot (the CherryPy project's WSGI server) runs the same on Windows and Linux, serves
TLS itself when given a certificate, refuses bodies over its limit with 413, and stops
gracefully: it stops accepting, lets the messages in hand finish, then closes. The log
names partner, service and outcome of each message, never an identifier or a name.
"""

from __future__ import annotations

import base64
import binascii
import gc
import importlib
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from cheroot import wsgi
from sqlalchemy import text
from sqlalchemy.orm import configure_mappers

from app.library.runtime import Runtime
from app.ncip.problems import NcipProblem, ProblemType
from app.ncip.responder import respond
from app.ncip.responses import problem_message
from db.engine import use_setting

log = logging.getLogger("illdesk.ncip")

MAX_BODY = 1024 * 1024  # bytes; larger bodies are refused with 413 before they are read
REQUEST_TIMEOUT = 10  # seconds a client may take to send its request
SHUTDOWN_TIMEOUT = 10  # seconds the messages in hand get to finish at shutdown
STATEMENT_TIMEOUT_MS = 10_000  # PostgreSQL: the longest one statement of a message may run
XML_TYPES = ("application/xml", "text/xml")
# ILLiad's add-ons post with .NET's WebClient, which may send no type or a form type.
TOLERATED_TYPES = ("", "application/x-www-form-urlencoded")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    503: "Service Unavailable",
}

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Wsgi = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class BucketStore(Protocol):
    """Where the rate limiter keeps each partner's (tokens, since): in this process, or in
    memory shared by the service's worker processes (`worker_processes.SharedBuckets`)."""

    def get_lock(self) -> AbstractContextManager[Any]: ...
    def get(self, agency: str) -> tuple[float, float] | None: ...
    def put(self, agency: str, tokens: float, since: float) -> None: ...


class LocalBuckets:
    """The buckets of a service that answers in one process."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def get_lock(self) -> threading.Lock:
        return self._lock

    def get(self, agency: str) -> tuple[float, float] | None:
        return self._buckets.get(agency)

    def put(self, agency: str, tokens: float, since: float) -> None:
        self._buckets[agency] = (tokens, since)


class RateLimiter:
    """A token bucket per partner: `per_second` messages on average, bursts of `burst`."""

    def __init__(
        self,
        per_second: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        buckets: BucketStore | None = None,
    ) -> None:
        self.per_second = per_second
        self.burst = max(1, burst)
        self._clock = clock
        self._buckets: BucketStore = buckets if buckets is not None else LocalBuckets()

    def admit(self, agency: str) -> bool:
        now = self._clock()
        with self._buckets.get_lock():
            tokens, since = self._buckets.get(agency) or (float(self.burst), now)
            tokens = min(float(self.burst), tokens + (now - since) * self.per_second)
            if tokens < 1.0:
                self._buckets.put(agency, tokens, now)
                return False
            self._buckets.put(agency, tokens - 1.0, now)
            return True


def _basic(environ: dict[str, Any]) -> tuple[str, str] | None:
    header = str(environ.get("HTTP_AUTHORIZATION", ""))
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, password = decoded.partition(":")
    return user, password


def _plain(
    start_response: StartResponse, status: int, body: str, *extra: tuple[str, str]
) -> list[bytes]:
    data = body.encode("utf-8")
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))]
    start_response(f"{status} {_REASONS.get(status, '')}", [*headers, *extra])
    return [data]


def _xml(
    start_response: StartResponse, status: int, body: bytes, *extra: tuple[str, str]
) -> list[bytes]:
    headers = [
        ("Content-Type", "application/xml; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *extra,
    ]
    start_response(f"{status} {_REASONS.get(status, '')}", headers)
    return [body]


def _too_large(start_response: StartResponse) -> list[bytes]:
    return _plain(
        start_response,
        413,
        f"An NCIP message is at most {MAX_BODY} bytes; this one is larger and was not read.\n",
        ("Connection", "close"),
    )


def client_address(environ: dict[str, Any], proxies: Sequence[IPNetwork]) -> str:
    """The address the message came from: the peer's, or, when the peer is one of our
    reverse proxies, the last address that proxy put in X-Forwarded-For."""
    peer = str(environ.get("REMOTE_ADDR", ""))
    if not proxies:
        return peer
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return peer
    if not any(address in network for network in proxies):
        return peer
    forwarded = [p.strip() for p in str(environ.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    return forwarded[-1] if forwarded and forwarded[-1] else peer


def make_app(
    rt: Runtime, limiter: RateLimiter | None = None, proxies: Sequence[IPNetwork] = ()
) -> Wsgi:
    """The WSGI application of the responder."""

    def healthz(start_response: StartResponse) -> Iterable[bytes]:
        try:
            with rt.db.reading() as session:
                session.execute(text("SELECT 1"))
        except Exception as error:
            log.warning("healthz: database not answering (%s)", type(error).__name__)
            return _plain(start_response, 503, "database not answering\n")
        return _plain(start_response, 200, "ok\n")

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        method = str(environ.get("REQUEST_METHOD", ""))
        if path == "/healthz":
            if method not in ("GET", "HEAD"):
                return _plain(start_response, 405, "GET /healthz\n", ("Allow", "GET"))
            return healthz(start_response)
        if path.rstrip("/") != "/ncip":
            return _plain(start_response, 404, "NCIP messages go to POST /ncip.\n")
        if method != "POST":
            return _plain(start_response, 405, "POST an NCIPMessage to /ncip.\n", ("Allow", "POST"))
        media = str(environ.get("CONTENT_TYPE", "")).split(";", 1)[0].strip().lower()
        if media not in XML_TYPES and media not in TOLERATED_TYPES and not media.endswith("+xml"):
            return _plain(
                start_response, 415, "Send the NCIPMessage as application/xml or text/xml.\n"
            )
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return _plain(start_response, 400, "Content-Length is not a number.\n")
        if length > MAX_BODY:
            return _too_large(start_response)
        stream = environ["wsgi.input"]
        body = stream.read(length) if length >= 0 else stream.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return _too_large(start_response)
        try:
            answer = respond(
                rt,
                body,
                remote_addr=client_address(environ, proxies),
                basic=_basic(environ),
                admit=limiter.admit if limiter is not None else None,
            )
        except Exception as error:  # respond() answers everything; this is the last guard
            log.error("ncip: unexpected %s", type(error).__name__)
            problem = NcipProblem(
                ProblemType.TEMPORARY_PROCESSING_FAILURE,
                "The responder could not handle this message; nothing was changed.",
            )
            return _xml(start_response, 200, problem_message("", problem))
        extra = (("Retry-After", "2"),) if answer.status in (429, 503) else ()
        return _xml(start_response, answer.status, answer.body, *extra)

    return app


def _limit_statement_time(rt: Runtime) -> None:
    """PostgreSQL: no statement of a message runs longer than STATEMENT_TIMEOUT_MS (set once
    per connection of this process, so a message pays no extra round trip for it; behind a
    transaction pooler each transaction sets it for itself)."""
    use_setting(rt.db.engine, "statement_timeout", STATEMENT_TIMEOUT_MS)


# Loaded by the first AcceptItem (strap content and style); loaded before serving instead.
_LOADED_ON_FIRST_USE = ("app.borrowing.strap_data", "app.printing.straps")


def freeze_startup_objects() -> None:
    """Keep what the service loaded at startup out of the cycle collector's full passes.

    The modules, the ORM's mappers and the rest of what stays for the life of the process are
    some 100,000 objects, which every full collection would walk again: a pause of tens of
    milliseconds in whatever message is being answered when it strikes. Frozen, a full
    collection walks only what messages left behind. Called once, by `illdesk ncip serve`,
    after everything is loaded and before the first message.
    """
    configure_mappers()
    for name in _LOADED_ON_FIRST_USE:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()


def _on_socket(listener: socket.socket) -> type[wsgi.Server]:
    """A cheroot server that answers on a socket already bound and listening (the one the
    service's worker processes share) instead of binding its own."""

    class OnSocket(wsgi.Server):
        def bind(self, family: int, type: int, proto: int = 0) -> socket.socket:
            self.socket = listener
            self.bind_addr = listener.getsockname()[:2]
            return listener

    return OnSocket


class NcipServer:
    """The responder on one address; `start()` binds, `serve()` blocks, `stop()` ends it."""

    def __init__(
        self,
        rt: Runtime,
        host: str = "127.0.0.1",
        port: int = 8080,
        *,
        certfile: str | None = None,
        keyfile: str | None = None,
        threads: int = 8,
        rate_per_second: float = 200.0,
        burst: int = 400,
        proxies: Sequence[str] = (),
        limiter: RateLimiter | None = None,
        listener: socket.socket | None = None,
    ) -> None:
        # a connection for each thread answering messages, one for the daily jobs, one for
        # /healthz: none opened and closed again while messages come in together
        rt.db.allow_connections(threads + 2)
        _limit_statement_time(rt)
        self.limiter = limiter if limiter is not None else RateLimiter(rate_per_second, burst)
        server_class = wsgi.Server if listener is None else _on_socket(listener)
        address = (host, port) if listener is None else listener.getsockname()[:2]
        self.server = server_class(
            address,
            make_app(rt, self.limiter, [ipaddress.ip_network(p, strict=False) for p in proxies]),
            numthreads=threads,
            server_name="illdesk-ncip",
            timeout=REQUEST_TIMEOUT,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
        )
        self.server.max_request_body_size = MAX_BODY
        if certfile:
            from cheroot.ssl.builtin import BuiltinSSLAdapter

            self.server.ssl_adapter = BuiltinSSLAdapter(certfile, keyfile)
        self.tls = bool(certfile)

    def start(self) -> tuple[str, int]:
        """Bind the socket (port 0 picks a free one) and say where it listens."""
        self.server.prepare()
        host, port = self.server.bind_addr[:2]
        return str(host), int(port)

    def serve(self) -> None:
        self.server.serve()

    def stop(self) -> None:
        """Stop accepting, let the messages in hand finish, close."""
        self.server.stop()
