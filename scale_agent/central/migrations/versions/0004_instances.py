"""The central's own instances: each reports itself, so one that stopped taking its share shows.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the table: one row per instance (its MQTT client id)."""
    op.create_table(
        "instances",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("share_group", sa.String(64)),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("seen_at", WHEN, nullable=False),
        sa.Column("every_s", sa.Float(), nullable=False),
        sa.Column("stored", sa.BigInteger(), nullable=False),
        sa.Column("refused", sa.BigInteger(), nullable=False),
        sa.Column("stalled_since", WHEN),
        sa.Column("problem", sa.Text()),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("instances")
