"""Evidence leaves the bench: every station's records and photos, their chains, and cases.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)
NAME = sa.String(64)


def upgrade() -> None:
    """Create the evidence, evidence_chains, cases and desk_settings tables."""
    op.create_table(
        "evidence",
        sa.Column("id", KEY, primary_key=True, autoincrement=True),
        *(sa.Column(name, NAME, nullable=False) for name in ("site", "line", "station", "chain")),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("hash_ok", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(128)),
        sa.Column("order_key", sa.String(128)),
        sa.Column("reference_key", sa.String(128)),
        sa.Column("marketplace_key", sa.String(64)),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("photo_sha256", sa.String(64)),
        sa.Column("photo_state", sa.String(16)),
        sa.Column("body", sa.Text(), nullable=False),
        sa.UniqueConstraint("site", "line", "station", "chain", "seq", name="uq_evidence_record"),
    )
    for column in ("order_key", "reference_key", "marketplace_key"):  # prefix search: pattern ops
        op.create_index(
            f"ix_evidence_{column}",
            "evidence",
            [column],
            postgresql_ops={column: "varchar_pattern_ops"},
        )
    op.create_index("ix_evidence_recorded", "evidence", ["recorded_at"])
    op.create_table(
        "evidence_chains",
        *(sa.Column(name, NAME, primary_key=True) for name in ("site", "line", "station", "chain")),
        sa.Column("first_seen_at", WHEN, nullable=False),
        sa.Column("verified_upto", sa.BigInteger(), nullable=False),
        sa.Column("received_upto", sa.BigInteger(), nullable=False),
        sa.Column("problem", sa.Text()),
    )
    op.create_table(
        "cases",
        sa.Column("id", KEY, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("claim", sa.String(16), nullable=False),
        sa.Column("claim_detail", sa.Text(), nullable=False),
        sa.Column("finding", sa.String(16), nullable=False),
        sa.Column("assessment", sa.Text(), nullable=False),
        sa.Column("suggested", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("opened_by", NAME, nullable=False),
        sa.Column("opened_at", WHEN, nullable=False),
        sa.Column("decision", sa.Text()),
        sa.Column("decided_at", WHEN),
        sa.Column("batch", sa.String(36)),
    )
    op.create_index("ix_cases_order", "cases", ["order_id"])
    op.create_index("ix_cases_opened", "cases", ["opened_at"])
    op.create_index("ix_cases_batch", "cases", ["batch"])
    op.create_table(
        "desk_settings",
        sa.Column("name", NAME, primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("desk_settings")
    op.drop_table("cases")
    op.drop_table("evidence_chains")
    op.drop_table("evidence")
