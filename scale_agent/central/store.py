"""The central monitor's database: SQLite by default, PostgreSQL for a site or a fleet.

One code path for both (SQLAlchemy Core); the schema comes from the Alembic migrations
(`upgrade`). Every message is stored once: `msg_id` is unique and inserts skip a known one
(`ON CONFLICT DO NOTHING`, which both engines take), so a redelivery or a second monitor
instance never makes a second row. Times are stored in UTC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Column,
    MetaData,
    Table,
    and_,
    case,
    create_engine,
    delete,
    event,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite

from scale_agent.central.schema import (
    acknowledgements,
    audit,
    chain_heads,
    instances,
    messages,
    refused,
    stations,
    users,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sqlalchemy.engine import Connection, Engine, RowMapping
    from sqlalchemy.sql.elements import ColumnElement
    from sqlalchemy.sql.expression import Executable


_STATION_COLUMNS = (
    "version",
    "status_at",
    "health",
    "health_at",
    "verdict",
    "verdict_order",
    "verdict_at",
)
_STATION_KEY = (messages.c.site, messages.c.line, messages.c.station)
_STATION_ROW = ("site", "line", "station", "state", *_STATION_COLUMNS, "seen_at")
CHAIN_HEAD = "chain_head"  # the kind of a signed chain head (kept in its own table)
MIGRATION_LOCK = 0x5CA1E  # the advisory lock that serialises migrations on PostgreSQL
_MESSAGE_COLUMNS = (
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


class Store:
    """The database of one central monitor (shared by its instances)."""

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

    # -- ingest -------------------------------------------------------------------------

    def ingest(self, batch: Sequence[Incoming]) -> int:
        """Store a batch in one transaction; returns how many were new."""
        if not batch:
            return 0
        heads = [m for m in batch if m.kind == CHAIN_HEAD]
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
            if m.kind != CHAIN_HEAD
        ]
        with self.engine.begin() as connection:
            new = self._heads(connection, heads) if heads else 0
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

    def chain_status(self) -> dict[tuple[str, str, str], ChainStatus]:
        """Per station: its newest signed head, the most records any head showed, its keys."""
        station = (chain_heads.c.site, chain_heads.c.line, chain_heads.c.station)
        summary = select(
            *station,
            func.max(chain_heads.c.id).label("newest"),
            func.max(chain_heads.c.records).label("most"),
            func.count(func.distinct(chain_heads.c.public_key)).label("keys"),
        ).group_by(*station)
        found: dict[tuple[str, str, str], ChainStatus] = {}
        with self.engine.connect() as connection:
            rows = list(connection.execute(summary).mappings())
            newest = {row["newest"]: row for row in rows}
            if not newest:
                return found
            heads = connection.execute(
                select(chain_heads).where(chain_heads.c.id.in_(list(newest)))
            ).mappings()
            for head in heads:
                row = newest[head["id"]]
                found[head["site"], head["line"], head["station"]] = ChainStatus(
                    records=int(head["records"]),
                    signed_at=utc(head["signed_at"]),
                    public_key=head["public_key"],
                    most_records=int(row["most"]),
                    keys=int(row["keys"]),
                )
        return found

    def latest_events(self, kinds: Sequence[str]) -> dict[tuple[str, str, str], RowMapping]:
        """Per station, its newest event of one of `kinds` (the routine scale tests, say)."""
        newest = (
            select(func.max(messages.c.id))
            .where(messages.c.kind == "event", messages.c.event.in_(kinds))
            .group_by(*_STATION_KEY)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(select(messages).where(messages.c.id.in_(newest))).mappings()
            return {(r["site"], r["line"], r["station"]): r for r in rows}

    def chain_head(self, site: str, line: str, station: str) -> str | None:
        """A station's newest signed head as it sent it (for `records verify --anchor`)."""
        query = (
            select(chain_heads.c.payload)
            .where(
                chain_heads.c.site == site,
                chain_heads.c.line == line,
                chain_heads.c.station == station,
            )
            .order_by(chain_heads.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            return connection.execute(query).scalar_one_or_none()

    @staticmethod
    def _insert_copied(connection: Connection, rows: list[dict[str, Any]]) -> int:
        """PostgreSQL: COPY the batch into a temporary table, then insert what is new.

        A multi-row VALUES statement of 500 rows is 6,000 placeholders that the driver parses
        for every batch, and text arrays escape every payload's quotes with a regex: together
        most of an insert's time. COPY streams the rows as they are.
        """
        names = ", ".join(_MESSAGE_COLUMNS)
        cursor = connection.connection.cursor()
        try:
            _copy_into(cursor, "incoming", "messages", _MESSAGE_COLUMNS, rows)
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
                **{column: row.get(column) for column in _STATION_COLUMNS},
                "seen_at": row["seen_at"],
            }
            for (site, line, station), row in latest.items()
        ]
        if self.engine.dialect.name == "postgresql":
            # COPY, then one upsert from the copy: a statement per station, even pipelined,
            # was a third of an ingest's time.
            cursor = connection.connection.cursor()
            try:
                _copy_into(cursor, "incoming_stations", "stations", _STATION_ROW, values)
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
            list(_STATION_ROW), select(*(incoming.c[name] for name in _STATION_ROW))
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

    # -- reading ------------------------------------------------------------------------

    def stations(self) -> list[RowMapping]:
        """Every station ever heard from."""
        with self.engine.connect() as connection:
            query = select(stations).order_by(stations.c.site, stations.c.line, stations.c.station)
            return list(connection.execute(query).mappings())

    def alerts(self, *, after_id: int = 0, limit: int = 50) -> list[RowMapping]:
        """Alerts, newest first (or those after `after_id`, oldest first, for a live feed)."""
        with self.engine.connect() as connection:
            query = select(messages).where(messages.c.kind == "alert")
            if after_id:
                query = query.where(messages.c.id > after_id).order_by(messages.c.id)
            else:
                query = query.order_by(messages.c.id.desc())
            return list(connection.execute(query.limit(limit)).mappings())

    def verdict_counts(self, since: datetime, until: datetime) -> list[RowMapping]:
        """Weighings (verdict messages) sent in [since, until) per station, packer and verdict."""
        query = (
            select(*_STATION_KEY, messages.c.packer, messages.c.verdict, func.count().label("n"))
            .where(*_sent_between("verdict", since, until))
            .group_by(*_STATION_KEY, messages.c.packer, messages.c.verdict)
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query).mappings())

    def parcel_counts(self, since: datetime, until: datetime) -> list[RowMapping]:
        """Orders weighed in [since, until) per station and packer, and how many were flagged.

        A parcel is one order at one station; a re-pack after a failed weighing is the same
        parcel, so a pass rate counts parcels right first time, not weighings.
        """
        per_order = (
            select(
                *_STATION_KEY,
                messages.c.packer,
                messages.c.order_id,
                func.max(case((messages.c.verdict != "PASS", 1), else_=0)).label("flagged"),
            )
            .where(*_sent_between("verdict", since, until), messages.c.order_id.is_not(None))
            .group_by(*_STATION_KEY, messages.c.packer, messages.c.order_id)
            .subquery()
        )
        keys = (per_order.c.site, per_order.c.line, per_order.c.station, per_order.c.packer)
        query = select(
            *keys,
            func.count().label("parcels"),
            func.sum(per_order.c.flagged).label("flagged"),
        ).group_by(*keys)
        with self.engine.connect() as connection:
            return list(connection.execute(query).mappings())

    def alerts_between(
        self, since: datetime, until: datetime, limit: int = 100_000
    ) -> list[RowMapping]:
        """Alerts sent in [since, until), oldest first (at most `limit`)."""
        query = (
            select(
                messages.c.sent_at,
                *_STATION_KEY,
                messages.c.packer,
                messages.c.verdict,
                messages.c.payload,
            )
            .where(*_sent_between("alert", since, until))
            .order_by(messages.c.sent_at)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query).mappings())

    def weighings(self, since: datetime, limit: int = 200_000) -> list[RowMapping]:
        """Verdict and alert messages sent since `since`, oldest first (the newest `limit`)."""
        query = (
            select(*_STATION_KEY, messages.c.payload)
            .where(messages.c.kind.in_(("verdict", "alert")), messages.c.sent_at >= utc(since))
            .order_by(messages.c.sent_at.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return list(reversed(connection.execute(query).mappings().all()))

    def alert(self, msg_id: str) -> RowMapping | None:
        """One alert by its msg_id."""
        with self.engine.connect() as connection:
            query = select(messages).where(messages.c.msg_id == msg_id, messages.c.kind == "alert")
            return connection.execute(query).mappings().first()

    def search(self, search: Search) -> list[RowMapping]:
        """History: verdicts and alerts matching every part given, newest first."""
        conditions: list[ColumnElement[bool]] = [messages.c.kind.in_(search.kinds)]
        if search.order_id:
            conditions.append(messages.c.order_id == search.order_id)
        if search.reference:
            conditions.append(
                or_(
                    messages.c.reference == search.reference,
                    messages.c.marketplace_order == search.reference,
                )
            )
        if search.verdict:
            conditions.append(messages.c.verdict == search.verdict)
        if search.station:
            parts = search.station.split("/")
            if len(parts) == 3:  # noqa: PLR2004 - site/line/station
                conditions += [
                    messages.c.site == parts[0],
                    messages.c.line == parts[1],
                    messages.c.station == parts[2],
                ]
            else:
                conditions.append(messages.c.station == search.station)
        if search.since:
            conditions.append(messages.c.received_at >= utc(search.since))
        if search.until:
            conditions.append(messages.c.received_at < utc(search.until))
        query = (
            select(messages)
            .where(and_(*conditions))
            .order_by(messages.c.id.desc())
            .limit(search.limit)
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query).mappings())

    def outcomes(self, alerts: Sequence[RowMapping]) -> dict[str, Outcome]:
        """What happened after each alert: overridden, re-weighed to PASS, or still open.

        The latest later message of the same order at the same station that says so wins.
        """
        order_ids = {a["order_id"] for a in alerts if a["order_id"]}
        if not order_ids:
            return {}
        with self.engine.connect() as connection:
            later = connection.execute(
                select(messages)
                .where(
                    messages.c.order_id.in_(order_ids),
                    or_(
                        messages.c.kind.in_(("verdict", "alert")),
                        and_(messages.c.kind == "event", messages.c.event == "override_applied"),
                    ),
                )
                .order_by(messages.c.id)
            ).mappings()
            told: dict[tuple[str, str, str, str], list[tuple[int, Outcome]]] = {}
            for row in later:  # each row read once, oldest first
                if (outcome := _outcome(row)) is not None:
                    key = (row["site"], row["line"], row["station"], row["order_id"])
                    told.setdefault(key, []).append((row["id"], outcome))
        found: dict[str, Outcome] = {}
        for alert in alerts:
            key = (alert["site"], alert["line"], alert["station"], alert["order_id"])
            after = [outcome for row_id, outcome in told.get(key, []) if row_id > alert["id"]]
            if after:
                found[alert["msg_id"]] = after[-1]
        return found

    def acknowledgements(self, msg_ids: Iterable[str]) -> dict[str, RowMapping]:
        """The latest acknowledgement of each alert given."""
        wanted = list(msg_ids)
        if not wanted:
            return {}
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(acknowledgements)
                .where(acknowledgements.c.msg_id.in_(wanted))
                .order_by(acknowledgements.c.id)
            ).mappings()
            return {row["msg_id"]: row for row in rows}

    def report_instance(self, row: dict[str, Any]) -> None:
        """This instance is alive and how its ingest is doing (an upsert of its own row)."""
        statement = self._insert(instances).values(**row)
        updated = {key: statement.excluded[key] for key in row if key != "name"}
        with self.engine.begin() as connection:
            connection.execute(
                statement.on_conflict_do_update(index_elements=["name"], set_=updated)
            )

    def instances(self) -> list[RowMapping]:
        """Every instance that ever reported itself, by name."""
        with self.engine.connect() as connection:
            return list(connection.execute(select(instances).order_by(instances.c.name)).mappings())

    def refusals(self, limit: int = 20) -> tuple[int, list[RowMapping]]:
        """How many messages were refused in all, and the newest of them."""
        with self.engine.connect() as connection:
            count = connection.execute(select(func.count()).select_from(refused)).scalar_one()
            rows = connection.execute(
                select(refused).order_by(refused.c.id.desc()).limit(limit)
            ).mappings()
            return int(count), list(rows)

    def count(self, kind: str | None = None) -> int:
        """Stored messages (of one kind)."""
        query = select(func.count()).select_from(messages)
        if kind is not None:
            query = query.where(messages.c.kind == kind)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    # -- people and their actions ------------------------------------------------------

    def acknowledge(self, msg_id: str, user: str, note: str, at: datetime) -> None:
        """Record an acknowledgement, and the same in the audit trail."""
        with self.engine.begin() as connection:
            connection.execute(
                acknowledgements.insert().values(
                    msg_id=msg_id, user_name=user, note=note, at=utc(at)
                )
            )
            self._audit(connection, user, "acknowledge", msg_id, {"note": note}, at)

    def record(
        self, user: str, action: str, target: str, detail: dict[str, Any], at: datetime
    ) -> None:
        """Add one line to the audit trail."""
        with self.engine.begin() as connection:
            self._audit(connection, user, action, target, detail, at)

    def _audit(  # noqa: PLR0917 - one column each
        self,
        connection: Connection,
        user: str,
        action: str,
        target: str,
        detail: dict[str, Any],
        at: datetime,
    ) -> None:
        connection.execute(
            audit.insert().values(
                at=utc(at),
                user_name=user,
                action=action,
                target=target[:255],
                detail=json.dumps(detail, ensure_ascii=False),
            )
        )

    def audit_trail(self, limit: int = 100) -> list[RowMapping]:
        """The newest audit lines."""
        with self.engine.connect() as connection:
            query = select(audit).order_by(audit.c.id.desc()).limit(limit)
            return list(connection.execute(query).mappings())

    def put_user(self, name: str, password_hash: str, role: str) -> None:
        """Add a user or change their password and role."""
        with self.engine.begin() as connection:
            insert = self._insert(users).values(name=name, password_hash=password_hash, role=role)
            connection.execute(
                insert.on_conflict_do_update(
                    index_elements=["name"],
                    set_={
                        "password_hash": insert.excluded.password_hash,
                        "role": insert.excluded.role,
                    },
                )
            )

    def set_token(self, name: str, token_hash: str) -> bool:
        """Give a user a new API token (its hash); False for an unknown user."""
        with self.engine.begin() as connection:
            done = connection.execute(
                users.update().where(users.c.name == name).values(token_hash=token_hash)
            )
            return done.rowcount == 1

    def user(self, name: str) -> RowMapping | None:
        """A user by name."""
        with self.engine.connect() as connection:
            return connection.execute(select(users).where(users.c.name == name)).mappings().first()

    def user_by_token(self, token_hash: str) -> RowMapping | None:
        """The user whose API token has this hash."""
        with self.engine.connect() as connection:
            query = select(users).where(users.c.token_hash == token_hash)
            return connection.execute(query).mappings().first()


def _outcome(row: RowMapping) -> Outcome | None:
    """What a message says happened to its order: an override, a PASS, or nothing."""
    if row["verdict"] == "PASS":
        return Outcome("reweighed")
    if row["kind"] not in {"event", "alert"}:
        return None
    override = json.loads(row["payload"]).get("override")
    if row["kind"] == "alert" and not override:
        return None  # an override_applied event says so even without the detail
    override = override or {}
    return Outcome(
        "overridden", str(override.get("operator", "?")), str(override.get("reason", ""))
    )


def _sent_between(kind: str, since: datetime, until: datetime) -> list[ColumnElement[bool]]:
    """Messages of one kind sent in [since, until)."""
    return [
        messages.c.kind == kind,
        messages.c.sent_at >= utc(since),
        messages.c.sent_at < utc(until),
    ]


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


def _sqlite_pragmas(connection: Any, _record: Any) -> None:  # noqa: ANN401 - DB-API connection
    """WAL and a busy timeout: the web server reads while the ingest writes."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
