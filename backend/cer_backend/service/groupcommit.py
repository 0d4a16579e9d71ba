"""Group commit for small uploads on PostgreSQL: many requests, one transaction, one fsync.

A commit waits for the write-ahead log to reach the disk (about 3 ms here), so one
transaction per single-hour upload caps ingest at a few hundred uploads a second. The
committer queues the statements of concurrent requests and runs them in one transaction (in
a pipeline: one round trip); each request is answered only after that transaction committed,
so an acknowledged reading is as durable as with its own transaction. If the shared
transaction fails, each statement is retried on its own, so one bad statement cannot sink
the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from .pgfast import autocommit_fetchone

_LOGGER = logging.getLogger(__name__)
MAX_STATEMENTS = 256

_Item = tuple[str, Mapping[str, Any], "asyncio.Future[tuple[Any, ...]]"]


class GroupCommitter:
    """Runs queued one-row statements in shared transactions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pending: list[_Item] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._closing = False

    async def fetchone(self, statement: str, parameters: Mapping[str, Any]) -> tuple[Any, ...]:
        """Run ``statement`` in the next shared transaction; its first row once committed."""
        future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()
        self._pending.append((statement, parameters, future))
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="cer-group-commit")
        return await future

    async def close(self) -> None:
        """Finish what is queued, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None and not self._task.done():
            await self._idle.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self._idle.clear()
            while self._pending:
                batch = self._pending[:MAX_STATEMENTS]
                del self._pending[: len(batch)]
                await self._commit(batch)
            self._idle.set()
            if self._closing:
                return
            await self._wake.wait()
            self._wake.clear()

    async def _commit(self, batch: list[_Item]) -> None:
        try:
            rows = await self._shared_transaction(batch)
        except Exception as err:
            _LOGGER.warning("Shared transaction of %d failed (%s): one by one", len(batch), err)
            for statement, parameters, future in batch:
                try:
                    row = await autocommit_fetchone(self._engine, statement, parameters)
                except Exception as single:
                    if not future.done():
                        future.set_exception(single)
                else:
                    if not future.done():
                        future.set_result(row)
            return
        for (_, _, future), row in zip(batch, rows, strict=True):
            if not future.done():
                future.set_result(row)

    async def _shared_transaction(self, batch: list[_Item]) -> list[tuple[Any, ...]]:
        async with self._engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.set_autocommit(True)
            try:
                async with driver.transaction():
                    async with driver.pipeline():
                        cursors = [
                            await driver.execute(statement, parameters)
                            for statement, parameters, _ in batch
                        ]
                    rows = []
                    for cursor in cursors:
                        row = await cursor.fetchone()
                        if row is None:
                            raise RuntimeError("a statement returned no row")
                        rows.append(tuple(row))
            finally:
                await driver.set_autocommit(False)
        return rows
