"""Delivery of alerts: the e-mail digest and the webhook.

- **Digest**: each address of ``settings.report_recipients`` gets at most one e-mail an
  hour, listing the open alerts opened since its previous digest. The hour is enforced in the
  database (``alert_digests``: a compare-and-set on the recipient's row), so two processes
  cannot both send. Texts name PODs by label or a masked code and members by id: no other
  member's personal data.
- **Webhook**: each open alert not yet delivered is POSTed to ``settings.alert_webhook_url``
  (see ``webhook.py``), and marked once the receiver accepted it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ...models import Alert, AlertDigest, as_utc, table, utcnow
from ..mail import MailError, send_mail, smtp_config
from .store import Evaluation, alert_view
from .webhook import RETRY_DELAYS, post_alert

_LOGGER = logging.getLogger(__name__)

DIGEST_INTERVAL = timedelta(hours=1)

SUBJECTS = {
    "it": "[{name}] {count} nuovi avvisi",
    "en": "[{name}] {count} new alerts",
}
INTRO = {
    "it": "Avvisi aperti della comunità {name} dall'ultimo riepilogo:",
    "en": "Open alerts of the community {name} since the last digest:",
}
SINCE = {"it": "dal", "en": "since"}


def digest_text(name: str, language: str, alerts: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """(subject, body) of a digest: the kind, message and opening time of each alert only."""
    lang = language if language in SUBJECTS else "it"
    lines = [INTRO[lang].format(name=name), ""]
    for alert in alerts:
        created = str(alert["created_at"])[:16].replace("T", " ")
        lines.append(f"- [{alert['kind']}] {alert['message']} ({SINCE[lang]} {created} UTC)")
    return SUBJECTS[lang].format(name=name, count=len(alerts)), "\n".join(lines) + "\n"


async def _open_after(engine: AsyncEngine, community_id: str, after_id: int) -> list[Any]:
    async with engine.connect() as connection:
        return list(
            (
                await connection.execute(
                    select(table(Alert))
                    .where(
                        Alert.community_id == community_id,
                        Alert.resolved_at.is_(None),
                        Alert.alert_id > after_id,
                    )
                    .order_by(Alert.alert_id)
                )
            ).all()
        )


async def _claim(
    engine: AsyncEngine, community_id: str, recipient: str, now: datetime
) -> tuple[bool, Any, list[Any]]:
    """Take the recipient's digest slot when an hour has passed and there is news:
    (claimed, the row before, the alerts to send)."""
    async with engine.begin() as connection:
        before = (
            await connection.execute(
                select(AlertDigest.sent_at, AlertDigest.last_alert_id).where(
                    AlertDigest.community_id == community_id, AlertDigest.recipient == recipient
                )
            )
        ).first()
    if before is not None and as_utc(before.sent_at) > now - DIGEST_INTERVAL:
        return False, before, []
    alerts = await _open_after(engine, community_id, 0 if before is None else before.last_alert_id)
    if not alerts:
        return False, before, []
    last_id = max(a.alert_id for a in alerts)
    try:
        async with engine.begin() as connection:
            if before is None:
                await connection.execute(
                    insert(AlertDigest).values(
                        community_id=community_id,
                        recipient=recipient,
                        sent_at=now,
                        last_alert_id=last_id,
                    )
                )
                return True, None, alerts
            result = await connection.execute(
                update(AlertDigest)
                .where(
                    AlertDigest.community_id == community_id,
                    AlertDigest.recipient == recipient,
                    AlertDigest.sent_at == before.sent_at,
                )
                .values(sent_at=now, last_alert_id=last_id)
            )
            return result.rowcount == 1, before, alerts
    except IntegrityError:  # another process claimed it first
        return False, before, []


async def _release(
    engine: AsyncEngine, community_id: str, recipient: str, before: Any, now: datetime
) -> None:
    """Give the slot back after a failed send, so the next evaluation tries again."""
    async with engine.begin() as connection:
        where = (
            AlertDigest.community_id == community_id,
            AlertDigest.recipient == recipient,
            AlertDigest.sent_at == now,
        )
        if before is None:
            from sqlalchemy import delete  # noqa: PLC0415

            await connection.execute(delete(AlertDigest).where(*where))
        else:
            await connection.execute(
                update(AlertDigest)
                .where(*where)
                .values(sent_at=before.sent_at, last_alert_id=before.last_alert_id)
            )


async def send_digests(
    engine: AsyncEngine,
    evaluation: Evaluation,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Mail each recipient its digest when due; what was sent, skipped and failed."""
    report: dict[str, Any] = {"sent": [], "skipped": [], "errors": []}
    profile = evaluation.profile
    if profile is None or not profile.recipients:
        return report
    try:
        settings = smtp_config(os.environ if environ is None else environ)
    except MailError as err:
        report["errors"].append(str(err))
        return report
    if settings is None:
        report["errors"].append("CER_SMTP_URL is not set: no digest sent")
        return report
    now = now or utcnow()
    for recipient in profile.recipients:
        claimed, before, alerts = await _claim(engine, evaluation.community_id, recipient, now)
        if not claimed:
            report["skipped"].append(recipient)
            continue
        views = [alert_view(a) for a in alerts]
        subject, body = digest_text(evaluation.community_name, profile.language, views)
        try:
            await send_mail(settings, recipient, subject, body)
        except MailError as err:
            await _release(engine, evaluation.community_id, recipient, before, now)
            report["errors"].append(str(err))
            continue
        async with engine.begin() as connection:
            await connection.execute(
                update(Alert)
                .where(Alert.alert_id.in_([a.alert_id for a in alerts]), Alert.mailed_at.is_(None))
                .values(mailed_at=now)
            )
        report["sent"].append({"recipient": recipient, "alerts": len(alerts)})
    return report


