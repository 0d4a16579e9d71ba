"""operating cycle: run kinds, one current final per period, registry history, GSE figures

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-05 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT_FINAL = "status = 'final' AND superseded_by IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("settlement_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="month", nullable=False)
        )
        batch_op.add_column(sa.Column("supersedes", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("superseded_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("forced_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("inputs", sa.JSON(), nullable=True))
    op.execute("UPDATE settlement_runs SET kind = 'year' WHERE length(period) = 4")
    op.create_index(
        "uq_settlement_runs_current_final",
        "settlement_runs",
        ["community_id", "period"],
        unique=True,
        sqlite_where=sa.text(CURRENT_FINAL),
        postgresql_where=sa.text(CURRENT_FINAL),
    )
    op.create_index(
        "uq_pods_active_pod",
        "pods",
        ["pod"],
        unique=True,
        sqlite_where=sa.text("ended IS NULL"),
        postgresql_where=sa.text("ended IS NULL"),
    )
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "registry_changes",
        sa.Column("change_id", big_id, autoincrement=True, nullable=False),
        sa.Column("community_id", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("effective", sa.Date(), nullable=True),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_registry_changes")),
    )
    op.create_index(op.f("ix_registry_changes_community_id"), "registry_changes", ["community_id"])
    op.create_table(
        "registry_timeline",
        sa.Column("entry_id", big_id, autoincrement=True, nullable=False),
        sa.Column("community_id", sa.String(length=64), nullable=False),
        sa.Column("change_id", sa.BigInteger(), nullable=True),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("attribute", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.String(length=200), nullable=True),
        sa.Column("new_value", sa.String(length=200), nullable=True),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_registry_timeline")),
    )
    op.create_index(
        op.f("ix_registry_timeline_community_id"), "registry_timeline", ["community_id"]
    )
    op.create_table(
        "gse_figures",
        sa.Column("figure_id", big_id, autoincrement=True, nullable=False),
        sa.Column("community_id", sa.String(length=64), nullable=False),
        sa.Column("configuration", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("shared_wh", sa.BigInteger(), nullable=True),
        sa.Column("incentivised_wh", sa.BigInteger(), nullable=True),
        sa.Column("tip_eur", sa.String(length=32), nullable=True),
        sa.Column("valorisation_eur", sa.String(length=32), nullable=True),
        sa.Column("amount_eur", sa.String(length=32), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("figure_id", name=op.f("pk_gse_figures")),
    )
    op.create_index(op.f("ix_gse_figures_community_id"), "gse_figures", ["community_id"])
    op.create_index(
        "uq_gse_figures_row",
        "gse_figures",
        ["community_id", "configuration", "period", "kind", "paid_on"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_gse_figures_row", table_name="gse_figures")
    op.drop_index(op.f("ix_gse_figures_community_id"), table_name="gse_figures")
    op.drop_table("gse_figures")
    op.drop_index(op.f("ix_registry_timeline_community_id"), table_name="registry_timeline")
    op.drop_table("registry_timeline")
    op.drop_index(op.f("ix_registry_changes_community_id"), table_name="registry_changes")
    op.drop_table("registry_changes")
    op.drop_index("uq_pods_active_pod", table_name="pods")
    op.drop_index("uq_settlement_runs_current_final", table_name="settlement_runs")
    with op.batch_alter_table("settlement_runs", schema=None) as batch_op:
        batch_op.drop_column("inputs")
        batch_op.drop_column("forced_reason")
        batch_op.drop_column("superseded_by")
        batch_op.drop_column("supersedes")
        batch_op.drop_column("kind")
