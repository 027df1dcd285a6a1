"""Hostile and broken initiators: every one gets an NCIP Problem (or the HTTP refusal the
protocol calls for), never a 500 or a traceback, and nothing is written."""

from __future__ import annotations

import http.client
import socket
import threading

import pytest
from sqlalchemy import func, select

from app.ncip.http_server import MAX_BODY, NcipServer
from db.models import IllRequest, Item, NcipMessage, Patron
from tests.ncip import initiator as ini
from tests.ncip.conftest import Responder, allow

XXE = (
    b'<?xml version="1.0"?><!DOCTYPE NCIPMessage [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<NCIPMessage xmlns="http://www.niso.org/2008/ncip" version="2.02"><LookupUser>'
    b"<UserId><UserIdentifierValue>&xxe;</UserIdentifierValue></UserId></LookupUser>"
    b"</NCIPMessage>"
)
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'.encode()
        for n in range(1, 10)
    )
    + b']><NCIPMessage xmlns="http://www.niso.org/2008/ncip" version="2.02"><LookupUser>'
    b"<UserId><UserIdentifierValue>&lol9;</UserIdentifierValue></UserId></LookupUser>"
    b"</NCIPMessage>"
)


def _counts(responder: Responder) -> tuple[int, int, int]:
    with responder.rt.db.reading() as session:
        return (
            session.scalar(select(func.count()).select_from(Item)) or 0,
            session.scalar(select(func.count()).select_from(IllRequest)) or 0,
            session.scalar(select(func.count()).select_from(Patron)) or 0,
        )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<NCIPMessage><AcceptItem>", "Invalid Message Syntax Error"),
        (b"\x00\xff\xfe garbage", "Invalid Message Syntax Error"),
        (b"", "Invalid Message Syntax Error"),
        (XXE, "Invalid Message Syntax Error"),
        (LAUGHS, "Invalid Message Syntax Error"),
        (b'<html xmlns="http://www.w3.org/1999/xhtml"/>', "Invalid Message Syntax Error"),
        (ini.illiad("<FlyToTheMoon>" + ini.header() + "</FlyToTheMoon>"), "Unsupported Service"),
        (ini.illiad("<RecallItem>" + ini.header() + "</RecallItem>"), "Unsupported Service"),
        (ini.tipasa("<LookupItem>" + ini.header() + "</LookupItem>"), "Unsupported Service"),
    ],
    ids=[
        "truncated",
        "binary",
        "empty",
        "xxe",
        "billion-laughs",
        "not-ncip",
        "unknown-service",
        "recall-item",
        "lookup-item",
    ],
)
def test_broken_and_hostile_bodies_get_a_problem(
    responder: Responder, body: bytes, problem: str
) -> None:
    before = _counts(responder)
    reply = ini.post(responder.port, body).assert_valid()
    assert reply.status == 200 and reply.problem == problem
    assert b"root:" not in reply.body and b"lollol" not in reply.body
    assert b"Traceback" not in reply.body
    assert _counts(responder) == before


