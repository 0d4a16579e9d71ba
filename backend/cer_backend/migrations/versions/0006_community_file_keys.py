"""community file keys: location, settings, member and POD details, built_for_cer

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-05 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("location", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("settings", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("extra", sa.JSON(), nullable=True))

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ateco", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("tax_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(
            sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("pods", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cabina_primaria", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("role", sa.String(length=16), nullable=True))

    with op.batch_alter_table("plants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("built_for_cer", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plants", schema=None) as batch_op:
        batch_op.drop_column("built_for_cer")

    with op.batch_alter_table("pods", schema=None) as batch_op:
        batch_op.drop_column("role")
        batch_op.drop_column("cabina_primaria")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("public")
        batch_op.drop_column("email")
        batch_op.drop_column("tax_code")
        batch_op.drop_column("ateco")

    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("extra")
        batch_op.drop_column("settings")
        batch_op.drop_column("location")
