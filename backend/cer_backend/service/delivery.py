"""E-mail delivery of a run's reports: the community report to ``settings.report_recipients``
and each member only their own statement (PDF and CSV), by SMTP.

SMTP is configured with ``CER_SMTP_URL`` (``smtp://user:pass@host:port``; ``smtps://`` for
TLS from the start) and ``CER_MAIL_FROM``. Every message is recorded in ``deliveries``, one
row per run, kind, member and recipient: ``sent``, ``failed`` (with the error) or
``skipped`` (a member without e-mail). A message is claimed in the database before it is
sent (a row ``sending`` inserted or taken over from ``failed`` in one statement), so two
concurrent sends of the same run never send it twice; a failed send is retried a few times
with a pause, and a later ``reports send`` retries what failed. One failure never stops the
other messages.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache, partial
from typing import Any, Final
from urllib.parse import quote

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ..i18n import Language
from ..models import Delivery, as_utc, table, utcnow
from .community_report import community_report_pdf
from .mail import MailError, SmtpConfig, smtp_send
from .report_model import ReportError, RunFacts, report_recipients
from .statements import statement_csv, statement_pdf
from .web_access import LINK_DAYS, create_member_link, link_url

#: attempts of one message in one ``send`` and the pause before each new attempt
ATTEMPTS: Final = 3
RETRY_PAUSES_SECONDS: Final = (2.0, 10.0)


NO_ADDRESS: Final = "the member has no e-mail address"


class DeliveryError(MailError):
    """Delivery cannot start (no SMTP configured, a draft without ``--draft``)."""


@dataclass(frozen=True)
class Outgoing:
    """One message to send (or a skipped one: no recipient)."""

    kind: str  # community_report | statement
    member_id: str  # "" for the community report
    recipient: str  # "" when the member has no e-mail
    subject: str
    body: str
    #: (file name, MIME type, how to make it): rendered only when the message is sent
    attachments: tuple[tuple[str, str, Callable[[], bytes]], ...] = ()

    @property
    def attachment_names(self) -> list[str]:
        """The attachments' file names."""
        return [name for name, _mime, _render in self.attachments]


