"""The backend's one SMTP client: reports and statements (``service.delivery``), alert digests
(``service.alerts.delivery``).

Configured by the environment: ``CER_SMTP_URL`` is ``smtp://[user:password@]host[:port]``
(STARTTLS when the server offers it) or ``smtps://…`` (TLS from the start), and
``CER_MAIL_FROM`` the sender's address (required: a made-up sender is refused by real servers).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Final
from urllib.parse import unquote, urlsplit

TIMEOUT_SECONDS: Final = 30.0


class MailError(ValueError):
    """Mail cannot be sent: no or a bad configuration, or the server refused it."""


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send."""

    host: str
    port: int
    tls: bool
    user: str | None
    password: str | None
    sender: str
    #: ``CER_PUBLIC_URL``: the web pages' address, for links in the messages (None: no links)
    public_url: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> SmtpConfig:
        """``CER_SMTP_URL`` and ``CER_MAIL_FROM``; MailError naming what is wrong."""
        url = environ.get("CER_SMTP_URL", "").strip()
        sender = environ.get("CER_MAIL_FROM", "").strip()
        if not url:
            raise MailError("CER_SMTP_URL is not set (smtp://user:pass@host:port)")
        if not sender or "@" not in sender:
            raise MailError("CER_MAIL_FROM is not set to an e-mail address")
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise MailError(
                "CER_SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://… for TLS"
            )
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 25)
        except ValueError as err:
            raise MailError(f"CER_SMTP_URL has an invalid port: {err}") from err
        return cls(
            host=parts.hostname,
            port=port,
            tls=parts.scheme == "smtps",
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=sender,
            public_url=public_url(environ),
        )


def public_url(environ: Mapping[str, str]) -> str | None:
    """``CER_PUBLIC_URL`` (optional): the address members reach the web pages at, e.g.
    ``https://cer.comune.example.it``; MailError when set to something else than an http(s)
    address."""
    value = environ.get("CER_PUBLIC_URL", "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise MailError(
            "CER_PUBLIC_URL must be the web pages' address, e.g. https://cer.comune.example.it"
        )
    return value.rstrip("/")


def smtp_config(environ: Mapping[str, str]) -> SmtpConfig | None:
    """The environment's SMTP configuration; None when ``CER_SMTP_URL`` is not set at all."""
    if not environ.get("CER_SMTP_URL", "").strip():
        return None
    return SmtpConfig.from_environment(environ)


def smtp_send(config: SmtpConfig, email: EmailMessage) -> None:
    """Send one message (blocking; run it in a thread)."""
    client: smtplib.SMTP
    if config.tls:
        client = smtplib.SMTP_SSL(
            config.host, config.port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT_SECONDS)
    with client:
        client.ehlo()
        if not config.tls and client.has_extn("starttls"):
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if config.user:
            client.login(config.user, config.password or "")
        client.send_message(email)


async def send_mail(config: SmtpConfig, recipient: str, subject: str, body: str) -> None:
    """Send one plain-text message; MailError when the server cannot take it."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    try:
        await asyncio.to_thread(smtp_send, config, message)
    except (OSError, smtplib.SMTPException) as err:
        raise MailError(f"cannot send mail to {recipient} via {config.host}: {err}") from err