def _post_size(port: int, size: int) -> bytes:
    """POST `size` bytes; the responder may refuse and close before it has them all."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /ncip HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n"
            + f"Content-Length: {size}\r\n\r\n".encode()
        )
        chunk = b"<" * 65536
        try:
            sent = 0
            while sent < size:
                part = chunk[: size - sent]
                sock.sendall(part)
                sent += len(part)
        except OSError:
            pass  # the responder closed the connection after refusing: as it should
        return sock.recv(4096)


def test_a_100_mb_body_is_refused_with_413_unread(responder: Responder) -> None:
    assert _post_size(responder.port, 100 * 1024 * 1024).startswith(b"HTTP/1.1 413")


def test_a_body_just_over_the_limit_is_refused(responder: Responder) -> None:
    assert _post_size(responder.port, MAX_BODY + 1).startswith(b"HTTP/1.1 413")


@pytest.mark.parametrize(
    ("head", "problem", "element"),
    [
        (ini.header("ILLIAD", "OTHERLIB"), "Unknown Agency", "ToAgencyId"),
        (ini.header("NOBODY", secret=None), "Unknown Agency", "FromAgencyId"),
        (ini.header("ILLIAD", secret="wrong-secret-wrong-secret"), None, None),
        (ini.header("ILLIAD", secret=None), None, None),
    ],
    ids=["wrong-agency", "unknown-partner", "wrong-secret", "no-secret"],
)
def test_trust_is_checked_before_anything_is_done(
    responder: Responder, head: str, problem: str | None, element: str | None
) -> None:
    before = _counts(responder)
    reply = ini.post(
        responder.port, ini.illiad(ini.accept_item("30002000", pickup="SE", head=head))
    ).assert_valid()
    assert reply.problem == (problem or "Agency Authentication Failed")
    if element:
        assert reply.text("ProblemElement") == element
    assert _counts(responder) == before


def test_the_secret_may_come_as_http_basic(responder: Responder) -> None:
    head = ini.header("ILLIAD", secret=None)
    good = ini.post(
        responder.port,
        ini.illiad(ini.accept_item("30002001", pickup="SE", head=head)),
        auth=("ILLIAD", ini.SECRET),
    ).assert_valid()
    assert good.problem is None
    bad = ini.post(
        responder.port,
        ini.illiad(ini.accept_item("30002002", pickup="SE", head=head)),
        auth=("ILLIAD", "not-it"),
    ).assert_valid()
    assert bad.problem == "Agency Authentication Failed"


def test_a_source_address_outside_the_partners_networks_is_refused(
    responder: Responder,
) -> None:
    allow(responder.rt, "FARAWAY", networks=["192.0.2.0/24"])
    reply = ini.post(
        responder.port,
        ini.illiad(ini.lookup_user("T00123456", head=ini.header("FARAWAY", secret=None))),
    ).assert_valid()
    assert reply.problem == "Agency Authentication Failed"
    allow(responder.rt, "FARAWAY", networks=["127.0.0.1/32"])
    again = ini.post(
        responder.port,
        ini.illiad(ini.lookup_user("T00123456", head=ini.header("FARAWAY", secret=None))),
    ).assert_valid()
    assert again.problem is None


def test_a_10000_character_identifier_is_refused_and_not_echoed_whole(
    responder: Responder,
) -> None:
    long = "9" * 10_000
    for body in (
        ini.illiad(ini.accept_item(long, pickup="SE")),
        ini.illiad(ini.lookup_user(long)),
        ini.illiad(ini.check_in_item(long)),
        ini.illiad(ini.header("X" * 10_000).join(["<LookupUser>", "</LookupUser>"])),
    ):
        reply = ini.post(responder.port, body).assert_valid()
        assert reply.problem == "Invalid Message Syntax Error"
        assert len(reply.body) < 3000


@pytest.mark.parametrize(
    "value",
    [
        "T00123456' OR '1'='1",
        "1; DROP TABLE patrons; --",
        "ILL0000017' --",
        '"); DELETE FROM items',
    ],
)
def test_sql_in_identifiers_is_just_an_unknown_value(responder: Responder, value: str) -> None:
    before = _counts(responder)
    user = ini.post(responder.port, ini.illiad(ini.lookup_user(value))).assert_valid()
    assert user.problem in ("Unknown User", "Invalid Message Syntax Error")
    item = ini.post(responder.port, ini.illiad(ini.check_in_item(value))).assert_valid()
    assert item.problem == "Unknown Item"
    accept = ini.post(responder.port, ini.illiad(ini.accept_item(value))).assert_valid()
    assert accept.problem == "Unknown Request"
    assert _counts(responder) == before


def test_http_refusals(responder: Responder) -> None:
    assert ini.get(responder.port, "/healthz").status == 200
    assert ini.get(responder.port, "/ncip").status == 405
    assert ini.get(responder.port, "/other").status == 404
    body = ini.illiad(ini.lookup_user("T00123456"))
    assert ini.post(responder.port, body, content_type="application/json").status == 415
    assert ini.post(responder.port, body, content_type="text/xml; charset=utf-8").status == 200


def test_every_message_is_listed_without_patron_data(responder: Responder) -> None:
    ini.post(responder.port, ini.illiad(ini.lookup_user("T00123456"))).assert_valid()
    ini.post(responder.port, ini.illiad(ini.lookup_user("T99999999"))).assert_valid()
    with responder.rt.db.reading() as session:
        rows = session.scalars(select(NcipMessage).order_by(NcipMessage.id)).all()
    assert [(r.partner, r.service, r.outcome) for r in rows] == [
        ("RESHARE", "LookupUser", "ok"),
        ("RESHARE", "LookupUser", "problem"),
    ]
    assert rows[1].problem_type == "Unknown User"
    for row in rows:
        assert row.response is None  # a lookup is not kept: it holds patron data


def test_a_partner_sending_too_fast_is_slowed_down(partners) -> None:  # type: ignore[no-untyped-def]
    server = NcipServer(partners, "127.0.0.1", 0, threads=2, rate_per_second=0.01, burst=2)
    _host, port = server.start()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        body = ini.illiad(ini.lookup_user("T00123456", head=ini.header("ILLIAD")))
        statuses = [ini.post(port, body).status for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = ini.post(port, body).assert_valid()
        assert limited.problem == "Temporary Processing Failure"
        assert limited.headers.get("Retry-After") == "2"
        other = ini.post(port, ini.illiad(ini.lookup_user("T00123456", head=ini.header("RESHARE"))))
        assert other.status == 200  # the limit is per partner
    finally:
        server.stop()
        thread.join(timeout=15)


def test_an_unexpected_failure_is_a_problem_not_a_500(
    responder: Responder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.ncip import handlers

    def broken(*_args: object) -> None:
        raise RuntimeError("T00123456 exploded")

    monkeypatch.setattr(handlers, "dispatch", broken)
    reply = ini.post(responder.port, ini.illiad(ini.lookup_user("T00123456"))).assert_valid()
    assert reply.status == 200 and reply.problem == "Temporary Processing Failure"
    assert b"exploded" not in reply.body and b"Traceback" not in reply.body


def test_behind_a_reverse_proxy_the_forwarded_address_is_checked(partners) -> None:  # type: ignore[no-untyped-def]
    allow(partners, "FARAWAY", networks=["192.0.2.0/24"])
    server = NcipServer(partners, "127.0.0.1", 0, threads=2, proxies=["127.0.0.1/32"])
    _host, port = server.start()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    body = ini.illiad(ini.lookup_user("T00123456", head=ini.header("FARAWAY", secret=None)))
    try:
        for forwarded, problem in (
            ("192.0.2.7", None),
            ("203.0.113.9, 192.0.2.7", None),  # only the proxy's own entry counts
            ("192.0.2.7, 203.0.113.9", "Agency Authentication Failed"),
            ("", "Agency Authentication Failed"),
        ):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            headers = {"Content-Type": "text/xml"}
            if forwarded:
                headers["X-Forwarded-For"] = forwarded
            conn.request("POST", "/ncip", body=body, headers=headers)
            reply = ini.Reply(200, conn.getresponse().read(), {})
            conn.close()
            assert reply.assert_valid().problem == problem, forwarded
    finally:
        server.stop()
        thread.join(timeout=15)
