"""What the case desk asks of the stations' records: find an order, all of its weighings.

Search is by prefix and any case on the casefolded copies the ingest keeps (`*_key`): our order
id, the carrier's tracking number, the marketplace's order number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import and_, func, or_, select

from scale_agent.central.schema import chain_heads, evidence, evidence_chains
from scale_agent.central.store.base import StoreBase

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import RowMapping
    from sqlalchemy.sql.elements import ColumnElement


class DeskQueries(StoreBase):
    """The case desk's reads."""

    def find_parcels(self, text: str, limit: int = 20, *, exact: bool = False) -> list[RowMapping]:
        """Orders whose id, tracking number or marketplace order starts with `text` (any case).

        `exact`: is `text` (any case), as a bulk list names an order.
        """
        if exact:
            key = text.strip().casefold()
            return self._parcels(
                or_(
                    evidence.c.order_key == key,
                    evidence.c.reference_key == key,
                    evidence.c.marketplace_key == key,
                ),
                limit,
            )
        prefix = (
            text.strip().casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        if not prefix:
            return []
        like = prefix + "%"
        match = or_(
            evidence.c.order_key.like(like, escape="\\"),
            evidence.c.reference_key.like(like, escape="\\"),
            evidence.c.marketplace_key.like(like, escape="\\"),
        )
        return self._parcels(match, limit)

    def _parcels(self, match: ColumnElement[bool], limit: int) -> list[RowMapping]:
        query = (
            select(
                evidence.c.order_id,
                func.count().label("records"),
                func.max(evidence.c.recorded_at).label("last_at"),
                func.max(evidence.c.reference_key).label("reference"),
                func.max(evidence.c.marketplace_key).label("marketplace_order"),
            )
            .where(match, evidence.c.order_id.is_not(None))
            .group_by(evidence.c.order_id)
            .order_by(func.max(evidence.c.recorded_at).desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query).mappings())

    def order_records(self, order_id: str) -> list[RowMapping]:
        """Every record of one order (weighings and photos) from every station, in time order."""
        query = (
            select(evidence, evidence_chains.c.verified_upto, evidence_chains.c.problem)
            .join(
                evidence_chains,
                and_(
                    *_same_station(evidence_chains, evidence),
                    evidence_chains.c.chain == evidence.c.chain,
                ),
            )
            # By the casefolded copy's index, then exactly: the case of an id is its own.
            .where(evidence.c.order_key == order_id.casefold()[:128])
            .where(evidence.c.order_id == order_id)
            .order_by(evidence.c.recorded_at, evidence.c.seq)
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query).mappings())

    def signed_upto(self, site: str, line: str, station: str, chain: str) -> tuple[int, bool]:
        """(the highest record a head signed by the chain's pinned key vouches for, re-keyed).

        A head belongs to this chain when the central holds its record with its hash. The key
        of the first such head received is the chain's pinned key; a head of the same chain
        signed by another key is not counted, and says the chain was re-keyed: an alert for
        an administrator, never a silent switch.
        """
        query = (
            select(chain_heads.c.records, chain_heads.c.public_key)
            .join(
                evidence,
                and_(
                    *_same_station(evidence, chain_heads),
                    evidence.c.chain == chain,
                    evidence.c.seq == chain_heads.c.records,
                    evidence.c.hash == chain_heads.c.head_hash,
                ),
            )
            .where(
                chain_heads.c.site == site,
                chain_heads.c.line == line,
                chain_heads.c.station == station,
            )
            .order_by(chain_heads.c.id)
        )
        with self.engine.connect() as connection:
            heads = list(connection.execute(query))
        if not heads:
            return 0, False
        pinned = heads[0][1]
        best = max(int(records) for records, key in heads if key == pinned)
        return best, any(key != pinned for _, key in heads)

    def chain_states(self) -> list[RowMapping]:
        """Every chain the central holds, newest first per station."""
        query = select(evidence_chains).order_by(
            evidence_chains.c.site,
            evidence_chains.c.line,
            evidence_chains.c.station,
            evidence_chains.c.first_seen_at.desc(),
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query).mappings())

    def heads_of(self, site: str, line: str, station: str) -> list[RowMapping]:
        """Every signed head the central holds of one station."""
        query = select(chain_heads).where(
            chain_heads.c.site == site, chain_heads.c.line == line, chain_heads.c.station == station
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query).mappings())

    def hash_at(self, site: str, line: str, station: str, chain: str, seq: int) -> str | None:
        """The hash of record `seq` of a chain, as the central holds it (None: not held)."""
        query = select(evidence.c.hash).where(
            evidence.c.site == site,
            evidence.c.line == line,
            evidence.c.station == station,
            evidence.c.chain == chain,
            evidence.c.seq == seq,
        )
        with self.engine.connect() as connection:
            found = connection.execute(query).scalar()
        return None if found is None else str(found)


def _same_station(one: Table, other: Table) -> list[ColumnElement[bool]]:
    """Rows of two tables that name the same station."""
    return [one.c[name] == other.c[name] for name in ("site", "line", "station")]
