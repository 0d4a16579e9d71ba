"""The lifecycle of alerts: open once per cause, acknowledge, resolve by itself, keep history.

An evaluation at ``at`` compares the rules' findings with the open alerts of the community:
a finding without an open alert opens one (``new``); an open alert whose cause is gone is
resolved at ``at``; an open alert whose cause lasts keeps its id and acknowledgement. The
partial unique index ``uq_alerts_open_cause`` makes a second open alert of a cause impossible:
an evaluation that races another one finds the alert already open and does not report it new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ...domain.alert_thresholds import KINDS
from ...models import Alert, as_utc, table, utcnow
from .config import AlertProfile
from .data import AlertData, load_alert_data
from .rules import Finding, evaluate


@dataclass
class Evaluation:
    """What an evaluation found: the alerts in force (``new`` marks those it opened)."""

    community_id: str
    at: datetime
    alerts: list[dict[str, Any]]
    resolved: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    profile: AlertProfile | None = None
    community_name: str = ""

    @property
    def new(self) -> list[dict[str, Any]]:
        """The alerts this evaluation opened."""
        return [a for a in self.alerts if a["new"]]

    def to_json_dict(self) -> dict[str, Any]:
        """The ``alerts check --json`` object."""
        return {
            "community": self.community_id,
            "at": self.at.isoformat(),
            "dry_run": self.dry_run,
            "alerts": self.alerts,
            "resolved": self.resolved,
            "warnings": self.warnings,
        }


def alert_view(row: Any, new: bool = False) -> dict[str, Any]:
    """An alert as the API, the CLI and the webhook show it."""
    return {
        "id": row.alert_id,
        "community": row.community_id,
        "kind": row.kind,
        "cause": row.cause_key,
        "pod": row.pod,
        "subject": row.subject,
        "severity": row.severity,
        "message": row.message,
        "details": row.details or {},
        "created_at": as_utc(row.created_at).isoformat(),
        "updated_at": None if row.updated_at is None else as_utc(row.updated_at).isoformat(),
        "resolved_at": None if row.resolved_at is None else as_utc(row.resolved_at).isoformat(),
        "acknowledged": row.acknowledged_at is not None,
        "acknowledged_at": (
            None if row.acknowledged_at is None else as_utc(row.acknowledged_at).isoformat()
        ),
        "ack_note": row.ack_note,
        "new": new,
    }


def _draft_view(community_id: str, finding: Finding, at: datetime) -> dict[str, Any]:
    return {
        "id": None,
        "community": community_id,
        "kind": finding.kind,
        "cause": finding.cause,
        "pod": finding.pod,
        "subject": finding.subject,
        "severity": finding.severity,
        "message": finding.message,
        "details": finding.details,
        "created_at": at.isoformat(),
        "updated_at": None,
        "resolved_at": None,
        "acknowledged": False,
        "acknowledged_at": None,
        "ack_note": None,
        "new": True,
    }


async def _open_rows(connection: AsyncConnection, community_id: str) -> list[Any]:
    return list(
        (
            await connection.execute(
                select(table(Alert))
                .where(Alert.community_id == community_id, Alert.resolved_at.is_(None))
                .order_by(Alert.alert_id)
            )
        ).all()
    )


async def reconcile(
    connection: AsyncConnection,
    data: AlertData,
    findings: Sequence[Finding],
    *,
    dry_run: bool = False,
) -> Evaluation:
    """Bring the community's open alerts in line with ``findings`` at ``data.at``."""
    community_id, at = data.community_id, data.at
    open_rows = await _open_rows(connection, community_id)
    by_cause = {row.cause_key: row for row in open_rows if row.cause_key}
    wanted = {f.cause: f for f in findings}
    resolved: list[dict[str, Any]] = []
    for row in open_rows:
        managed = row.kind in KINDS or row.kind == "settlement_incomplete"
        if not managed or (row.cause_key in wanted and row.cause_key is not None):
            continue
        if as_utc(row.created_at) > at:  # looking back: what opened later is not judged
            continue
        if not dry_run:
            await connection.execute(
                update(Alert)
                .where(Alert.alert_id == row.alert_id, Alert.resolved_at.is_(None))
                .values(resolved_at=at, updated_at=at)
            )
        view = alert_view(row)
        view["resolved_at"] = at.isoformat()
        resolved.append(view)
    alerts: list[dict[str, Any]] = []
    for cause, finding in wanted.items():
        row = by_cause.get(cause)
        if row is not None:
            if not dry_run and (row.message != finding.message or row.details != finding.details):
                await connection.execute(
                    update(Alert)
                    .where(Alert.alert_id == row.alert_id)
                    .values(message=finding.message, details=finding.details, updated_at=at)
                )
            view = alert_view(row)
            view.update(message=finding.message, details=finding.details)
            alerts.append(view)
            continue
        if dry_run:
            alerts.append(_draft_view(community_id, finding, at))
            continue
        values = {
            "community_id": community_id,
            "pod": finding.pod,
            "kind": finding.kind,
            "cause_key": cause,
            "subject": finding.subject,
            "severity": finding.severity,
            "message": finding.message,
            "details": finding.details,
            "created_at": at,
            "updated_at": at,
        }
        try:
            async with connection.begin_nested():
                alert_id: int | None = (
                    await connection.execute(
                        insert(Alert).values(**values).returning(Alert.alert_id)
                    )
                ).scalar_one()
            new = True
        except IntegrityError:  # another evaluation opened it a moment ago
            alert_id = await connection.scalar(
                select(Alert.alert_id).where(
                    Alert.community_id == community_id,
                    Alert.cause_key == cause,
                    Alert.resolved_at.is_(None),
                )
            )
            new = False
        stored = (
            await connection.execute(select(table(Alert)).where(Alert.alert_id == alert_id))
        ).one()
        alerts.append(alert_view(stored, new=new))
    return Evaluation(
        community_id=community_id,
        at=at,
        alerts=alerts,
        resolved=resolved,
        warnings=list(data.profile.warnings),
        dry_run=dry_run,
        profile=data.profile,
        community_name=data.community.name,
    )


