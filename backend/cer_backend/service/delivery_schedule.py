"""``serve`` e-mails the reports of a month once it is final, for communities that ask for it.

A community with ``settings.report_delivery: after_finalise`` gets the community report and
the statements of each month run finalised in the last week, as ``reports send`` would send
them, in the community's language. The loop runs every ``CER_DELIVERY_INTERVAL_SECONDS``
(default 600) and only when ``CER_SMTP_URL`` is set. Messages already sent are never sent
again (each is claimed in the database); failed ones are retried at the next rounds until
they have had ``MAX_ATTEMPTS`` attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import timedelta
from typing import Final

from aiohttp import web
from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ..i18n import choose_language
from ..models import Community, Delivery, SettlementRun, utcnow
from .delivery import DeliveryOutcome, send_run
from .mail import MailError, SmtpConfig
from .report_model import load_facts

_LOGGER = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS: Final = 600.0
#: only months finalised this recently are sent (enabling the setting does not mail old years)
WINDOW: Final = timedelta(days=7)
#: a message that failed this many times is left to ``reports send`` by hand
MAX_ATTEMPTS: Final = 9
MONTH_PERIOD_LENGTH: Final = 7  # "YYYY-MM"


async def runs_to_deliver(engine: AsyncEngine) -> list[tuple[str, str]]:
    """(community, run) of recent final months not yet (fully) delivered, where asked."""
    async with engine.connect() as connection:
        communities = (
            await connection.execute(select(Community.community_id, Community.settings))
        ).all()
        wanted = [
            row.community_id
            for row in communities
            if isinstance(row.settings, Mapping)
            and row.settings.get("report_delivery") == "after_finalise"
        ]
        if not wanted:
            return []
        delivered = exists().where(Delivery.run_id == SettlementRun.run_id)
        retry = exists().where(
            and_(
                Delivery.run_id == SettlementRun.run_id,
                Delivery.status == "failed",
                Delivery.attempts < MAX_ATTEMPTS,
            )
        )
        rows = (
            await connection.execute(
                select(SettlementRun.community_id, SettlementRun.run_id)
                .where(
                    SettlementRun.community_id.in_(wanted),
                    SettlementRun.status == "final",
                    SettlementRun.finalised_at >= utcnow() - WINDOW,
                    func.length(SettlementRun.period) == MONTH_PERIOD_LENGTH,
                    or_(not_(delivered), retry),
                )
                .order_by(SettlementRun.finalised_at)
            )
        ).all()
    return [(row.community_id, row.run_id) for row in rows]


async def deliver_finalised(
    engine: AsyncEngine, environ: Mapping[str, str]
) -> list[DeliveryOutcome]:
    """One round: send what :func:`runs_to_deliver` finds (MailError without SMTP)."""
    config = SmtpConfig.from_environment(environ)
    outcomes = []
    for community_id, run_id in await runs_to_deliver(engine):
        facts = await load_facts(engine, run_id, community_id)
        lang = choose_language(None, facts.document)
        outcome = await send_run(engine, facts, lang, config=config)
        _LOGGER.info(
            "Reports of %s %s e-mailed: %s", community_id, facts.period, outcome.to_json()["counts"]
        )
        outcomes.append(outcome)
    return outcomes


def delivery_context(
    engine_of: Callable[[web.Application], AsyncEngine],
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx`` for the app: the delivery loop while the server runs (if SMTP is set)."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        environ = dict(os.environ)
        if not environ.get("CER_SMTP_URL"):
            yield
            return
        task = asyncio.create_task(_loop(engine_of(app), environ))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context


async def _loop(engine: AsyncEngine, environ: Mapping[str, str]) -> None:
    interval = float(environ.get("CER_DELIVERY_INTERVAL_SECONDS") or DEFAULT_INTERVAL_SECONDS)
    while True:
        await asyncio.sleep(interval)  # first after start-up (and its migrations)
        try:
            await deliver_finalised(engine, environ)
        except MailError as err:
            _LOGGER.error("Scheduled delivery is off: %s", err)
            return
        except Exception:  # a round that fails never stops the server or the next round
            _LOGGER.exception("Scheduled delivery round failed")
