"""readings keep their source (dso, ha, manual, estimate) and the import they came from

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: one row per POD-hour, of its best-ranked source (dso > ha > manual > estimate): a window
#: over the key's columns, so filters on community, POD and hour reach the table's index
RANKED_VIEW = """
CREATE VIEW readings_ranked AS
SELECT community_id, pod, hour_start, source, import_id, injected_wh, withdrawn_wh,
       produced_wh, consumed_wh, quality, samples, received_at
FROM (
  SELECT r.*, ROW_NUMBER() OVER (
    PARTITION BY r.community_id, r.pod, r.hour_start
    ORDER BY CASE r.source WHEN 'dso' THEN 0 WHEN 'ha' THEN 1 WHEN 'manual' THEN 2 ELSE 3 END
  ) AS source_rank
  FROM readings r
) ranked
WHERE source_rank = 1
"""


def upgrade() -> None:
    op.create_table(
        "reading_imports",
        sa.Column(
            "import_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("community_id", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("layout", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("pods", sa.Integer(), nullable=False),
        sa.Column("hours_new", sa.BigInteger(), nullable=False),
        sa.Column("hours_unchanged", sa.BigInteger(), nullable=False),
        sa.Column("hours_replaced", sa.BigInteger(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("import_id", name=op.f("pk_reading_imports")),
    )
    with op.batch_alter_table("reading_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reading_imports_community_id"), ["community_id"], unique=False
        )
    # every hour stored so far came from Home Assistant uploads (or the demo): source "ha"
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), server_default="ha", nullable=False)
        )
        batch_op.add_column(sa.Column("import_id", sa.BigInteger(), nullable=True))
        batch_op.drop_constraint("pk_readings", type_="primary")
        batch_op.create_primary_key("pk_readings", ["community_id", "pod", "hour_start", "source"])
    with op.batch_alter_table("reading_audit", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), server_default="ha", nullable=False)
        )
        batch_op.add_column(sa.Column("import_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("replaced_by_import", sa.BigInteger(), nullable=True))
    # what dashboards read: per POD-hour the row of the best source (the default ranking)
    op.execute(RANKED_VIEW)
    # packs are a cache: rebuilt with one array set per source when a run needs them
    op.execute("DELETE FROM reading_packs")
    with op.batch_alter_table("reading_packs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sources", sa.String(length=64), server_default="", nullable=False)
        )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS readings_ranked")
    op.execute("DELETE FROM reading_packs")
    with op.batch_alter_table("reading_packs", schema=None) as batch_op:
        batch_op.drop_column("sources")
    with op.batch_alter_table("reading_audit", schema=None) as batch_op:
        batch_op.drop_column("replaced_by_import")
        batch_op.drop_column("import_id")
        batch_op.drop_column("source")
    # only the highest-ranked hour of each POD can stay under the old key
    op.execute(
        "DELETE FROM readings WHERE source <> 'ha' AND EXISTS (SELECT 1 FROM readings r"
        " WHERE r.community_id = readings.community_id AND r.pod = readings.pod"
        " AND r.hour_start = readings.hour_start AND r.source = 'ha')"
    )
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.drop_constraint("pk_readings", type_="primary")
        batch_op.create_primary_key("pk_readings", ["community_id", "pod", "hour_start"])
        batch_op.drop_column("import_id")
        batch_op.drop_column("source")
    with op.batch_alter_table("reading_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reading_imports_community_id"))
    op.drop_table("reading_imports")
