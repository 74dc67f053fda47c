"""Reading for the pages and the API: stations, alerts, history, counts, outcomes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import (
    and_,
    case,
    func,
    or_,
    select,
)

from scale_agent.central.schema import (
    acknowledgements,
    chain_heads,
    instances,
    messages,
    refused,
    stations,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from sqlalchemy.engine import RowMapping
    from sqlalchemy.sql.elements import ColumnElement


from scale_agent.central.rows import ChainStatus, Outcome, Search, utc
from scale_agent.central.store.base import STATION_KEY, StoreBase


class Queries(StoreBase):
    """What the dashboard, the history, the summary and the SKU page ask."""

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
            .group_by(*STATION_KEY)
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
            select(*STATION_KEY, messages.c.packer, messages.c.verdict, func.count().label("n"))
            .where(*_sent_between("verdict", since, until))
            .group_by(*STATION_KEY, messages.c.packer, messages.c.verdict)
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
                *STATION_KEY,
                messages.c.packer,
                messages.c.order_id,
                func.max(case((messages.c.verdict != "PASS", 1), else_=0)).label("flagged"),
            )
            .where(*_sent_between("verdict", since, until), messages.c.order_id.is_not(None))
            .group_by(*STATION_KEY, messages.c.packer, messages.c.order_id)
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
                *STATION_KEY,
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
            select(*STATION_KEY, messages.c.payload)
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
