"""Storage: every table carries the community id, so a community can live on its own shard.

Energy is integer Wh, times are UTC (``hour_start`` is the start of a clock hour), money is a
decimal string as the engine produced it. These names are also the schema that Grafana reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .domain import rules

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime from what the database returned (SQLite gives naive UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention (stable constraint names for Alembic)."""

    metadata = MetaData(naming_convention=NAMING)


UtcDateTime = DateTime(timezone=True)


class Community(Base):
    """A CER: its registry header, statute and tariffs as in the community file."""

    __tablename__ = "communities"

    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    region: Mapped[str] = mapped_column(String(64))
    market_zone: Mapped[str | None] = mapped_column(String(16))
    cabina_primaria: Mapped[str] = mapped_column(String(64))
    constituted: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Rome")
    cu_afa_eur_mwh: Mapped[dict[str, Any]] = mapped_column(JSON)
    statute: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: ``{lat, lon}`` as given (None: the centre of the region)
    location: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: the file's ``settings`` block as given (None: every default)
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: the other optional header keys (configuration, cu_afb_eur_mwh, gse_fees) as given
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: plausibility bound of any energy of one point in one hour (Wh); NULL: 10 MWh
    max_hour_wh: Mapped[int | None] = mapped_column(BigInteger)


class Member(Base):
    """A member of a community; ``left`` end-dates it (the first day no longer a member)."""

    __tablename__ = "members"
    __table_args__ = (ForeignKeyConstraint(["community_id"], ["communities.community_id"]),)

    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    joined: Mapped[date | None] = mapped_column(Date)
    left: Mapped[date | None] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ateco: Mapped[str | None] = mapped_column(String(16))
    tax_code: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Pod(Base):
    """A connection point (POD) of a member; ``power_kw`` bounds plausible withdrawals."""

    __tablename__ = "pods"
    __table_args__ = (
        ForeignKeyConstraint(["community_id"], ["communities.community_id"]),
        ForeignKeyConstraint(
            ["community_id", "member_id"], ["members.community_id", "members.member_id"]
        ),
    )

    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pod: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    power_kw: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(200))
    ended: Mapped[date | None] = mapped_column(Date)
    #: the cabina primaria the file gives the POD (None: the community's)
    cabina_primaria: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(16))


class Plant(Base):
    """A production plant on its own POD."""

    __tablename__ = "plants"
    __table_args__ = (ForeignKeyConstraint(["community_id"], ["communities.community_id"]),)

    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    plant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pod: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(64))
    power_kw: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    commissioned: Mapped[date] = mapped_column(Date)
    capital_grant_pct: Mapped[float] = mapped_column(Float, default=0)
    voltage: Mapped[str] = mapped_column(String(4), default="lv")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ended: Mapped[date | None] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    built_for_cer: Mapped[str | None] = mapped_column(String(200))


class Token(Base):
    """A bearer token, stored as its SHA-256; ``community_id`` NULL = admin of all."""

    __tablename__ = "tokens"

    token_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community_id: Mapped[str | None] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    pods: Mapped[list[str]] = mapped_column(JSON, default=list)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Reading(Base):
    """One closed hour of one POD from one source (``READING_SOURCES``).

    Several sources of the same POD and hour are all kept; a settlement run uses the
    highest-ranked one present. ``import_id`` names the file import that stored it (NULL: an
    upload of Home Assistant through ``POST /readings``).
    """

    __tablename__ = "readings"

    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pod: Mapped[str] = mapped_column(String(32), primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    source: Mapped[str] = mapped_column(String(16), primary_key=True, server_default="ha")
    import_id: Mapped[int | None] = mapped_column(BigInteger)
    injected_wh: Mapped[int] = mapped_column(BigInteger)
    withdrawn_wh: Mapped[int] = mapped_column(BigInteger)
    produced_wh: Mapped[int | None] = mapped_column(BigInteger)
    consumed_wh: Mapped[int | None] = mapped_column(BigInteger)
    quality: Mapped[str] = mapped_column(String(16))
    samples: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


Index("ix_readings_community_hour", Reading.community_id, Reading.hour_start)


class ReadingAudit(Base):
    """A reading as it was before an upload replaced it."""

    __tablename__ = "reading_audit"

    audit_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    community_id: Mapped[str] = mapped_column(String(64), index=True)
    pod: Mapped[str] = mapped_column(String(32))
    hour_start: Mapped[datetime] = mapped_column(UtcDateTime)
    injected_wh: Mapped[int] = mapped_column(BigInteger)
    withdrawn_wh: Mapped[int] = mapped_column(BigInteger)
    produced_wh: Mapped[int | None] = mapped_column(BigInteger)
    consumed_wh: Mapped[int | None] = mapped_column(BigInteger)
    quality: Mapped[str] = mapped_column(String(16))
    samples: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    replaced_at: Mapped[datetime] = mapped_column(UtcDateTime)
    replaced_by_token: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), server_default="ha")
    import_id: Mapped[int | None] = mapped_column(BigInteger)
    replaced_by_import: Mapped[int | None] = mapped_column(BigInteger)


