"""The store's ground: the engine (SQLite or PostgreSQL), migrations, and the shapes of rows.

One code path for both engines (SQLAlchemy Core); the schema comes from the Alembic
migrations (`upgrade`). Times are stored in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

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
    from collections.abc import Mapping

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


@dataclass(frozen=True)
class Incoming:
    """One validated message, ready to store."""

    msg_id: str
    kind: str
    site: str
    line: str
    station: str
    sent_at: datetime
    received_at: datetime
    payload: dict[str, Any]  # the message's fields
    text: str | None = None  # the message as received (stored as is); else `payload` dumped
    order_id: str | None = None
    verdict: str | None = None
    event: str | None = None
    reference: str | None = None  # the tracking number
    marketplace_order: str | None = None
    packer: str | None = None


@dataclass(frozen=True)
class ChainStatus:
    """What a station's signed chain heads say: where its ledger is, and whether it went back."""

    records: int  # in the newest head
    signed_at: datetime
    public_key: str
    most_records: int  # the most any head of this station showed
    keys: int  # how many keys signed its heads


@dataclass(frozen=True)
class Outcome:
    """What happened after an alert: re-weighed to PASS, or overridden by whom and why."""

    kind: Literal["open", "reweighed", "overridden", "passed"]  # passed: nothing to resolve
    by: str | None = None
    reason: str | None = None

    @property
    def text(self) -> str:
        """In English, as the API and the CSV say it."""
        if self.kind == "reweighed":
            return "re-weighed to PASS"
        if self.kind == "overridden":
            return f"overridden by {self.by}: {self.reason}"
        return "passed" if self.kind == "passed" else "open"


@dataclass(frozen=True)
class Search:
    """What the history page asks for; every part optional."""

    order_id: str | None = None
    reference: str | None = None
    station: str | None = None  # "site/line/station" or just the station id
    verdict: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    kinds: tuple[str, ...] = ("alert", "verdict")
    limit: int = 500


def database_url(text: str) -> str:
    """An SQLAlchemy URL: `postgresql://` goes through psycopg 3; a path is an SQLite file."""
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    if "://" not in text:
        return f"sqlite:///{text}"
    return text


def station_key(row: Mapping[Any, Any]) -> str:
    """`site/line/station` of a stored row, as pages and the API name a station."""
    return f"{row['site']}/{row['line']}/{row['station']}"


def utc(moment: datetime) -> datetime:
    """The moment in UTC, aware (SQLite gives naive UTC back)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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
