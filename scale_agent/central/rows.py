"""The shapes of what the central stores and reads back, and the helpers that name them (pure).

The store fills and returns them; the pure modules (views, summary, skus) read them without
importing the store or any database library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

# A row as the store returns it (SQLAlchemy's RowMapping is one): what the pure modules read.
Row = Mapping[Any, Any]


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


def station_key(row: Mapping[Any, Any]) -> str:
    """`site/line/station` of a stored row, as pages and the API name a station."""
    return f"{row['site']}/{row['line']}/{row['station']}"


def utc(moment: datetime) -> datetime:
    """The moment in UTC, aware (SQLite gives naive UTC back)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
