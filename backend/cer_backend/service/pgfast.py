"""PostgreSQL hot path: one statement in autocommit on a pooled psycopg connection.

Through SQLAlchemy every request costs BEGIN, the statement, COMMIT and a reset; for the
ingest of single hours that is most of the time. A single statement is atomic by itself, so
it runs here in autocommit on the driver connection of the same pool: one round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine


async def autocommit_fetchone(
    engine: AsyncEngine, statement: str, parameters: Mapping[str, Any]
) -> tuple[Any, ...]:
    """Run one statement (psycopg ``%(name)s`` parameters) in autocommit; its first row."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.set_autocommit(True)
        try:
            cursor = await driver.execute(statement, parameters)
            row = await cursor.fetchone()
        finally:
            await driver.set_autocommit(False)
    if row is None:
        raise RuntimeError("the statement returned no row")
    return tuple(row)