#: where a stored hour came from: the distributor's meter, a Home Assistant upload, a value
#: keyed in by hand, an estimate (the domain's list, in its default ranking)
READING_SOURCES = rules.READING_SOURCES


class ReadingImport(Base):
    """One file of metered data imported into a community (``readings import``)."""

    __tablename__ = "reading_imports"

    import_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    community_id: Mapped[str] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    layout: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))
    pods: Mapped[int] = mapped_column(Integer)
    hours_new: Mapped[int] = mapped_column(BigInteger)
    hours_unchanged: Mapped[int] = mapped_column(BigInteger)
    hours_replaced: Mapped[int] = mapped_column(BigInteger)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    token_id: Mapped[int | None] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ReadingPack(Base):
    """A POD's readings of one local month packed as arrays (PostgreSQL, for settlement runs).

    ``injected`` and ``withdrawn`` hold one big-endian int4 per hour of the month, ``present``
    one byte (1: a reading exists), for each source named in ``sources`` (comma-separated,
    the arrays one after the other in that order; empty: no readings). Built from
    ``readings`` when a run needs it and rebuilt after ingest marks the month in
    ``reading_dirty``; never the source of truth.
    """

    __tablename__ = "reading_packs"

    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pod: Mapped[str] = mapped_column(String(32), primary_key=True)
    month_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    hours: Mapped[int] = mapped_column(Integer)
    injected: Mapped[bytes] = mapped_column(LargeBinary)
    withdrawn: Mapped[bytes] = mapped_column(LargeBinary)
    present: Mapped[bytes] = mapped_column(LargeBinary)
    built_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sources: Mapped[str] = mapped_column(String(64), server_default="")


class ReadingDirty(Base):
    """A POD-month whose readings changed since its pack was built."""

    __tablename__ = "reading_dirty"

    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pod: Mapped[str] = mapped_column(String(32), primary_key=True)
    month_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: raised by every mark: a run removes only the marks it saw (same version)
    version: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")


class Price(Base):
    """Hourly zonal price (PUN zone, €/MWh as a decimal string) known to a community."""

    __tablename__ = "prices"

    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    zone: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    eur_mwh: Mapped[str] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LiveSnapshot(Base):
    """The latest live figures of a POD (also kept in memory)."""

    __tablename__ = "live_snapshots"

    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pod: Mapped[str] = mapped_column(String(32), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime)
    injection_w: Mapped[float] = mapped_column(Float)
    withdrawal_w: Mapped[float] = mapped_column(Float)
    hour_injected_wh: Mapped[int] = mapped_column(BigInteger)
    hour_withdrawn_wh: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: names of the devices the site's Home Assistant reports unavailable (NULL or []: none)
    unavailable_devices: Mapped[list[str] | None] = mapped_column(JSON)
    #: first snapshot of the current run of snapshots reporting unavailable devices
    unavailable_since: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SettlementRun(Base):
    """A settlement of a period: ``draft`` or ``final`` (immutable, freezes its readings)."""

    __tablename__ = "settlement_runs"

    run_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    community_id: Mapped[str] = mapped_column(String(64), index=True)
    period: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finalised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    community_document: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    hourly_profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    shared_wh: Mapped[int] = mapped_column(BigInteger)
    tip_eur: Mapped[str] = mapped_column(String(32))
    valorisation_eur: Mapped[str] = mapped_column(String(32))
    missing_readings: Mapped[int] = mapped_column(Integer, default=0)
    missing_prices: Mapped[int] = mapped_column(Integer, default=0)
    #: ``month`` | ``year`` settle their period; ``correction`` re-runs a final one (#10)
    kind: Mapped[str] = mapped_column(String(16), default="month", server_default="month")
    #: a correction: the final run it supersedes when finalised
    supersedes: Mapped[str | None] = mapped_column(String(40))
    #: a final run: the correction that superseded it (then it is history, not current)
    superseded_by: Mapped[str | None] = mapped_column(String(40))
    #: why a stale or incomplete run was finalised anyway
    forced_reason: Mapped[str | None] = mapped_column(Text)
    #: fingerprints of the readings, prices and registry the run was computed from
    inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SettlementPlantResult(Base):
    """One plant's figures in a run."""

    __tablename__ = "settlement_plant_results"

    community_id: Mapped[str] = mapped_column(String(64), index=True)
    run_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    plant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    allocated_wh: Mapped[int] = mapped_column(BigInteger)
    incentivised_wh: Mapped[int] = mapped_column(BigInteger)
    tip_eur: Mapped[str] = mapped_column(String(32))
    valorisation_eur: Mapped[str | None] = mapped_column(String(32))


class SettlementMemberResult(Base):
    """One member's figures in a run (its statement)."""

    __tablename__ = "settlement_member_results"

    community_id: Mapped[str] = mapped_column(String(64), index=True)
    run_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shared_wh: Mapped[int] = mapped_column(BigInteger)
    amount_eur: Mapped[str] = mapped_column(String(32))


