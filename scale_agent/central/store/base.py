"""The store's ground: the engine (SQLite or PostgreSQL), migrations, and the shapes of rows.

One code path for both engines (SQLAlchemy Core); the schema comes from the Alembic
migrations (`upgrade`). Times are stored in UTC.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite

from scale_agent.central.schema import (
    messages,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


STATION_COLUMNS = (
    "version",
    "status_at",
    "health",
    "health_at",
    "verdict",
    "verdict_order",
    "verdict_at",
)
STATION_KEY = (messages.c.site, messages.c.line, messages.c.station)
STATION_ROW = ("site", "line", "station", "state", *STATION_COLUMNS, "seen_at")
CHAIN_HEAD = "chain_head"  # the kind of a signed chain head (kept in its own table)
MIGRATION_LOCK = 0x5CA1E  # the advisory lock that serialises migrations on PostgreSQL
MESSAGE_COLUMNS = (
    "msg_id",
    "kind",
    "site",
    "line",
    "station",
    "sent_at",
    "received_at",
    "order_id",
    "verdict",
    "event",
    "reference",
    "marketplace_order",
    "packer",
    "payload",
)


def database_url(text: str) -> str:
    """An SQLAlchemy URL: `postgresql://` goes through psycopg 3; a path is an SQLite file."""
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    if "://" not in text:
        return f"sqlite:///{text}"
    return text


class StoreBase:
    """The engine of one central monitor's database (shared by its instances)."""

    def __init__(self, url: str) -> None:
        self.url = database_url(url)
        self.engine: Engine = create_engine(self.url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._insert = (
            postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        )

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (safe to run on every start)."""
        config = Config()
        config.set_main_option(
            "script_location", str(resources.files("scale_agent.central") / "migrations")
        )
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                # Instances started together must not migrate at once (the second would fail
                # creating the same tables): one waits for the other's transaction.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def close(self) -> None:
        """Close the pool."""
        self.engine.dispose()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:  # noqa: ANN401 - DB-API connection
    """WAL and a busy timeout: the web server reads while the ingest writes."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
