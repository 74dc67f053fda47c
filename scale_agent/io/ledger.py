"""The station's evidence ledger and MQTT outbox: one SQLite database per station.

Each verdict is written with its evidence and chained to the previous record by hash, in the
same transaction as the outbox rows owed to the broker, and before the light shows it. WAL mode
with `synchronous=FULL`: packing PCs get switched off hard, and a verdict a packer has seen must
survive that (reference/engineering.md section 6.1).

A connection belongs to one thread (sqlite3's rule), so the station and the publisher each
open their own `Ledger` on the same file; WAL lets them work side by side.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from scale_agent.errors import LedgerError
from scale_agent.io.hashed_facts import INDEXED, altered_reason, from_hashed
from scale_agent.io.outbox_table import OutboxRow, OutboxTable, Outgoing

if TYPE_CHECKING:
    from pathlib import Path

LEDGER_FILE = "ledger.sqlite3"
GENESIS_HASH = "0" * 64
RECORD_COLUMNS = ("seq", *INDEXED, "body", "prev_hash", "hash")
__all__ = [
    "GENESIS_HASH",
    "LEDGER_FILE",
    "ChainBreak",
    "Ledger",
    "OutboxRow",
    "Outgoing",
    "RawRecord",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    seq INTEGER PRIMARY KEY,
    parcel_id TEXT NOT NULL UNIQUE,
    order_id TEXT,
    verdict TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_by_order ON verdicts (order_id);
-- Finding by the hashed order id: a record whose column was rewritten still turns up under
-- the order it was recorded for.
CREATE INDEX IF NOT EXISTS verdicts_by_hashed_order
    ON verdicts (json_extract(body, '$.indexed.order_id'));
-- Finding the newest records of a kind (a routine test, at every start) by the hashed kind.
CREATE INDEX IF NOT EXISTS verdicts_by_hashed_kind
    ON verdicts (coalesce(json_extract(body, '$.indexed.verdict'), verdict), seq);
-- AUTOINCREMENT: ids never come back after the newest row is acknowledged and deleted,
-- so the publisher can page through the outbox by id.
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL DEFAULT 1,
    retain INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
-- Inbound msg_ids already acted on: a job re-delivered after a restart (at-least-once
-- delivery, persistent session) must not reopen an order that was already judged.
CREATE TABLE IF NOT EXISTS seen_inbound (
    msg_id TEXT PRIMARY KEY,
    seen_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class RawRecord:
    """A record as stored: the hashed body and its links (the columns only to route it)."""

    seq: int
    kind: str
    order_id: str | None
    recorded_at: str
    body: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainBreak:
    """Where the hash chain is broken, and how."""

    seq: int
    reason: str


def record_hash(prev_hash: str, body: str) -> str:
    """The chain link: SHA-256 over the previous hash and this record's canonical body."""
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def canonical(body: dict[str, Any]) -> str:
    """Canonical JSON for hashing: sorted keys, no spaces, non-ASCII kept."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class Ledger(OutboxTable):
    """One connection to a station's ledger file."""

    def __init__(
        self,
        data_dir: Path,
        max_outbox_rows: int = 100_000,
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        read_only: bool = False,
    ) -> None:
        self.path = data_dir / LEDGER_FILE
        self.max_outbox_rows = max_outbox_rows
        if read_only:
            self._db = _open_read_only(self.path)
            return
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"cannot open ledger {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def record(
        self,
        parcel_id: str,
        *,
        order_id: str | None,
        verdict: str,
        recorded_at: str,
        body: dict[str, Any],
        outgoing: list[Outgoing],
    ) -> int:
        """Append a verdict to the chain and queue its messages, in one transaction.

        Returns the record's sequence number.
        """
        facts = {
            "parcel_id": parcel_id,
            "order_id": order_id,
            "verdict": verdict,
            "recorded_at": recorded_at,
        }
        text = canonical({**body, "indexed": facts})
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT hash FROM verdicts ORDER BY seq DESC LIMIT 1").fetchone()
            prev_hash = row[0] if row else GENESIS_HASH
            cursor = db.execute(
                "INSERT INTO verdicts (parcel_id, order_id, verdict, recorded_at, body, prev_hash,"
                " hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    parcel_id,
                    order_id,
                    verdict,
                    recorded_at,
                    text,
                    prev_hash,
                    record_hash(prev_hash, text),
                ),
            )
            for message in outgoing:
                self._enqueue(message)
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            db.execute("ROLLBACK") if db.in_transaction else None
            raise LedgerError(f"cannot record verdict in {self.path}: {exc}") from exc
        return int(cursor.lastrowid or 0)

    # -- evidence ---------------------------------------------------------------------

    def records(
        self,
        order_id: str | None = None,
        since: str | None = None,
        *,
        order_like: str | None = None,
    ) -> list[dict[str, Any]]:
        r"""Verdict records (all, one order's, and/or from an ISO UTC time on), oldest first.

        `order_like` is an SQL LIKE pattern (case-insensitive for ASCII, `\` escapes).

        `since` must be written as `recorded_at` is (`datetime.isoformat()` in UTC), so that
        the text comparison is a time comparison.
        """
        conditions, params = [], []
        # Matched on the hashed order id; records from before it was hashed, on the column.
        order = "coalesce(json_extract(body, '$.indexed.order_id'), order_id)"
        if order_id is not None:
            conditions.append(
                "(json_extract(body, '$.indexed.order_id') = ? "
                "OR (json_extract(body, '$.indexed') IS NULL AND order_id = ?))"
            )
            params += [order_id, order_id]
        if order_like is not None:  # customer service types "so-10" for SO-1002
            conditions.append(f"{order} LIKE ? ESCAPE '\\'")
            params.append(order_like)
        if since is not None:
            conditions.append(
                "coalesce(json_extract(body, '$.indexed.recorded_at'), recorded_at) >= ?"
            )
            params.append(since)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        query = f"SELECT {', '.join(RECORD_COLUMNS)} FROM verdicts{where} ORDER BY seq"  # noqa: S608 - built from constants
        return [
            from_hashed(dict(zip(RECORD_COLUMNS, row, strict=True)))
            for row in self._db.execute(query, params)
        ]

    def verify_chain(self) -> ChainBreak | None:
        """Walk the chain from the first record; return the first break, or None if intact.

        A break is a missing record, a broken link, a body that does not match its hash, or
        a stored column that no longer agrees with the hashed fact it copies.
        """
        prev_hash = GENESIS_HASH
        expected_seq = 1
        # SQLite compares each column with its hashed copy (`IS`: NULL matches NULL), so a
        # body is parsed in Python only where they disagree.
        agrees = " AND ".join(
            f"json_extract(body, '$.indexed.{name}') IS {name}" for name in INDEXED
        )
        rows = self._db.execute(
            "SELECT seq, body, prev_hash, hash, "  # noqa: S608 - built from constants
            f"json_extract(body, '$.indexed') IS NULL OR ({agrees}) FROM verdicts ORDER BY seq"
        )
        for seq, body, stored_prev, stored_hash, columns_agree in rows:
            if seq != expected_seq:
                return ChainBreak(int(seq), f"record {expected_seq} before it is missing")
            if stored_prev != prev_hash:
                return ChainBreak(int(seq), "its link to the previous record does not match")
            if record_hash(prev_hash, body) != stored_hash:
                return ChainBreak(int(seq), "its content does not match its hash (edited)")
            if not columns_agree:
                return ChainBreak(int(seq), self._altered(int(seq)))
            prev_hash, expected_seq = stored_hash, seq + 1
        return None

    def _altered(self, seq: int) -> str:
        query = f"SELECT {', '.join(RECORD_COLUMNS)} FROM verdicts WHERE seq = ?"  # noqa: S608
        record = dict(zip(RECORD_COLUMNS, self._db.execute(query, (seq,)).fetchone(), strict=True))
        return altered_reason(record, from_hashed(record)["altered"])

    def newest(self, kinds: tuple[str, ...], limit: int) -> list[dict[str, Any]]:
        """The newest records of these kinds (`ROUTINE_TEST`, ...), newest first.

        By the hashed kind, indexed: it runs at every start, whatever the ledger's length.
        """
        marks = ",".join("?" * len(kinds))
        kind = "coalesce(json_extract(body, '$.indexed.verdict'), verdict)"  # as the index has it
        query = (
            f"SELECT {', '.join(RECORD_COLUMNS)} FROM verdicts WHERE {kind} IN ({marks}) "  # noqa: S608 - marks only
            "ORDER BY seq DESC LIMIT ?"
        )
        rows = self._db.execute(query, [*kinds, limit])
        found = [from_hashed(dict(zip(RECORD_COLUMNS, row, strict=True))) for row in rows]
        return [record for record in found if record["verdict"] in kinds]

    def raw_records(self, after_seq: int, limit: int) -> list[RawRecord]:
        """Records after `after_seq` exactly as they were hashed, oldest first (to ship them)."""
        rows = self._db.execute(
            "SELECT seq, verdict, order_id, recorded_at, body, prev_hash, hash FROM verdicts"
            " WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [RawRecord(*row) for row in rows]

    def hash_at(self, seq: int) -> str | None:
        """The hash of record number `seq`, or None when there is no such record."""
        row = self._db.execute("SELECT hash FROM verdicts WHERE seq = ?", (seq,)).fetchone()
        return str(row[0]) if row else None

    def head(self) -> tuple[int, str]:
        """The number of records and the newest record's hash (the chain's head)."""
        row = self._db.execute(
            "SELECT seq, hash FROM verdicts ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)


def _open_read_only(path: Path) -> sqlite3.Connection:
    """Open a ledger for reading only: evidence must never need write access.

    SQLite reads a WAL database read-only as long as its `-shm` and `-wal` files exist, or
    the folder lets it create them; a live station keeps both, so its latest verdicts are
    read too. A copy without them (an archive, a USB stick, a folder its reader may not
    write) has no writer at all: it is opened immutable, which needs neither file nor any
    write. Permission problems become one plain sentence.
    """
    if not os.access(path, os.R_OK) or not os.access(path.parent, os.X_OK):
        raise LedgerError(
            f"cannot read the ledger {path}: permission denied "
            "(ask for read access, e.g. membership of the scale-agent group, or use sudo)"
        )
    beside = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    is_copy = not any(file.exists() for file in beside)
    options = "mode=ro&immutable=1" if is_copy else "mode=ro"
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?{options}", uri=True, timeout=10.0)
        db.execute("SELECT COUNT(*) FROM verdicts").fetchone()
    except sqlite3.Error as exc:
        raise LedgerError(
            f"cannot read the ledger {path}: {exc} (a live station's {path.name}-shm and "
            f"{path.name}-wal must be readable too)"
        ) from exc
    return db
