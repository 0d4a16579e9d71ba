"""Price import: GME XML/XLSX or CSV (parsed by ``cer_backend.files``), stored per community."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from ..domain.errors import InvalidInput
from ..files.prices import parse_price_file as parse
from ..models import Community, Price, as_utc, table, utcnow

BATCH = 5_000


class PriceError(ValueError):
    """A price file that cannot be read; ``problems`` name where."""

    def __init__(self, message: str, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def detect_kind(data: bytes, name: str = "", content_type: str = "") -> str:
    """``xlsx``, ``xml`` or ``csv`` from the name, content type or first bytes."""
    lowered = name.lower()
    for ext in ("xlsx", "xml", "csv"):
        if lowered.endswith("." + ext) or ext in content_type:
            return ext
    if data.startswith(b"PK"):
        return "xlsx"
    if data.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
        return "xml"
    return "csv"


def parse_price_file(data: bytes, name: str = "", content_type: str = "") -> list[Any]:
    """Rows ``(zone, hour_start aware, Decimal €/MWh)`` of a price file (hourly; quarter-hours
    are made hourly by the engine's reader)."""

    kind = detect_kind(data, name, content_type)
    try:
        prices = parse(data, name if "." in name else f"{name or 'prices'}.{kind}")
    except InvalidInput as err:
        raise PriceError(
            f"the {kind} price file is invalid",
            [{"field": p.path, "message": p.message} for p in err.problems],
        ) from err
    return list(prices.rows())


async def store_prices(
    engine: AsyncEngine, rows: Sequence[Any], community_ids: Sequence[str] | None, source: str
) -> dict[str, Any]:
    """Upsert the rows for the given communities (None: every community)."""
    async with engine.begin() as connection:
        if community_ids is None:
            community_ids = list(await connection.scalars(select(Community.community_id)))
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        now = utcnow()
        for community_id in community_ids:
            values = [
                {
                    "community_id": community_id,
                    "zone": str(zone),
                    "hour_start": as_utc(hour),
                    "eur_mwh": str(Decimal(eur)),
                    "source": source[:200],
                    "imported_at": now,
                }
                for zone, hour, eur in rows
            ]
            for start in range(0, len(values), BATCH):
                statement = insert(table(Price))
                statement = statement.on_conflict_do_update(
                    index_elements=["community_id", "zone", "hour_start"],
                    set_={
                        "eur_mwh": statement.excluded.eur_mwh,
                        "source": statement.excluded.source,
                        "imported_at": statement.excluded.imported_at,
                    },
                )
                await connection.execute(statement, values[start : start + BATCH])
    hours = sorted({as_utc(hour) for _, hour, _ in rows})
    return {
        "rows": len(rows),
        "zones": sorted({str(zone) for zone, _, _ in rows}),
        "first_hour": hours[0].isoformat() if hours else None,
        "last_hour": hours[-1].isoformat() if hours else None,
        "communities": list(community_ids),
    }
