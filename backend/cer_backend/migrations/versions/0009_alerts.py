"""alerts the referent acts on: causes, acknowledgement, digests

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 22:50:00

The ``alerts`` table of 0001 is extended (not duplicated): a cause key with a partial unique
index (one open alert per cause), acknowledgement, delivery marks. Open alerts of the old kind
``settlement_incomplete`` become ``run_incomplete`` with a cause of their own, so the first
evaluation resolves them and reopens what is still incomplete under the period's cause.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | tuple[str, ...] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "resolved_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("subject", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("severity", sa.String(length=16), server_default="warning", nullable=False)
        )
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ack_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("webhook_sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE alerts SET kind = 'run_incomplete', "
        "cause_key = 'legacy:' || CAST(alert_id AS VARCHAR(20)) "
        "WHERE kind = 'settlement_incomplete'"
    )
    op.create_index(
        "uq_alerts_open_cause",
        "alerts",
        ["community_id", "cause_key"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.create_table(
        "alert_digests",
        sa.Column("community_id", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_alert_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("community_id", "recipient", name=op.f("pk_alert_digests")),
    )


def downgrade() -> None:
    op.drop_table("alert_digests")
    op.drop_index("uq_alerts_open_cause", table_name="alerts")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        for column in (
            "mailed_at",
            "webhook_sent_at",
            "ack_note",
            "acknowledged_by",
            "acknowledged_at",
            "updated_at",
            "details",
            "severity",
            "subject",
            "cause_key",
        ):
            batch_op.drop_column(column)
