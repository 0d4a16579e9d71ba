"""A small SMTP client for the alert digests (``CER_SMTP_URL``, ``CER_MAIL_FROM``).

``smtp://[user:password@]host[:port]`` (STARTTLS when the server offers it) or
``smtps://…`` (TLS from the start). The report mailer of issue #13 reads the same variables.
"""

from __future__ import annotations

import asyncio
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

DEFAULT_FROM = "cer-backend@localhost"
TIMEOUT_SECONDS = 30.0


class MailError(Exception):
    """Mail cannot be sent (no or bad configuration, or the server refused it)."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    sender: str


def smtp_settings(environ: Mapping[str, str] | None = None) -> SmtpSettings | None:
    """The SMTP settings of the environment (None: ``CER_SMTP_URL`` unset)."""
    env = os.environ if environ is None else environ
    url = env.get("CER_SMTP_URL")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError("CER_SMTP_URL must be smtp://host[:port] or smtps://host[:port]")
    tls = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if tls else 25)
    except ValueError as err:
        raise MailError("CER_SMTP_URL has an invalid port") from err
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        sender=env.get("CER_MAIL_FROM") or DEFAULT_FROM,
    )


def _send(settings: SmtpSettings, message: EmailMessage) -> None:
    client: smtplib.SMTP
    if settings.tls:
        client = smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            timeout=TIMEOUT_SECONDS,
            context=ssl.create_default_context(),
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS)
    with client:
        client.ehlo()
        if not settings.tls and client.has_extn("starttls"):
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if settings.username:
            client.login(settings.username, settings.password or "")
        client.send_message(message)


async def send_mail(settings: SmtpSettings, recipient: str, subject: str, body: str) -> None:
    """Send one plain-text message; MailError when the server cannot take it."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    try:
        await asyncio.to_thread(_send, settings, message)
    except (OSError, smtplib.SMTPException) as err:
        raise MailError(f"cannot send mail to {recipient} via {settings.host}: {err}") from err