async def send_webhooks(
    engine: AsyncEngine,
    evaluation: Evaluation,
    environ: Mapping[str, str] | None = None,
    delays: Sequence[float] = RETRY_DELAYS,
) -> dict[str, Any]:
    """POST each open alert not yet delivered to the community's webhook."""
    report: dict[str, Any] = {"delivered": [], "failed": [], "errors": []}
    profile = evaluation.profile
    if profile is None or not profile.webhook_url:
        return report
    env = os.environ if environ is None else environ
    secret = env.get("CER_WEBHOOK_SECRET")
    if not secret:
        report["errors"].append("CER_WEBHOOK_SECRET is not set: the webhook is not sent unsigned")
        return report
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(table(Alert))
                .where(
                    Alert.community_id == evaluation.community_id,
                    Alert.resolved_at.is_(None),
                    Alert.webhook_sent_at.is_(None),
                )
                .order_by(Alert.alert_id)
            )
        ).all()
    if not rows:
        return report
    new_ids = {a["id"] for a in evaluation.new}
    async with aiohttp.ClientSession() as session:
        for row in rows:
            view = alert_view(row, new=row.alert_id in new_ids)
            ok, attempts, error = await post_alert(
                session, profile.webhook_url, secret, view, delays
            )
            if not ok:
                report["failed"].append({"id": row.alert_id, "attempts": attempts, "error": error})
                continue
            async with engine.begin() as connection:
                await connection.execute(
                    update(Alert)
                    .where(Alert.alert_id == row.alert_id)
                    .values(webhook_sent_at=utcnow())
                )
            report["delivered"].append({"id": row.alert_id, "attempts": attempts})
    return report


async def deliver(
    engine: AsyncEngine,
    evaluation: Evaluation,
    environ: Mapping[str, str] | None = None,
    delays: Sequence[float] = RETRY_DELAYS,
) -> dict[str, Any]:
    """Both deliveries of an evaluation (nothing for a dry run)."""
    if evaluation.dry_run:
        return {}
    return {
        "mail": await send_digests(engine, evaluation, environ),
        "webhook": await send_webhooks(engine, evaluation, environ, delays),
    }
