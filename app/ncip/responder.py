"""One NCIP message in, one answer out: trust, idempotency, one transaction, a Problem for
anything that cannot be done. Never an exception to the HTTP layer.

A message that changes something is remembered by its digest with the answer given, in
the same transaction as the change: the same message again (a retry after a timeout, a
double click in the ILL system) changes nothing and gets the first answer back. Two copies
racing each other: one commits, the other's insert of the digest fails, and it is answered
from the winner's record.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.library import library_settings
from app.library.branches import ill_office_branch
from app.library.errors import Conflict, ServiceError
from app.library.library_settings import LibrarySettings
from app.library.runtime import Runtime
from app.ncip import handlers, partners, traffic
from app.ncip.messages import Header, NcipRequest, parse, partial_header
from app.ncip.problems import NcipProblem, ProblemType
from app.ncip.responses import Agencies, message, problem_message, serialize
from db.models import NcipMessage

log = logging.getLogger("illdesk.ncip")

READ_ONLY = frozenset({"LookupUser"})

Admit = Callable[[str], bool]  # the per-partner rate limit: may this agency send one more?


@dataclass(frozen=True)
class Answer:
    status: int  # HTTP status
    body: bytes
    partner: str
    service: str
    outcome: str  # "ok", "repeat", "problem"
    problem: str = ""


def _agencies(header: Header, ours: str) -> Agencies:
    return Agencies(ours=ours, theirs=header.from_agency)


def respond(
    rt: Runtime,
    body: bytes,
    *,
    remote_addr: str,
    basic: tuple[str, str] | None = None,
    admit: Admit | None = None,
) -> Answer:
    """The answer to one NCIP message body."""
    started = time.perf_counter()
    try:
        request = parse(body)
    except NcipProblem as problem:
        service, header = (
            partial_header(body) if problem.element != "NCIPMessage" else ("", Header())
        )
        return _refused(rt, problem, service, header, started)
    try:
        try:
            return _carry_out(rt, request, remote_addr, basic, admit, started)
        except (IntegrityError, StaleDataError, Conflict, NcipProblem) as first:
            # Perhaps lost a race to the same message: answer from the winner's record,
            # or try once more in a fresh transaction, which says what stands now.
            if isinstance(first, NcipProblem) and not first.after_trust:
                raise
            repeat = _stored_answer(rt, request, started)
            if repeat is not None:
                return repeat
            if isinstance(first, NcipProblem):
                raise
            return _carry_out(rt, request, remote_addr, basic, admit, started)
    except NcipProblem as problem:
        return _refused(rt, problem, request.service, request.header, started)
    except ServiceError as error:
        return _refused(
            rt,
            NcipProblem(ProblemType.REQUEST_ALREADY_PROCESSED, error.message),
            request.service,
            request.header,
            started,
        )
    except (OperationalError, DBAPIError) as error:
        log.warning("ncip: database error %s", type(error.orig).__name__ if error.orig else "")
        return _refused(
            rt,
            NcipProblem(
                ProblemType.TEMPORARY_PROCESSING_FAILURE,
                "The library's database is busy or unreachable; nothing was changed. "
                "Send the message again in a minute.",
                http_status=503,
            ),
            request.service,
            request.header,
            started,
        )
    except Exception as error:  # never a traceback to a partner; the type goes to the log
        frame = traceback.extract_tb(error.__traceback__)[-1]
        log.error(
            "ncip: unexpected %s handling %s at %s:%s",
            type(error).__name__,
            request.service,
            frame.filename,
            frame.lineno,
        )
        return _refused(
            rt,
            NcipProblem(
                ProblemType.TEMPORARY_PROCESSING_FAILURE,
                "The responder could not handle this message; nothing was changed. The "
                "library's IT staff can see the error in the service log.",
            ),
            request.service,
            request.header,
            started,
        )


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _carry_out(
    rt: Runtime,
    request: NcipRequest,
    remote_addr: str,
    basic: tuple[str, str] | None,
    admit: Admit | None,
    started: float,
) -> Answer:
    changing = request.service not in READ_ONLY
    digest = request.digest
    with rt.db.unit_of_work() as session:
        settings = library_settings.load(session)
        ours = settings.ncip_agency_id or settings.library_oclc_symbol
        partner = partners.authenticate(session, request.header, remote_addr, basic)
        to_agency = request.header.to_agency
        if to_agency and to_agency.strip().upper() != ours.strip().upper():
            raise NcipProblem(
                ProblemType.UNKNOWN_AGENCY,
                f"This responder answers for the agency {ours}; the message is addressed to "
                "another agency.",
                element="ToAgencyId",
                value=to_agency,
            )
        if admit is not None and not admit(partner.agency_id):
            raise NcipProblem(
                ProblemType.TEMPORARY_PROCESSING_FAILURE,
                "Too many messages from this agency in a short time; nothing was changed. "
                "Send it again in a few seconds.",
                http_status=429,
            )
        now = rt.clock.now()
        if changing:
            stored = session.scalar(
                select(NcipMessage.response).where(NcipMessage.idempotency_key == digest)
            )
            if stored is not None:
                traffic.record(
                    session,
                    at=now,
                    partner=partner.agency_id,
                    service=request.service,
                    outcome="repeat",
                    duration_ms=_elapsed_ms(started),
                )
                return Answer(
                    200, stored.encode("utf-8"), partner.agency_id, request.service, "repeat"
                )
        office = ill_office_branch(session)
        try:
            result = _dispatch(rt, request, session, settings, ours, partner.agency_id, office.code)
        except NcipProblem as problem:
            problem.after_trust = True
            raise
        root, response = message(request.service, _agencies(request.header, ours))
        result.render(response, ours)
        body = serialize(root)
        traffic.record(
            session,
            at=now,
            partner=partner.agency_id,
            service=request.service,
            outcome="ok",
            duration_ms=_elapsed_ms(started),
            idempotency_key=digest if changing else None,
            response=body.decode("utf-8") if changing else None,
        )
    # A copy of this message that committed first makes the commit above fail on the
    # digest's unique index: respond() then answers from that copy's record.
    return Answer(200, body, partner.agency_id, request.service, "ok")


def _dispatch(
    rt: Runtime,
    request: NcipRequest,
    session: Session,
    settings: LibrarySettings,
    ours: str,
    partner: str,
    office_code: str,
) -> handlers.Result:
    context = handlers.Context(
        rt=rt,
        actor=partners.partner_actor(partner, office_code),
        settings=settings,
        session=session,
        agency=ours,
        partner=partner,
    )
    return handlers.dispatch(context, request)


def _stored_answer(rt: Runtime, request: NcipRequest, started: float) -> Answer | None:
    """The answer already given to this very message, recorded again as a repeat."""
    if request.service in READ_ONLY:
        return None
    with rt.db.transaction() as session:
        stored = session.scalar(
            select(NcipMessage).where(NcipMessage.idempotency_key == request.digest)
        )
        if stored is None or stored.response is None:
            return None
        traffic.record(
            session,
            at=rt.clock.now(),
            partner=stored.partner,
            service=request.service,
            outcome="repeat",
            duration_ms=_elapsed_ms(started),
        )
        return Answer(
            200, stored.response.encode("utf-8"), stored.partner, request.service, "repeat"
        )


def _refused(
    rt: Runtime, problem: NcipProblem, service: str, header: Header, started: float
) -> Answer:
    ours = ""
    try:
        with rt.db.transaction() as session:
            settings = library_settings.load(session)
            ours = settings.ncip_agency_id or settings.library_oclc_symbol
            traffic.record(
                session,
                at=rt.clock.now(),
                partner=header.from_agency.strip().upper(),
                service=service,
                outcome="problem",
                problem=problem.problem_type.value,
                element=problem.element,
                http_status=problem.http_status,
                duration_ms=_elapsed_ms(started),
            )
    except Exception as error:  # the answer matters more than the traffic list
        log.warning("ncip: could not record a refused message (%s)", type(error).__name__)
    agencies = _agencies(header, ours) if ours and header.from_agency else None
    return Answer(
        problem.http_status,
        problem_message(service, problem, agencies),
        header.from_agency.strip().upper(),
        service,
        "problem",
        problem.problem_type.value,
    )