@dataclass
class DeliveryOutcome:
    """What a send did: one entry per message."""

    run: str
    dry_run: bool
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Messages that could not be sent."""
        return sum(1 for m in self.messages if m["status"] == "failed")

    def to_json(self) -> dict[str, Any]:
        """The outcome as the CLI prints it with ``--json``."""
        counts: dict[str, int] = {}
        for message in self.messages:
            counts[message["status"]] = counts.get(message["status"], 0) + 1
        return {
            "run": self.run,
            "dry_run": self.dry_run,
            "counts": counts,
            "messages": self.messages,
        }


def member_page_url(public_url: str, community_id: str, member_id: str) -> str:
    """The address of a member's own web page (``web/member.py``:
    ``/socio/{community}/{member}``)."""
    community, member = quote(community_id, safe=""), quote(member_id, safe="")
    return f"{public_url.rstrip('/')}/socio/{community}/{member}"


async def with_sign_in_link(
    engine: AsyncEngine, facts: RunFacts, message: Outgoing, lang: Language, public_url: str
) -> Outgoing:
    """A statement with the member's personal sign-in link (issue #17: "or sent by e-mail
    with the statements"), made only for a message really being sent: it works once, within
    ``LINK_DAYS`` days, as a link the referent makes."""
    secret = await create_member_link(engine, facts.community_id, message.member_id)
    line = lang.gettext(
        "To enter it, open your personal link (it works once, within {days} days):\n{link}\n"
    ).format(days=LINK_DAYS, link=link_url(public_url, secret))
    return replace(message, body=message.body + line)


def outgoing_messages(
    facts: RunFacts, lang: Language, public_url: str | None = None
) -> list[Outgoing]:
    """The community report to each recipient, each member's statement to that member (with
    a link to the member's own web page when the pages' public address is known)."""
    _ = lang.gettext
    draft_word = _("DRAFT")
    report_word = _("report")
    draft = "" if facts.final else f"[{draft_word}] "
    period = lang.period(facts.period)
    messages: list[Outgoing] = []
    recipients = report_recipients(facts.document)
    if recipients:
        report = cache(lambda: community_report_pdf(facts, lang))  # one PDF for every recipient
        for address in recipients:
            messages.append(
                Outgoing(
                    "community_report",
                    "",
                    address,
                    draft
                    + _("Community energy report of {community}, {period}").format(
                        community=facts.community_name, period=period
                    ),
                    _(
                        "Attached is the community energy report of {community} for {period}."
                    ).format(community=facts.community_name, period=period),
                    (
                        (
                            f"{facts.community_id}-{facts.period}-{report_word}.pdf",
                            "application/pdf",
                            report,
                        ),
                    ),
                )
            )
    for member in facts.result.get("members") or []:
        info = facts.members.get(member["id"])
        name = info.name if info else member["id"]
        address = (info.email if info else None) or ""
        subject = draft + _("Your statement of {community}, {period}").format(
            community=facts.community_name, period=period
        )
        if not address:
            messages.append(Outgoing("statement", member["id"], "", subject, ""))
            continue
        mid = str(member["id"])
        base = f"{facts.community_id}-{facts.period}-{mid}"
        body = _(
            "Dear {name},\n\nattached is your statement of {community} for {period}: "
            "your amount is {amount}. The statement explains how it was computed.\n"
        ).format(
            name=name,
            community=facts.community_name,
            period=period,
            amount=lang.eur(member["amount_eur"]),
        )
        if public_url:
            body += "\n" + _("Your page, with every statement and your hours: {url}\n").format(
                url=member_page_url(public_url, facts.community_id, mid)
            )
        messages.append(
            Outgoing(
                "statement",
                member["id"],
                address,
                subject,
                body,
                (
                    (f"{base}.pdf", "application/pdf", partial(statement_pdf, facts, mid, lang)),
                    (
                        f"{base}.csv",
                        "text/csv",
                        partial(_encoded, statement_csv, facts, mid, lang),
                    ),
                ),
            )
        )
    return messages


def _encoded(render: Callable[[RunFacts, str, Language], str], *args: Any) -> bytes:
    return render(*args).encode("utf-8")


def build_email(message: Outgoing, sender: str) -> EmailMessage:
    """The MIME message: text body and attachments."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    email.set_content(message.body)
    for name, mime, render in message.attachments:
        data = render()
        maintype, subtype = mime.split("/", 1)
        email.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return email


Sender = Callable[[SmtpConfig, EmailMessage], None]


async def _claim(
    engine: AsyncEngine, facts: RunFacts, message: Outgoing, lang: str, status: str = "sending"
) -> bool:
    """Take the message for sending: a new row, or a failed one taken over in one statement;
    False when it is sent or being sent. With ``status="skipped"``, only record the row."""
    now = utcnow()
    key = {
        "run_id": facts.id,
        "kind": message.kind,
        "member_key": message.member_id,
        "recipient": message.recipient,
    }
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(Delivery).values(
                    community_id=facts.community_id,
                    subject=message.subject,
                    attachments=message.attachment_names,
                    language=lang,
                    status=status,
                    error=NO_ADDRESS if status == "skipped" else None,
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                    **key,
                )
            )
        return True
    except IntegrityError:
        if status == "skipped":
            return False
    async with engine.begin() as connection:
        taken = await connection.execute(
            update(Delivery)
            .where(*(getattr(Delivery, k) == v for k, v in key.items()))
            .where(Delivery.status == "failed")
            .values(status="sending", updated_at=now, subject=message.subject, language=lang)
        )
    return bool(taken.rowcount)


