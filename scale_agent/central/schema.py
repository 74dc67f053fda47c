"""The central monitor's tables (SQLAlchemy Core): one definition for SQLite and PostgreSQL.

The migrations in `migrations/versions/` create exactly these; `tests/central/test_store.py`
checks that a migrated database holds every table and index of this metadata.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# An auto-incrementing key on both engines: BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite.
Key = BigInteger().with_variant(Integer(), "sqlite")

messages = Table(
    "messages",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("msg_id", String(64), nullable=False, unique=True),  # QoS 1: stored once
    Column("kind", String(16), nullable=False),  # alert, verdict, status, health, event, ...
    Column("site", String(64), nullable=False),
    Column("line", String(64), nullable=False),
    Column("station", String(64), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("order_id", String(128)),
    Column("verdict", String(32)),  # alert and verdict messages
    Column("event", String(32)),  # event messages
    Column("reference", String(128)),  # the carrier's tracking number, as the WMS sent it
    Column("marketplace_order", String(64)),  # the shop's order number, as the WMS sent it
    Column("packer", String(64)),  # who packed it, as the WMS assigned the task
    Column("payload", Text, nullable=False),  # the validated message, as JSON
)
Index("ix_messages_kind_received", messages.c.kind, messages.c.received_at)
Index(
    "ix_messages_station_received",
    messages.c.site,
    messages.c.line,
    messages.c.station,
    messages.c.received_at,
)
Index("ix_messages_order", messages.c.order_id)
Index("ix_messages_reference", messages.c.reference)
Index("ix_messages_marketplace_order", messages.c.marketplace_order)
Index("ix_messages_kind_sent", messages.c.kind, messages.c.sent_at)
Index("ix_messages_verdict_received", messages.c.verdict, messages.c.received_at)

# The stations' signed chain heads (`<station>/chain_head`): kept here, off the station, they
# are what `records verify --anchor` checks a ledger against. A head re-signed unchanged (the
# station does so every minute) is one row.
chain_heads = Table(
    "chain_heads",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("site", String(64), nullable=False),
    Column("line", String(64), nullable=False),
    Column("station", String(64), nullable=False),
    Column("records", BigInteger, nullable=False),
    Column("head_hash", String(128), nullable=False),
    Column("public_key", String(128), nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("payload", Text, nullable=False),
    UniqueConstraint("site", "line", "station", "records", "head_hash", name="uq_chain_head"),
)

stations = Table(
    "stations",
    metadata,
    Column("site", String(64), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("station", String(64), primary_key=True),
    Column("state", String(16), nullable=False, default="unknown"),  # online / offline
    Column("version", String(64)),
    Column("status_at", DateTime(timezone=True)),
    Column("health", Text),  # the last health message, as JSON
    Column("health_at", DateTime(timezone=True)),
    Column("verdict", String(32)),  # the newest verdict or alert: the light as last judged
    Column("verdict_order", String(128)),
    Column("verdict_at", DateTime(timezone=True)),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

# Each instance of the central (its MQTT client id) reports itself every `every_s`: in a
# shared-subscription group, one that stopped still has its share queued at the broker, and
# the dashboard says so.
instances = Table(
    "instances",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("share_group", String(64)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("every_s", Float, nullable=False),
    Column("stored", BigInteger, nullable=False),
    Column("refused", BigInteger, nullable=False),
    Column("stalled_since", DateTime(timezone=True)),
    Column("problem", Text),
)

refused = Table(
    "refused",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("topic", String(512), nullable=False),
    Column("reason", Text, nullable=False),
    Column("excerpt", Text, nullable=False),  # the first bytes, escaped for display
)
Index("ix_refused_received", refused.c.received_at)

acknowledgements = Table(
    "acknowledgements",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("msg_id", String(64), nullable=False),  # the alert
    Column("user_name", String(64), nullable=False),
    Column("note", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("ix_acknowledgements_msg", acknowledgements.c.msg_id)

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),  # argon2id
    Column("role", String(16), nullable=False),  # viewer, service, supervisor, admin
    Column("token_hash", String(64), unique=True),  # SHA-256 of the API token
)

audit = Table(
    "audit",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("action", String(32), nullable=False),  # acknowledge, command, user_added, ...
    Column("target", String(255), nullable=False),
    Column("detail", Text, nullable=False),  # JSON
)
Index("ix_audit_at", audit.c.at)

# Every ledger record of every station, as it was hashed (`evidence` messages): the central's
# copy outlives the bench PC. One row per (station, chain, seq); `hash_ok` says whether the body
# matches its hash. The `*_key` columns are casefolded copies the case desk searches by prefix.
evidence = Table(
    "evidence",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("site", String(64), nullable=False),
    Column("line", String(64), nullable=False),
    Column("station", String(64), nullable=False),
    Column("chain", String(64), nullable=False),  # the hash of the ledger's first record
    Column("seq", BigInteger, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("hash_ok", Boolean, nullable=False),
    Column("kind", String(32), nullable=False),  # PASS, UNDER, PHOTO, ROUTINE_TEST, ...
    Column("order_id", String(128)),
    Column("order_key", String(128)),
    Column("reference_key", String(128)),  # the tracking number
    Column("marketplace_key", String(64)),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("photo_sha256", String(64)),  # a photo record's photo, kept as a file by its hash
    Column("photo_state", String(16)),  # kept, mismatch (bytes not as recorded), missing
    Column("body", Text, nullable=False),
    UniqueConstraint("site", "line", "station", "chain", "seq", name="uq_evidence_record"),
)
# The desk searches by prefix (LIKE 'sf14020%'): on PostgreSQL only a pattern_ops index serves
# a prefix under a non-C collation; SQLite ignores the option.
for _key in ("order_key", "reference_key", "marketplace_key"):
    Index(
        f"ix_evidence_{_key}",
        evidence.c[_key],
        postgresql_ops={_key: "varchar_pattern_ops"},
    )
Index("ix_evidence_recorded", evidence.c.recorded_at)

# How far the central has verified each station's chain: every record up to `verified_upto`
# is here and linked; `problem` names the first thing that stops it (a fork, an edit).
evidence_chains = Table(
    "evidence_chains",
    metadata,
    Column("site", String(64), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("station", String(64), primary_key=True),
    Column("chain", String(64), primary_key=True),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("verified_upto", BigInteger, nullable=False),
    Column("received_upto", BigInteger, nullable=False),  # the highest seq received
    Column("problem", Text),
)

# Customer service's cases: a claim against one order, the record's assessment, the decision.
cases = Table(
    "cases",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("order_id", String(128), nullable=False),
    Column("claim", String(16), nullable=False),  # missing, underweight, wrong_item, ...
    Column("claim_detail", Text, nullable=False),  # JSON: sku, qty, grams, note
    Column("finding", String(16), nullable=False),  # supported, contradicted, ...
    Column("assessment", Text, nullable=False),  # JSON: numbers, the sentence, the record
    Column("suggested", Text, nullable=False),  # JSON: the remedy the site's rule gives
    Column("status", String(16), nullable=False),  # open, answered, appealed, closed
    Column("language", String(8), nullable=False),  # the customer's, for the reply
    Column("opened_by", String(64), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("decision", Text),  # JSON: remedy, amount, reason, by, at, approved_by
    Column("decided_at", DateTime(timezone=True)),
    Column("batch", String(36)),  # the bulk import that opened it, if one did
)
Index("ix_cases_order", cases.c.order_id)
Index("ix_cases_opened", cases.c.opened_at)
Index("ix_cases_batch", cases.c.batch)

# The desk's remembered choices (the bulk file's column mapping), one JSON value per name.
desk_settings = Table(
    "desk_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
