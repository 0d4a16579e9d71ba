"""Live figures: the latest snapshot per POD in memory, persisted for a restart."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from ..models import LiveSnapshot, as_utc, table, utcnow
from .ha_sites import HomeAssistantSites
from .registry import CommunityRules

_LOGGER = logging.getLogger(__name__)
#: a site counts as reporting when its last snapshot is this recent
REPORTING_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a site said last."""

    ts: datetime
    injection_w: float
    withdrawal_w: float
    hour_injected_wh: int
    hour_withdrawn_wh: int
    received_at: datetime
    #: devices the site's Home Assistant reports unavailable (optional in ``POST /live``)
    unavailable_devices: tuple[str, ...] = ()
    #: when the current run of snapshots with unavailable devices began (None: none now)
    unavailable_since: datetime | None = None


def _maybe_utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def _with_since(snapshot: Snapshot, current: Snapshot | None) -> Snapshot:
    """The snapshot with ``unavailable_since``: kept from the snapshot before while devices
    stay unavailable, its own time when they just became so, None when none is."""
    if not snapshot.unavailable_devices:
        since = None
    elif current is not None and current.unavailable_devices and current.unavailable_since:
        since = min(current.unavailable_since, snapshot.ts)
    else:
        since = snapshot.ts
    return replace(snapshot, unavailable_since=since)


class LiveStore:
    """Latest snapshots of every community, keyed by community and POD."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._snapshots: dict[str, dict[str, Snapshot]] = {}
        #: the PODs that upload from a Home Assistant (the sites expected to report)
        self.ha_sites = HomeAssistantSites(engine)

    def last_live(self, community_id: str) -> dict[str, datetime]:
        """The time of each POD's last live figure."""
        return {pod: s.ts for pod, s in self._snapshots.get(community_id, {}).items()}

    async def load(self) -> int:
        """Fill memory from the database (at start-up); returns the number of snapshots."""
        async with self._engine.connect() as connection:
            rows = (await connection.execute(select(table(LiveSnapshot)))).mappings().all()
        for row in rows:
            self._snapshots.setdefault(row["community_id"], {})[row["pod"]] = Snapshot(
                ts=as_utc(row["ts"]),
                injection_w=float(row["injection_w"]),
                withdrawal_w=float(row["withdrawal_w"]),
                hour_injected_wh=int(row["hour_injected_wh"]),
                hour_withdrawn_wh=int(row["hour_withdrawn_wh"]),
                received_at=as_utc(row["received_at"]),
                unavailable_devices=tuple(row.get("unavailable_devices") or ()),
                unavailable_since=_maybe_utc(row.get("unavailable_since")),
            )
        return len(rows)

    async def put(self, community_id: str, pod: str, snapshot: Snapshot) -> None:
        """Keep a snapshot (an older one than the one kept is ignored).

        Stored first, kept in memory only once stored: a value the database refuses is never
        shown to the other buildings."""
        current = self._snapshots.get(community_id, {}).get(pod)
        if current is not None and current.ts > snapshot.ts:
            return
        snapshot = _with_since(snapshot, current)
        insert = postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert
        values = {
            "community_id": community_id,
            "pod": pod,
            "ts": snapshot.ts,
            "injection_w": snapshot.injection_w,
            "withdrawal_w": snapshot.withdrawal_w,
            "hour_injected_wh": snapshot.hour_injected_wh,
            "hour_withdrawn_wh": snapshot.hour_withdrawn_wh,
            "received_at": snapshot.received_at,
            "unavailable_devices": list(snapshot.unavailable_devices),
            "unavailable_since": snapshot.unavailable_since,
        }
        statement = insert(table(LiveSnapshot)).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["community_id", "pod"],
            set_={k: statement.excluded[k] for k in values if k not in ("community_id", "pod")},
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)
        self._snapshots.setdefault(community_id, {})[pod] = snapshot

    def community_live(
        self,
        community_id: str,
        rules: CommunityRules,
        now: datetime | None = None,
        tip_estimate_eur_mwh: float | None = None,
        expected: set[str] | None = None,
    ) -> dict[str, Any]:
        """The contract's community live figures for the current local hour; with
        ``expected`` (the PODs that upload from a Home Assistant, ``service.ha_sites``) also
        ``sites_expected``, how many of the active PODs are expected to report."""
        now = now or utcnow()
        local_now = now.astimezone(rules.timezone)
        hour_start = local_now.replace(minute=0, second=0, microsecond=0)
        hour_start_utc = as_utc(hour_start)
        injected = withdrawn = 0
        injection_w = withdrawal_w = 0.0
        reporting = 0
        active = {
            pod
            for pod, rule in rules.pods.items()
            if (rule.valid_until is None or rule.valid_until > now)
            and (rule.valid_from is None or rule.valid_from <= now)
        }
        for pod, snapshot in self._snapshots.get(community_id, {}).items():
            if pod not in active:
                continue
            if snapshot.ts >= hour_start_utc:
                injected += snapshot.hour_injected_wh
                withdrawn += snapshot.hour_withdrawn_wh
            if snapshot.ts >= now - REPORTING_WINDOW:
                reporting += 1
                injection_w += snapshot.injection_w
                withdrawal_w += snapshot.withdrawal_w
        figures: dict[str, Any] = {
            "hour_start": hour_start.isoformat(),
            "injected_wh": injected,
            "withdrawn_wh": withdrawn,
            # the hour so far: what is shared is the lesser of the two (GSE-RULES §1)
            "shared_wh": min(injected, withdrawn),
            "surplus_w": round(injection_w - withdrawal_w, 1),
            "sites_reporting": reporting,
            "sites_total": len(active),
            "tip_estimate_eur_mwh": tip_estimate_eur_mwh,
        }
        if expected is not None:
            figures["sites_expected"] = len(active & expected)
        return figures
