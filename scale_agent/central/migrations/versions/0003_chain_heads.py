"""The stations' signed chain heads, kept off the station: the anchor `records verify` checks.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the table: one row per head a station signed (re-signed heads are one row)."""
    op.create_table(
        "chain_heads",
        sa.Column("id", KEY, primary_key=True, autoincrement=True),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("line", sa.String(64), nullable=False),
        sa.Column("station", sa.String(64), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(128), nullable=False),
        sa.Column("public_key", sa.String(128), nullable=False),
        sa.Column("signed_at", WHEN, nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.UniqueConstraint(
            "site", "line", "station", "records", "head_hash", name="uq_chain_head"
        ),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("chain_heads")
