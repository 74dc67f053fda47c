"""The outbox half of a station's ledger: messages owed to the broker, kept until acknowledged.

Rows are written in the same transaction as the verdict that owes them (`Ledger.record`), so a
verdict and its alert exist together or not at all; the publisher pages through them by id and
deletes what the broker acknowledged. Inbound message ids are remembered here too, so that a job
re-delivered after a restart does not reopen an order already judged.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scale_agent.errors import LedgerError

if TYPE_CHECKING:
    from pathlib import Path

SEEN_INBOUND_KEPT = 10_000


@dataclass(frozen=True)
class OutboxRow:
    """A message still owed to the broker."""

    id: int
    msg_id: str
    topic: str
    payload: bytes
    qos: int
    retain: bool


@dataclass(frozen=True)
class Outgoing:
    """A message to put in the outbox with a verdict."""

    msg_id: str
    topic: str
    payload: bytes
    qos: int = 1


class OutboxTable:
    """The outbox and inbound-id tables of one ledger connection (`Ledger` is one)."""

    path: Path
    max_outbox_rows: int
    _db: sqlite3.Connection

    def enqueue(self, message: Outgoing) -> None:
        """Queue one message on its own (events, not verdicts)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._enqueue(message)
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._db.execute("ROLLBACK") if self._db.in_transaction else None
            raise LedgerError(f"cannot queue message in {self.path}: {exc}") from exc

    def _enqueue(self, message: Outgoing) -> None:
        self._db.execute(
            "INSERT INTO outbox (msg_id, topic, payload, qos, created_at) VALUES (?, ?, ?, ?, ?)",
            (message.msg_id, message.topic, message.payload, message.qos, time.time()),
        )
        # Bounded backlog: past the limit the oldest rows go, and the loss is counted (and
        # reported in status) rather than letting the disk fill on a months-long outage.
        dropped = self._db.execute(
            "DELETE FROM outbox WHERE id <= (SELECT MAX(id) FROM outbox) - ?",
            (self.max_outbox_rows,),
        ).rowcount
        if dropped:
            self._db.execute(
                "INSERT INTO counters VALUES ('outbox_dropped', ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                (dropped,),
            )

    def pending(self, limit: int, after_id: int = 0) -> list[OutboxRow]:
        """The oldest messages still owed, with id above `after_id`."""
        rows = self._db.execute(
            "SELECT id, msg_id, topic, payload, qos, retain FROM outbox WHERE id > ?"
            " ORDER BY id LIMIT ?",
            (after_id, limit),
        ).fetchall()
        return [OutboxRow(r[0], r[1], r[2], bytes(r[3]), r[4], bool(r[5])) for r in rows]

    def acknowledge(self, row_ids: list[int]) -> None:
        """Forget messages the broker acknowledged, in one transaction (one disk sync)."""
        if not row_ids:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            # One statement per 500 ids rather than one per id: executemany costs a Python
            # round trip and a statement step for every row, on the thread that also sends.
            for start in range(0, len(row_ids), 500):
                chunk = row_ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                self._db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", chunk)  # noqa: S608 - marks only
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise LedgerError(f"cannot acknowledge messages in {self.path}: {exc}") from exc

    def backlog(self) -> int:
        """How many messages are still owed to the broker."""
        return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def first_sighting(self, msg_id: str, now: float) -> bool:
        """Remember an inbound message id; False if it was seen before (a re-delivery)."""
        try:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO seen_inbound (msg_id, seen_at) VALUES (?, ?)", (msg_id, now)
            )
            if cursor.rowcount == 0:
                return False
            self._db.execute(
                "DELETE FROM seen_inbound WHERE msg_id NOT IN "
                "(SELECT msg_id FROM seen_inbound ORDER BY seen_at DESC LIMIT ?)",
                (SEEN_INBOUND_KEPT,),
            )
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot note message {msg_id} in {self.path}: {exc}") from exc
        return True

    def dropped(self) -> int:
        """How many messages the bounded outbox had to drop, ever."""
        return self.counter("outbox_dropped")

    # -- counters: what survives restarts beside the outbox ------------------------------

    def counter(self, name: str) -> int:
        """A named counter (0 until set): `outbox_dropped`, `evidence_queued`, ..."""
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def set_counter(self, name: str, value: int) -> None:
        """Set a named counter (its own transaction)."""
        try:
            self._db.execute(
                "INSERT INTO counters VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot set {name} in {self.path}: {exc}") from exc

    def enqueue_counted(self, messages: list[Outgoing], name: str, value: int) -> None:
        """Queue messages and set a counter in one transaction: a cursor never runs ahead."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for message in messages:
                self._enqueue(message)
            self._db.execute(
                "INSERT INTO counters VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise LedgerError(f"cannot queue messages in {self.path}: {exc}") from exc