async def check_alerts(
    engine: AsyncEngine,
    community_id: str,
    at: datetime | None = None,
    *,
    dry_run: bool = False,
) -> Evaluation:
    """Evaluate every rule of a community at ``at`` (default now) and store the outcome in
    one transaction (nothing is stored with ``dry_run``)."""
    at = (at or utcnow()).astimezone(UTC)
    async with engine.begin() as connection:
        data = await load_alert_data(connection, community_id, at)
        findings = evaluate(data)
        return await reconcile(connection, data, findings, dry_run=dry_run)


class AlertError(Exception):
    """An alert request that cannot be done; ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def list_alerts(
    engine: AsyncEngine, community_id: str, status: str = "open", limit: int = 500
) -> list[dict[str, Any]]:
    """The community's alerts, newest first: open ones, or all (history included)."""
    query = select(table(Alert)).where(Alert.community_id == community_id)
    if status == "open":
        query = query.where(Alert.resolved_at.is_(None))
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                query.order_by(Alert.created_at.desc(), Alert.alert_id.desc()).limit(limit)
            )
        ).all()
    return [alert_view(row) for row in rows]


async def acknowledge(
    engine: AsyncEngine,
    alert_id: int,
    note: str,
    token_id: int | None,
    community_id: str | None,
) -> dict[str, Any]:
    """Acknowledge an open alert with a note: it stays open until its cause is gone."""
    async with engine.begin() as connection:
        query = select(table(Alert)).where(Alert.alert_id == alert_id)
        if community_id is not None:
            query = query.where(Alert.community_id == community_id)
        row = (await connection.execute(query)).first()
        if row is None:
            raise AlertError(404, f"no alert {alert_id}")
        if row.resolved_at is not None:
            raise AlertError(409, f"alert {alert_id} is resolved already")
        now = utcnow()
        await connection.execute(
            update(Alert)
            .where(Alert.alert_id == alert_id)
            .values(acknowledged_at=now, acknowledged_by=token_id, ack_note=note, updated_at=now)
        )
        stored = (
            await connection.execute(select(table(Alert)).where(Alert.alert_id == alert_id))
        ).one()
    return alert_view(stored)


async def record_run_incomplete(  # noqa: PLR0917 (the figures of one run)
    connection: AsyncConnection,
    community_id: str,
    period: str,
    run_id: str,
    missing_readings: int,
    missing_prices: int,
    at: datetime,
    language: str = "it",
) -> None:
    """Open the ``run_incomplete`` alert of a period when a run leaves it incomplete (called
    by the settlement service; the evaluation resolves it when a complete run follows).
    Nothing happens when the period's alert is open already (its message is updated)."""
    from .messages import message  # noqa: PLC0415

    values = {
        "period": period,
        "run_id": run_id,
        "missing_readings": missing_readings,
        "missing_prices": missing_prices,
    }
    cause = f"run_incomplete:{period}"
    text = message("run_incomplete", language, values)
    existing = await connection.scalar(
        select(Alert.alert_id).where(
            Alert.community_id == community_id,
            Alert.cause_key == cause,
            Alert.resolved_at.is_(None),
        )
    )
    if existing is None:
        try:
            async with connection.begin_nested():
                await connection.execute(
                    insert(Alert).values(
                        community_id=community_id,
                        kind="run_incomplete",
                        cause_key=cause,
                        subject=period,
                        severity="warning",
                        message=text,
                        details=values,
                        created_at=at,
                        updated_at=at,
                    )
                )
            return
        except IntegrityError:
            pass
    await connection.execute(
        update(Alert)
        .where(
            Alert.community_id == community_id,
            Alert.cause_key == cause,
            Alert.resolved_at.is_(None),
        )
        .values(message=text, details=values, updated_at=at)
    )