async def _record(
    engine: AsyncEngine,
    facts: RunFacts,
    message: Outgoing,
    *,
    status: str,
    attempts: int,
    error: str | None,
) -> None:
    now = utcnow()
    async with engine.begin() as connection:
        await connection.execute(
            update(Delivery)
            .where(
                Delivery.run_id == facts.id,
                Delivery.kind == message.kind,
                Delivery.member_key == message.member_id,
                Delivery.recipient == message.recipient,
            )
            .values(
                status=status,
                attempts=Delivery.attempts + attempts,
                error=error,
                updated_at=now,
                sent_at=now if status == "sent" else None,
            )
        )


async def send_run(
    engine: AsyncEngine,
    facts: RunFacts,
    lang: Language,
    *,
    config: SmtpConfig | None,
    dry_run: bool = False,
    allow_draft: bool = False,
    sender: Sender = smtp_send,
    pauses: tuple[float, ...] = RETRY_PAUSES_SECONDS,
) -> DeliveryOutcome:
    """Send the run's community report and statements; record every message."""
    if not facts.final and not allow_draft:
        raise ReportError(
            409, f"run {facts.id} is a draft: finalise it, or send it as a draft with --draft"
        )
    if config is None and not dry_run:
        raise DeliveryError("no SMTP configuration")
    outcome = DeliveryOutcome(facts.id, dry_run)
    messages = outgoing_messages(facts, lang, config.public_url if config else None)
    for message in messages:
        entry: dict[str, Any] = {
            "kind": message.kind,
            "member": message.member_id or None,
            "recipient": message.recipient or None,
            "subject": message.subject,
            "attachments": message.attachment_names,
        }
        outcome.messages.append(entry)
        if dry_run:
            entry["status"] = "skipped" if not message.recipient else "would_send"
            continue
        if not message.recipient:  # recorded once, never claimed: nothing to send
            entry["status"] = "skipped"
            entry["error"] = NO_ADDRESS
            await _claim(engine, facts, message, lang.code, status="skipped")
            continue
        if not await _claim(engine, facts, message, lang.code):
            entry["status"] = "already_sent"
            continue
        assert config is not None
        sent = message
        if config.public_url and message.kind == "statement":
            sent = await with_sign_in_link(engine, facts, message, lang, config.public_url)
        email = await asyncio.to_thread(build_email, sent, config.sender)
        error: str | None = None
        attempts = 0
        for attempt in range(ATTEMPTS):
            attempts += 1
            try:
                await asyncio.to_thread(sender, config, email)
            except (OSError, smtplib.SMTPException) as err:
                error = f"{type(err).__name__}: {err}"
                if attempt + 1 < ATTEMPTS and pauses:
                    await asyncio.sleep(pauses[min(attempt, len(pauses) - 1)])
                continue
            error = None
            break
        status = "failed" if error else "sent"
        entry["status"] = status
        if error:
            entry["error"] = error
        await _record(engine, facts, message, status=status, attempts=attempts, error=error)
    return outcome


async def list_deliveries(
    engine: AsyncEngine, community_id: str, run_id: str | None = None
) -> list[dict[str, Any]]:
    """The community's deliveries, newest first."""
    statement = select(table(Delivery)).where(Delivery.community_id == community_id)
    if run_id:
        statement = statement.where(Delivery.run_id == run_id)
    statement = statement.order_by(Delivery.created_at.desc(), Delivery.delivery_id.desc())
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    return [
        {
            "id": row.delivery_id,
            "run": row.run_id,
            "kind": row.kind,
            "member": row.member_key or None,
            "recipient": row.recipient or None,
            "subject": row.subject,
            "attachments": list(row.attachments or []),
            "language": row.language,
            "status": row.status,
            "attempts": row.attempts,
            "error": row.error,
            "created_at": as_utc(row.created_at).isoformat(),
            "sent_at": as_utc(row.sent_at).isoformat() if row.sent_at else None,
        }
        for row in rows
    ]
