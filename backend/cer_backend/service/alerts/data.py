"""What the alert rules look at, loaded once per evaluation: PODs × hours up to a moment.

``load_alert_data`` reads the readings of the hours that ended by ``at`` (whenever they were
received), the latest live figure of each POD (and the devices it reports unavailable), the
settlement runs made by ``at`` and, when the table exists (issue #10), the GSE figures. The
readings come set-based, packed per POD and source by the database (``window.py``); on
PostgreSQL the whole months before the recent history from settlement's monthly packs. The
rules (``rules.py``) are pure functions of this snapshot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from ...domain.community import Community, parse_community
from ...domain.period import Period, epoch_hour
from ...models import Community as CommunityRow
from ...models import LiveSnapshot, SettlementRun, as_utc
from ..registry import RegistryError, community_document
from ..settlements import load_packed
from ..sources import DEFAULT_RANKING
from .config import AlertProfile, profile_of
from .window import read_window

I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]
SECONDS_PER_HOUR = 3600
#: days of readings before ``at`` that the rules need (90 days of load history + margin)
HISTORY_DAYS = 100


class AlertDataError(ValueError):
    """The evaluation cannot be made (no such community)."""


@dataclass(frozen=True)
class GseRow:
    """One figure the GSE announced or paid (FORMATS.md "GSE figures")."""

    configuration: str
    period: str
    kind: str
    shared_wh: int | None
    incentivised_wh: int | None
    tip_eur: str | None
    amount_eur: str | None
    paid_on: dt.date | None


@dataclass(frozen=True)
class RunRow:
    """A settlement run as the ``run_incomplete`` and GSE rules need it."""

    run_id: str
    period: str
    status: str
    created_at: datetime
    missing_readings: int
    missing_prices: int
    superseded: bool
    result: dict[str, Any]


@dataclass(frozen=True, eq=False)
class AlertData:
    """A community and its hourly data from ``first_hour`` up to ``at`` (PODs × hours).

    Column ``i`` is the hour starting at epoch hour ``first_hour + i``; every column is an
    hour that ended by ``at``. ``produced`` is −1 where unknown. ``present`` is any source,
    ``ha`` the hours uploaded from a Home Assistant, ``dso`` the distributor's.
    """

    community_id: str
    community: Community
    profile: AlertProfile
    at: datetime
    zone: ZoneInfo
    first_hour: int
    pods: tuple[str, ...]
    injected: I64
    withdrawn: I64
    produced: I64
    present: BOOL
    ha: BOOL
    dso: BOOL
    live: dict[str, datetime] = field(default_factory=dict)
    #: PODs whose latest live figure reports unavailable devices: (names, since when)
    unavailable: dict[str, tuple[tuple[str, ...], datetime]] = field(default_factory=dict)
    runs: tuple[RunRow, ...] = ()
    gse: tuple[GseRow, ...] | None = None
    has_sources: bool = False

    @property
    def hours(self) -> int:
        """Number of hour columns."""
        return int(self.injected.shape[1])

    @property
    def end_hour(self) -> int:
        """Epoch hour after the last column."""
        return self.first_hour + self.hours

    @property
    def local_now(self) -> datetime:
        """``at`` in the community's time zone."""
        return self.at.astimezone(self.zone)

    @property
    def last_complete_day(self) -> dt.date:
        """The last local day that ended by ``at``."""
        return self.local_now.date() - timedelta(days=1)

    def row(self, pod: str) -> int | None:
        """The row of a POD (None: no readings in the window)."""
        return self._rows.get(pod)

    @property
    def _rows(self) -> dict[str, int]:
        cached: dict[str, int] | None = self.__dict__.get("_row_cache")
        if cached is None:
            cached = {pod: i for i, pod in enumerate(self.pods)}
            object.__setattr__(self, "_row_cache", cached)
        return cached

    def column(self, moment: datetime) -> int:
        """The column of the hour that starts at ``moment`` (may be outside the window)."""
        return epoch_hour(moment.astimezone(UTC)) - self.first_hour

    def day_columns(self, day: dt.date) -> tuple[int, int]:
        """Columns [a, b) of a local day, clipped to the window."""
        a = self.column(datetime.combine(day, dt.time(0), tzinfo=self.zone))
        b = self.column(datetime.combine(day + timedelta(days=1), dt.time(0), tzinfo=self.zone))
        return max(0, a), max(0, min(b, self.hours))

    def label(self, pod: str) -> str:
        """How a POD is named in a message: its label, else its code masked (personal data)."""
        point = self.community.points_by_pod.get(pod)
        if point is not None and point.label:
            return point.label
        plant = next((p for p in self.community.plants if p.pod == pod), None)
        if plant is not None:
            return plant.id
        return mask_pod(pod)


