"""The first schema: messages, stations, refused messages, acknowledgements, users, audit.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table and index."""
    op.create_table(
        "messages",
        sa.Column("id", KEY, primary_key=True, autoincrement=True),
        sa.Column("msg_id", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("line", sa.String(64), nullable=False),
        sa.Column("station", sa.String(64), nullable=False),
        sa.Column("sent_at", WHEN, nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("order_id", sa.String(128)),
        sa.Column("verdict", sa.String(32)),
        sa.Column("event", sa.String(32)),
        sa.Column("reference", sa.String(128)),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_messages_kind_received", "messages", ["kind", "received_at"])
    op.create_index(
        "ix_messages_station_received", "messages", ["site", "line", "station", "received_at"]
    )
    op.create_index("ix_messages_order", "messages", ["order_id"])
    op.create_index("ix_messages_reference", "messages", ["reference"])
    op.create_index("ix_messages_verdict_received", "messages", ["verdict", "received_at"])
    op.create_table(
        "stations",
        sa.Column("site", sa.String(64), primary_key=True),
        sa.Column("line", sa.String(64), primary_key=True),
        sa.Column("station", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.String(64)),
        sa.Column("status_at", WHEN),
        sa.Column("health", sa.Text),
        sa.Column("health_at", WHEN),
        sa.Column("verdict", sa.String(32)),
        sa.Column("verdict_order", sa.String(128)),
        sa.Column("verdict_at", WHEN),
        sa.Column("seen_at", WHEN, nullable=False),
    )
    op.create_table(
        "refused",
        sa.Column("id", KEY, primary_key=True, autoincrement=True),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("topic", sa.String(512), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("excerpt", sa.Text, nullable=False),
    )
    op.create_index("ix_refused_received", "refused", ["received_at"])
    op.create_table(
        "acknowledgements",
        sa.Column("id", KEY, primary_key=True, autoincrement=True),
        sa.Column("msg_id", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("at", WHEN, nullable=False),
    )
    op.create_index("ix_acknowledgements_msg", "acknowledgements", ["msg_id"])
    op.create_table(
        "users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), unique=True),
    )
    op.create_table(
        "audit",
        sa.Column("id", KEY, primary_key=True, autoincrement=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_at", "audit", ["at"])


def downgrade() -> None:
    """Drop everything (a fresh start; the stations' ledgers stay the truth)."""
    for table in ("audit", "users", "acknowledgements", "refused", "stations", "messages"):
        op.drop_table(table)
