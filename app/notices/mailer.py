"""Delivering one message over SMTP, and telling "not sent" apart from "maybe sent".

The server comes from the workstation settings (`smtp_host`, `smtp_port`, `smtp_starttls`,
`smtp_username`, `smtp_sender`), each overridable by an environment variable:
ILLDESK_SMTP_HOST, ILLDESK_SMTP_PORT, ILLDESK_SMTP_STARTTLS (1/0), ILLDESK_SMTP_USERNAME,
ILLDESK_SMTP_SENDER. The password comes from ILLDESK_SMTP_PASSWORD, else the keyring
(`app.workstation.secrets`): it is never written to the settings file, never logged (it is
registered for log redaction), never part of an error message or `repr`.
Port 465 means TLS from the first byte (SMTPS); otherwise STARTTLS when it is on.

The conversation is driven step by step (MAIL, RCPT, DATA) so a failure is classified:
anything refused or broken before the server's answer to the end of DATA certainly did not
deliver (`DeliveryFailed(uncertain=False)`, safe to retry). A connection lost while waiting
for that last answer may have delivered (`uncertain=True`): the outbox then holds the notice
for a person to check instead of risking a second copy.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from types import TracebackType
from typing import Protocol

from app.library.errors import ServiceError
from app.workstation.config import WorkstationSettings
from app.workstation.log_setup import register_secret
from app.workstation.secrets import smtp_password

PASSWORD_ENV = "ILLDESK_SMTP_PASSWORD"
SMTPS_PORT = 465
TIMEOUT_SECONDS = 20.0


class MailerNotConfigured(ServiceError):
    code = "smtp_not_configured"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    starttls: bool = True
    username: str = ""
    sender: str = ""
    password: str = field(default="", repr=False)
    timeout: float = TIMEOUT_SECONDS

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class OutgoingMail:
    recipient: str
    subject: str
    body: str
    message_id: str = ""  # stable per notice, so a resent copy is recognisable


class DeliveryFailed(Exception):
    """Not delivered (`uncertain` False), or perhaps delivered (`uncertain` True)."""

    def __init__(
        self,
        reason: str,
        *,
        uncertain: bool = False,
        connection: bool = False,
        permanent: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.uncertain = uncertain
        self.connection = connection  # the server could not be reached or dropped us
        # A 5xx answer: the server refuses this message for good; sending again is pointless.
        self.permanent = permanent


def _refused(what: str, code: int, reply: bytes | str) -> DeliveryFailed:
    """The server's refusal; 5xx is permanent (RFC 5321), 4xx worth another try later."""
    return DeliveryFailed(f"{what}: {_reply(code, reply)}", permanent=500 <= code < 600)


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> None: ...

    def close(self) -> None: ...


def mail_server_problem(
    settings: WorkstationSettings, environ: Mapping[str, str] | None = None
) -> str | None:
    """Why this desk cannot e-mail notices, in words with what to set; None when it can try.

    Only the settings are read (never the keyring, never the network): the Notices panel asks
    each time it is shown.
    """
    try:
        _server(settings, os.environ if environ is None else environ)
    except MailerNotConfigured as exc:
        return exc.message
    return None


def _server(
    settings: WorkstationSettings, env: Mapping[str, str]
) -> tuple[str, int, bool, str, str]:
    """Host, port, STARTTLS, username and sender; refused with what to set."""
    host = env.get("ILLDESK_SMTP_HOST", settings.smtp_host).strip()
    if not host:
        raise MailerNotConfigured(
            "No mail server is set, so notices stay in the outbox. Set the SMTP server in "
            "this desk's settings (smtp_host) or in ILLDESK_SMTP_HOST."
        )
    port_text = env.get("ILLDESK_SMTP_PORT", str(settings.smtp_port)).strip()
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise MailerNotConfigured(f"The SMTP port '{port_text}' is not a port number (1-65535).")
    starttls_text = env.get("ILLDESK_SMTP_STARTTLS")
    starttls = (
        settings.smtp_starttls
        if starttls_text is None
        else starttls_text.strip().lower() in ("1", "true", "yes", "on")
    )
    username = env.get("ILLDESK_SMTP_USERNAME", settings.smtp_username).strip()
    sender = env.get("ILLDESK_SMTP_SENDER", settings.smtp_sender).strip()
    if not sender:
        raise MailerNotConfigured(
            "No sender address is set for notices. Set smtp_sender in this desk's settings "
            "or ILLDESK_SMTP_SENDER (for example ill@example.edu)."
        )
    return host, int(port_text), starttls, username, sender