def mask_pod(pod: str) -> str:
    """``IT001E00000407`` → ``IT001E…0407``: enough for staff to find it, not the whole code."""
    return f"{pod[:6]}…{pod[-4:]}" if len(pod) > 10 else pod


def window_start(at_local: datetime) -> dt.date:
    """First local day the rules need: 10 weeks back, the month before the previous one and
    the 1st of January of the last complete day's year, whichever is earliest."""
    today = at_local.date()
    last_day = today - timedelta(days=1)
    month = today.replace(day=1)
    for _ in range(2):
        month = (month - timedelta(days=1)).replace(day=1)
    return min(today - timedelta(days=HISTORY_DAYS), month, dt.date(last_day.year, 1, 1))


def _older_months(
    first_day: dt.date, at_local: datetime, profile: AlertProfile, timezone: str
) -> Period | None:
    """The whole months of the window that only the year-to-date rule reads (None: none).

    Recent means: the ``HISTORY_DAYS`` (or ``site_silent.active_days``, if longer) before
    ``at`` and the month before the previous one, from the first of their month; before
    that, the rules read only injected, withdrawn and present."""
    today = at_local.date()
    active = int(profile.value("site_silent", "active_days")) + 2
    month = today.replace(day=1)
    for _ in range(2):
        month = (month - timedelta(days=1)).replace(day=1)
    recent = min(today - timedelta(days=max(HISTORY_DAYS, active)), month).replace(day=1)
    if first_day >= recent or first_day.day != 1:
        return None
    return Period.between(first_day, recent, timezone)


