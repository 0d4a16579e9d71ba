"""The evaluation of ``serve``: every community every 15 minutes, and soon after an import.

A background task started and stopped with the application (``cleanup_ctx``): stopping it
cancels the evaluation under way, whose transaction then rolls back (nothing half-stored).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ...models import Community
from .delivery import deliver
from .store import Evaluation, check_alerts
from .webhook import RETRY_DELAYS

_LOGGER = logging.getLogger(__name__)

#: seconds between two evaluations of every community
EVALUATION_INTERVAL: Final = 15 * 60.0
#: seconds to wait after an import before evaluating (uploads come in bursts)
AFTER_IMPORT_DELAY: Final = 30.0


class AlertScheduler:
    """Evaluates and delivers the alerts of every community on a schedule."""

    def __init__(
        self,
        engine: AsyncEngine,
        interval: float = EVALUATION_INTERVAL,
        after_import: float = AFTER_IMPORT_DELAY,
        delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self._engine = engine
        self._interval = interval
        self._after_import = after_import
        self._delays = delays
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._pending: set[str] = set()
        self.runs = 0

    def poke(self, community_id: str) -> None:
        """Evaluate ``community_id`` soon (after an import of its data)."""
        self._pending.add(community_id)
        self._wake.set()

    async def evaluate_all(self, community_ids: Sequence[str] | None = None) -> list[Evaluation]:
        """Evaluate and deliver the given communities (default all); a failing community is
        logged and does not stop the others."""
        if community_ids is None:
            async with self._engine.connect() as connection:
                community_ids = list(
                    (await connection.scalars(select(Community.community_id))).all()
                )
        evaluations = []
        for community_id in community_ids:
            try:
                evaluation = await check_alerts(self._engine, community_id)
                await deliver(self._engine, evaluation, delays=self._delays)
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("Alert evaluation of %s failed", community_id)
                continue
            evaluations.append(evaluation)
            if evaluation.new:
                _LOGGER.info(
                    "%d new alerts in %s",
                    len(evaluation.new),
                    community_id,
                )
        self.runs += 1
        return evaluations

    async def _loop(self) -> None:
        await asyncio.sleep(self._after_import)
        await self.evaluate_all()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            if self._wake.is_set():
                self._wake.clear()
                await asyncio.sleep(self._after_import)
                pending, self._pending = sorted(self._pending), set()
                await self.evaluate_all(pending)
            else:
                await self.evaluate_all()

    def start(self) -> None:
        """Start the background task (the first evaluation comes ``after_import`` seconds
        later, then one every ``interval``)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="cer-alerts")

    async def stop(self) -> None:
        """Cancel the task and wait for it to end."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
