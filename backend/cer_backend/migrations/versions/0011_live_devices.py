"""live figures: the devices a site's Home Assistant reports unavailable, and since when

Revision ID: 0011_live_devices
Revises: 0010
Create Date: 2026-12-06 02:10:00

``live_snapshots`` keeps the optional ``unavailable_devices`` of ``POST /live`` (a list of
device names, NULL or empty: none) and the time of the first snapshot of the current run of
snapshots that reported some, which the ``site_silent`` alert measures from.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_live_devices"
down_revision: str | tuple[str, ...] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("live_snapshots") as batch:
        batch.add_column(sa.Column("unavailable_devices", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("unavailable_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("live_snapshots") as batch:
        batch.drop_column("unavailable_since")
        batch.drop_column("unavailable_devices")