class Alert(Base):
    """Something staff should look at (``service/alerts``): one row per occurrence of a cause.

    ``cause_key`` names the cause (``site_silent:IT001E…``); while an alert is open
    (``resolved_at`` NULL) no second one with the same cause can exist (a partial unique
    index). Acknowledging keeps it open; it resolves when its cause is gone.
    """

    __tablename__ = "alerts"

    alert_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    community_id: Mapped[str] = mapped_column(String(64), index=True)
    pod: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # --- alerts the referent acts on (issue #15, migration 0009) ---
    cause_key: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16), default="warning", server_default="warning")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(Integer)
    ack_note: Mapped[str | None] = mapped_column(Text)
    webhook_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    mailed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


#: one open alert per cause: a second evaluation at the same moment cannot open a duplicate
Index(
    "uq_alerts_open_cause",
    Alert.community_id,
    Alert.cause_key,
    unique=True,
    sqlite_where=text("resolved_at IS NULL"),
    postgresql_where=text("resolved_at IS NULL"),
)


class AlertDigest(Base):
    """When a recipient last got an alert digest of a community (at most one an hour)."""

    __tablename__ = "alert_digests"

    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: the newest alert the recipient got: the next digest starts after it
    last_alert_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


def table(model: type[Base]) -> Table:
    """The Core table of a mapped class (for bulk statements)."""
    return cast(Table, model.__table__)


# --- the operating cycle (issue #10) ------------------------------------------------------------

#: at most one *current* final run per community and period (corrections included): the
#: database refuses a second one, so two finalisations at the same moment cannot both win
Index(
    "uq_settlement_runs_current_final",
    SettlementRun.community_id,
    SettlementRun.period,
    unique=True,
    sqlite_where=text("status = 'final' AND superseded_by IS NULL"),
    postgresql_where=text("status = 'final' AND superseded_by IS NULL"),
)

#: a POD is active (not end-dated) in one community at a time
Index(
    "uq_pods_active_pod",
    Pod.pod,
    unique=True,
    sqlite_where=text("ended IS NULL"),
    postgresql_where=text("ended IS NULL"),
)


class RegistryChange(Base):
    """One change of a community's registry: who, when, from which day, and the diff."""

    __tablename__ = "registry_changes"

    change_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    community_id: Mapped[str] = mapped_column(String(64), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    effective: Mapped[date | None] = mapped_column(Date)
    diff: Mapped[dict[str, Any]] = mapped_column(JSON)


class RegistryTimeline(Base):
    """A dated change of a rule that changes with time (a member's type, a POD's member).

    Before ``effective`` the attribute had ``old_value`` (``None`` for a POD: not in the
    community yet); a settlement of an earlier period uses the old value.
    """

    __tablename__ = "registry_timeline"

    entry_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    community_id: Mapped[str] = mapped_column(String(64), index=True)
    change_id: Mapped[int | None] = mapped_column(BigInteger)
    entity: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    attribute: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str | None] = mapped_column(String(200))
    effective: Mapped[date] = mapped_column(Date)


class GseFigure(Base):
    """What the GSE announced or paid for one configuration and period (FORMATS.md)."""

    __tablename__ = "gse_figures"

    figure_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    community_id: Mapped[str] = mapped_column(String(64), index=True)
    configuration: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    shared_wh: Mapped[int | None] = mapped_column(BigInteger)
    incentivised_wh: Mapped[int | None] = mapped_column(BigInteger)
    tip_eur: Mapped[str | None] = mapped_column(String(32))
    valorisation_eur: Mapped[str | None] = mapped_column(String(32))
    amount_eur: Mapped[str | None] = mapped_column(String(32))
    paid_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


Index(
    "uq_gse_figures_row",
    GseFigure.community_id,
    GseFigure.configuration,
    GseFigure.period,
    GseFigure.kind,
    GseFigure.paid_on,
    unique=True,
)


class Delivery(Base):
    """A report or statement e-mailed (or skipped, or failed) for a run: one row a message.

    ``member_key`` is the member's id for a statement and ``""`` for the community report;
    one row per (run, kind, member, recipient), so a retry updates the row instead of sending
    twice.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("run_id", "kind", "member_key", "recipient"),
        Index("ix_deliveries_community_run", "community_id", "run_id"),
    )

    delivery_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    community_id: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(32))
    member_key: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# --- the web pages (issue #17) ------------------------------------------------------------------


class WebSession(Base):
    """A signed-in browser: the console (an admin token) or a member's own page.

    The cookie holds a random secret; only its SHA-256 is stored. ``community_id`` is the
    community the session looks at (NULL: a global admin who has not picked one yet).
    """

    __tablename__ = "web_sessions"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    community_id: Mapped[str | None] = mapped_column(String(64), index=True)
    token_id: Mapped[int | None] = mapped_column(Integer)
    member_id: Mapped[str | None] = mapped_column(String(64))
    csrf: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class MemberLink(Base):
    """A member's personal sign-in link: usable once, until ``expires_at``; stored as SHA-256."""

    __tablename__ = "member_links"

    link_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_id: Mapped[str] = mapped_column(String(64), index=True)
    member_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