def smtp_config(
    settings: WorkstationSettings, environ: Mapping[str, str] | None = None
) -> SmtpConfig:
    """The SMTP server for this desk; refused with what to set when there is none."""
    env = os.environ if environ is None else environ
    host, port, starttls, username, sender = _server(settings, env)
    password = env.get(PASSWORD_ENV, "")
    if password:
        register_secret(password)
    elif username:
        found = smtp_password(replace(settings, smtp_host=host, smtp_username=username))
        password = found or ""
    return SmtpConfig(
        host=host,
        port=port,
        starttls=starttls,
        username=username,
        sender=sender,
        password=password,
    )


def build_message(config: SmtpConfig, mail: OutgoingMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = mail.message_id or make_msgid(domain="illdesk.invalid")
    # Quoted-printable keeps the message 7-bit clean for relays without 8BITMIME.
    message.set_content(mail.body, cte="quoted-printable")
    return message


class SmtpMailer:
    """One SMTP connection, opened on first use and reused for a batch of notices."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpMailer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        cfg = self.config
        try:
            smtp: smtplib.SMTP
            if cfg.port == SMTPS_PORT:
                smtp = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
                if cfg.starttls:
                    smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo_or_helo_if_needed()
            if cfg.username:
                smtp.login(cfg.username, cfg.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed(
                f"The mail server {cfg.label} refused the sign-in for '{cfg.username}' "
                f"({_reply(exc.smtp_code, exc.smtp_error)}). Check the user name and the "
                f"{PASSWORD_ENV} variable.",
                connection=True,
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(
                f"The mail server {cfg.label} cannot be reached ({_describe(exc)}).",
                connection=True,
            ) from None
        self._smtp = smtp
        return smtp

    def send(self, mail: OutgoingMail) -> None:
        """Deliver one message; raise `DeliveryFailed` saying whether it may have gone."""
        smtp = self._connect()
        data = build_message(self.config, mail).as_bytes()
        try:
            code, reply = smtp.mail(self.config.sender)
            if code != 250:
                raise _refused("The mail server refused the sender", code, reply)
            code, reply = smtp.rcpt(mail.recipient)
            if code not in (250, 251):
                smtp.rset()
                raise _refused(f"The mail server refused {mail.recipient}", code, reply)
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                smtp.rset()
                raise _refused("The mail server refused the message", code, reply)
        except DeliveryFailed:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise DeliveryFailed(
                f"The connection to {self.config.label} broke ({_describe(exc)}).",
                connection=True,
            ) from None
        # From here on the server may have the whole message.
        try:
            smtp.send(_dot_stuffed(data))
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise DeliveryFailed(
                f"The connection to {self.config.label} broke at the end of the message "
                f"({_describe(exc)}); it may or may not have been delivered.",
                uncertain=True,
                connection=True,
            ) from None
        if code != 250:
            raise _refused("The mail server refused the message", code, reply)

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA payload: CRLF line ends, leading dots doubled, ended by CRLF.CRLF."""
    text = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if text.startswith(b"."):
        text = b"." + text
    text = text.replace(b"\r\n.", b"\r\n..")
    if not text.endswith(b"\r\n"):
        text += b"\r\n"
    return text + b".\r\n"


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}".strip()


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())[:200]
