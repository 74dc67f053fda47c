"""Verdicts carry the WMS's references and the packer: a column each, for search and summary.

`reference` keeps the carrier's tracking number; the marketplace's order number and the packer
get their own columns. Summaries read a time range of one kind: an index on (kind, sent_at).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    """Add the columns and their indexes."""
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("marketplace_order", sa.String(64)))
        table.add_column(sa.Column("packer", sa.String(64)))
    op.create_index("ix_messages_marketplace_order", "messages", ["marketplace_order"])
    op.create_index("ix_messages_kind_sent", "messages", ["kind", "sent_at"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_index("ix_messages_kind_sent", "messages")
    op.drop_index("ix_messages_marketplace_order", "messages")
    with op.batch_alter_table("messages") as table:
        table.drop_column("packer")
        table.drop_column("marketplace_order")
