"""A migrated database with the test community, and makers of distributor files."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cer_backend.database import create_engine
from cer_backend.migrate import upgrade
from cer_backend.models import Reading
from cer_backend.service.registry import import_community

from ..api.conftest import COMMUNITY_A

QUARTERS = {"30/03/2025": 92, "26/10/2025": 100}


@dataclass
class Db:
    engine: AsyncEngine
    community: str

    async def count(self, source: str | None = None) -> int:
        statement = select(func.count()).select_from(Reading)
        if source is not None:
            statement = statement.where(Reading.source == source)
        async with self.engine.connect() as connection:
            return int(await connection.scalar(statement) or 0)

    async def values(self, pod: str, source: str) -> list[tuple[int, int]]:
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(Reading.withdrawn_wh, Reading.injected_wh)
                    .where(Reading.pod == pod, Reading.source == source)
                    .order_by(Reading.hour_start)
                )
            ).all()
        return [(r[0], r[1]) for r in rows]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    engine = create_engine(database_url)
    await upgrade(engine)
    community, _ = await import_community(engine, COMMUNITY_A)
    try:
        yield Db(engine, community)
    finally:
        await engine.dispose()


def wide_row(pod: str, day: str, direction: str, values: Sequence[str]) -> str:
    return ";".join([pod, day, direction, *values])


def wide_file(
    rows: Sequence[tuple[str, str, str, Sequence[str]]], *, crlf: bool = False, bom: bool = False
) -> bytes:
    header = "POD;Data;Grandezza;" + ";".join(
        f"{q // 4:02d}:{q % 4 * 15:02d}-{(q + 1) // 4:02d}:{(q + 1) % 4 * 15:02d}"
        for q in range(96)
    )
    lines = [header, *(wide_row(*row) for row in rows)]
    newline = "\r\n" if crlf else "\n"
    text = newline.join(lines) + newline
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def day_values(day: str, value: str = "0,125") -> list[str]:
    return [value] * QUARTERS.get(day, 96)
