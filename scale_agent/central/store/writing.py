"""Writing: the ingest's hot path (COPY on PostgreSQL), station rows, refusals, retention.

Also each central instance's own row.

Every message is stored once: `msg_id` is unique and inserts skip a known one (`ON CONFLICT DO
NOTHING`, which both engines take), so a redelivery or a second instance never makes a second
row.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    MetaData,
    Table,
    and_,
    case,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql

from scale_agent.central.schema import (
    chain_heads,
    instances,
    messages,
    refused,
    stations,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.expression import Executable


from scale_agent.central.evidence_intake import EVIDENCE
from scale_agent.central.rows import Incoming, utc
from scale_agent.central.store.base import (
    CHAIN_HEAD,
    MESSAGE_COLUMNS,
    STATION_COLUMNS,
    STATION_ROW,
)
from scale_agent.central.store.evidence import EvidenceStore


class Writing(EvidenceStore):
    """Storing messages, chain heads, station rows, refusals; pruning."""

    def ingest(self, batch: Sequence[Incoming]) -> int:
        """Store a batch in one transaction; returns how many were new."""
        if not batch:
            return 0
        heads = [m for m in batch if m.kind == CHAIN_HEAD]
        records = [m for m in batch if m.kind == EVIDENCE]
        rows = [
            {
                "msg_id": m.msg_id,
                "kind": m.kind,
                "site": m.site,
                "line": m.line,
                "station": m.station,
                "sent_at": utc(m.sent_at),
                "received_at": utc(m.received_at),
                "order_id": m.order_id,
                "verdict": m.verdict,
                "event": m.event,
                "reference": m.reference,
                "marketplace_order": m.marketplace_order,
                "packer": m.packer,
                "payload": m.text
                or json.dumps(m.payload, ensure_ascii=False, separators=(",", ":")),
            }
            for m in batch
            if m.kind not in {CHAIN_HEAD, EVIDENCE}
        ]
        with self.engine.begin() as connection:
            new = self._heads(connection, heads) if heads else 0
            new += self._keep_evidence(connection, records) if records else 0
            if rows and self.engine.dialect.name == "postgresql":
                new += self._insert_copied(connection, rows)
            elif rows:
                statement = (
                    self._insert(messages)
                    .on_conflict_do_nothing(index_elements=["msg_id"])
                    .returning(messages.c.id)  # the new rows only: rowcount is not summed
                )
                new += len(connection.execute(statement, rows).all())
            self._stations(connection, batch)
        return new

    def _heads(self, connection: Connection, heads: Sequence[Incoming]) -> int:
        """Keep signed chain heads; a head re-signed unchanged is not a new row."""
        rows = [
            {
                "site": m.site,
                "line": m.line,
                "station": m.station,
                "records": int(m.payload["records"]),
                "head_hash": str(m.payload["head_hash"]),
                "public_key": str(m.payload["public_key"]),
                "signed_at": utc(m.sent_at),
                "received_at": utc(m.received_at),
                "payload": m.text or json.dumps(m.payload, separators=(",", ":")),
            }
            for m in heads
        ]
        statement = (
            self._insert(chain_heads)
            .on_conflict_do_nothing(
                index_elements=["site", "line", "station", "records", "head_hash"]
            )
            .returning(chain_heads.c.id)
        )
        return len(connection.execute(statement, rows).all())

    @staticmethod
    def _insert_copied(connection: Connection, rows: list[dict[str, Any]]) -> int:
        """PostgreSQL: COPY the batch into a temporary table, then insert what is new.

        A multi-row VALUES statement of 500 rows is 6,000 placeholders that the driver parses
        for every batch, and text arrays escape every payload's quotes with a regex: together
        most of an insert's time. COPY streams the rows as they are.
        """
        names = ", ".join(MESSAGE_COLUMNS)
        cursor = connection.connection.cursor()
        try:
            _copy_into(cursor, "incoming", "messages", MESSAGE_COLUMNS, rows)
            cursor.execute(
                f"INSERT INTO messages ({names}) SELECT {names} FROM incoming "  # noqa: S608 - column names only
                "ON CONFLICT (msg_id) DO NOTHING RETURNING id"
            )
            return len(cursor.fetchall())
        finally:
            cursor.close()

    def _stations(self, connection: Connection, batch: Iterable[Incoming]) -> None:
        """Upsert each station's row: seen, and its newest status and health."""
        latest: dict[tuple[str, str, str], dict[str, Any]] = {}
        for message in batch:
            key = (message.site, message.line, message.station)
            row = latest.setdefault(key, {"seen_at": utc(message.received_at)})
            row["seen_at"] = max(row["seen_at"], utc(message.received_at))
            if message.kind == "status":
                row["state"] = message.payload.get("state", "unknown")
                row["version"] = message.payload.get("version")
                row["status_at"] = utc(message.sent_at)
            elif message.kind == "health":
                row["health"] = json.dumps(message.payload, ensure_ascii=False)
                row["health_at"] = utc(message.sent_at)
            elif message.kind in {"alert", "verdict"} and message.verdict:
                at = utc(message.sent_at)
                if "verdict_at" not in row or at >= row["verdict_at"]:
                    row["verdict"] = message.verdict
                    row["verdict_order"] = message.order_id
                    row["verdict_at"] = at
        if not latest:
            return
        # One statement, compiled once and cached, executed for every station of the batch
        # (the driver sends them together). Every row carries every column; what a batch did
        # not bring (None) keeps the stored value, and each group of columns is replaced only
        # by a newer message of its kind (a redelivered old health must not hide a newer one).
        values = [
            {
                "site": site,
                "line": line,
                "station": station,
                "state": row.get("state", "unknown"),
                **{column: row.get(column) for column in STATION_COLUMNS},
                "seen_at": row["seen_at"],
            }
            for (site, line, station), row in latest.items()
        ]
        if self.engine.dialect.name == "postgresql":
            # COPY, then one upsert from the copy: a statement per station, even pipelined,
            # was a third of an ingest's time.
            cursor = connection.connection.cursor()
            try:
                _copy_into(cursor, "incoming_stations", "stations", STATION_ROW, values)
            finally:
                cursor.close()
            connection.execute(self._station_upsert_copied)
        else:
            connection.execute(self._station_upsert, values)

    @cached_property
    def _station_upsert(self) -> Executable:
        """The station upsert of one row (built once: building it per batch cost the most)."""
        insert = self._insert(stations)
        return insert.on_conflict_do_update(
            index_elements=["site", "line", "station"], set_=self._station_changes(insert)
        )

    @cached_property
    def _station_upsert_copied(self) -> Executable:
        """PostgreSQL: the same upsert of every row COPY put in `incoming_stations`."""
        incoming = Table(
            "incoming_stations", MetaData(), *(Column(c.name, c.type) for c in stations.columns)
        )
        insert = postgresql.insert(stations).from_select(
            list(STATION_ROW), select(*(incoming.c[name] for name in STATION_ROW))
        )
        return insert.on_conflict_do_update(
            index_elements=["site", "line", "station"], set_=self._station_changes(insert)
        )

    def _station_changes(self, insert: Any) -> dict[str, Any]:  # noqa: ANN401 - either dialect
        """What an upsert sets on a station's row that is already there."""
        new = insert.excluded
        greatest = func.greatest if self.engine.dialect.name == "postgresql" else func.max
        changes: dict[str, Any] = {"seen_at": greatest(stations.c.seen_at, new.seen_at)}
        groups = {
            "status_at": ("state", "version", "status_at"),
            "health_at": ("health", "health_at"),
            "verdict_at": ("verdict", "verdict_order", "verdict_at"),
        }
        for when, columns in groups.items():
            is_newer = and_(
                getattr(new, when).is_not(None),
                or_(
                    getattr(stations.c, when).is_(None),
                    getattr(new, when) >= getattr(stations.c, when),
                ),
            )
            for column in columns:
                changes[column] = case(
                    (is_newer, getattr(new, column)), else_=getattr(stations.c, column)
                )
        return changes

    def refuse(self, topic: str, reason: str, excerpt: str, at: datetime) -> None:
        """Keep a refused message's topic, reason and first bytes (shown, never parsed)."""
        with self.engine.begin() as connection:
            connection.execute(
                refused.insert().values(
                    received_at=utc(at), topic=topic[:512], reason=reason, excerpt=excerpt[:200]
                )
            )

    def prune(self, keep_days: int, now: datetime) -> int:
        """Delete messages and refusals older than `keep_days`; returns messages deleted."""
        cutoff = utc(now) - timedelta(days=keep_days)
        with self.engine.begin() as connection:
            gone = connection.execute(delete(messages).where(messages.c.received_at < cutoff))
            connection.execute(delete(refused).where(refused.c.received_at < cutoff))
        return gone.rowcount

    def report_instance(self, row: dict[str, Any]) -> None:
        """This instance is alive and how its ingest is doing (an upsert of its own row)."""
        statement = self._insert(instances).values(**row)
        updated = {key: statement.excluded[key] for key in row if key != "name"}
        with self.engine.begin() as connection:
            connection.execute(
                statement.on_conflict_do_update(index_elements=["name"], set_=updated)
            )


def _copy_into(
    cursor: Any,  # noqa: ANN401 - psycopg's cursor
    temporary: str,
    like: str,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
) -> None:
    """PostgreSQL: COPY rows into a temporary table shaped like `like` (emptied at commit)."""
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {temporary} "
        f"(LIKE {like} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    with cursor.copy(f"COPY {temporary} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])