async def load_alert_data(
    connection: AsyncConnection, community_id: str, at: datetime
) -> AlertData:
    """The snapshot of ``community_id`` at ``at`` (aware)."""
    at = at.astimezone(UTC)
    header = (
        await connection.execute(
            select(CommunityRow.timezone).where(CommunityRow.community_id == community_id)
        )
    ).first()
    if header is None:
        raise AlertDataError(f"no community {community_id!r}")
    zone = ZoneInfo(header.timezone or "Europe/Rome")
    local = at.astimezone(zone)
    try:
        document = await community_document(connection, community_id, local.date())
    except RegistryError as err:
        raise AlertDataError(str(err)) from err
    community = parse_community(document)
    profile = profile_of(community)

    first_day = window_start(local)
    first_hour = epoch_hour(datetime.combine(first_day, dt.time(0), tzinfo=zone).astimezone(UTC))
    end_hour = int(at.timestamp()) // SECONDS_PER_HOUR
    hours = max(0, end_hour - first_hour)

    known = {p for m in community.members for p in m.pods} | {p.pod for p in community.plants}
    # PostgreSQL: whole months before the rules' recent history come from settlement's monthly
    # packs (injected, withdrawn, present of the best-ranked source: all the surplus rule's
    # year-to-date needs), the recent hours packed per POD by the query of ``window.py``
    older = _older_months(first_day, local, profile, zone.key)
    if connection.dialect.name != "postgresql":
        older = None
    split = first_hour if older is None else first_hour + older.hours
    window = await read_window(connection, community_id, split, end_hour)
    pods = tuple(sorted(known | set(window.pod_names)))
    injected, withdrawn, produced, present, ha, dso = window.matrices(
        pods, hours, split - first_hour
    )
    if older is not None and pods:
        packed = await load_packed(
            connection.engine, community_id, list(pods), older, DEFAULT_RANKING
        )
        injected[:, : older.hours] = packed.injected
        withdrawn[:, : older.hours] = packed.withdrawn
        present[:, : older.hours] = packed.present
    snapshots = [
        r
        for r in (
            await connection.execute(
                select(
                    LiveSnapshot.pod,
                    LiveSnapshot.ts,
                    LiveSnapshot.unavailable_devices,
                    LiveSnapshot.unavailable_since,
                ).where(LiveSnapshot.community_id == community_id)
            )
        ).all()
        if as_utc(r.ts) <= at
    ]
    live = {r.pod: as_utc(r.ts) for r in snapshots}
    unavailable = {
        r.pod: (tuple(str(name) for name in r.unavailable_devices), as_utc(r.unavailable_since))
        for r in snapshots
        if r.unavailable_devices and r.unavailable_since is not None
    }
    run_columns = [
        SettlementRun.run_id,
        SettlementRun.period,
        SettlementRun.status,
        SettlementRun.created_at,
        SettlementRun.missing_readings,
        SettlementRun.missing_prices,
        SettlementRun.result,
    ]
    superseded_column = getattr(SettlementRun, "superseded_by", None)
    if superseded_column is not None:
        run_columns.append(superseded_column)
    runs = tuple(
        RunRow(
            run_id=r.run_id,
            period=r.period,
            status=r.status,
            created_at=as_utc(r.created_at),
            missing_readings=int(r.missing_readings or 0),
            missing_prices=int(r.missing_prices or 0),
            superseded=superseded_column is not None and r[7] is not None,
            result=dict(r.result or {}),
        )
        for r in (
            await connection.execute(
                select(*run_columns)
                .where(SettlementRun.community_id == community_id)
                .order_by(SettlementRun.created_at)
            )
        ).all()
        if as_utc(r.created_at) <= at
    )
    gse = await load_gse_rows(connection, community_id)
    return AlertData(
        community_id=community_id,
        community=community,
        profile=profile,
        at=at,
        zone=zone,
        first_hour=first_hour,
        pods=pods,
        injected=injected,
        withdrawn=withdrawn,
        produced=produced,
        present=present,
        ha=ha,
        dso=dso,
        live=live,
        unavailable=unavailable,
        runs=runs,
        gse=gse,
        has_sources=True,
    )


GSE_TABLE = "gse_figures"


async def load_gse_rows(
    connection: AsyncConnection, community_id: str
) -> tuple[GseRow, ...] | None:
    """The GSE figures of a community (issue #10's ``gse_figures``); None without the table,
    so the GSE rules are skipped cleanly where it does not exist."""

    def has_table(sync: Connection) -> bool:
        return bool(inspect(sync).has_table(GSE_TABLE))

    if not await connection.run_sync(has_table):
        return None
    rows = (
        await connection.execute(
            text(
                "SELECT configuration, period, kind, shared_wh, incentivised_wh, tip_eur, "
                "amount_eur, paid_on FROM gse_figures WHERE community_id = :community"
            ),
            {"community": community_id},
        )
    ).all()
    return tuple(
        GseRow(
            configuration=str(r[0]),
            period=str(r[1]),
            kind=str(r[2]),
            shared_wh=None if r[3] is None else int(r[3]),
            incentivised_wh=None if r[4] is None else int(r[4]),
            tip_eur=None if r[5] is None else str(r[5]),
            amount_eur=None if r[6] is None else str(r[6]),
            paid_on=_as_date(r[7]),
        )
        for r in rows
    )


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
