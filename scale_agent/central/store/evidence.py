"""The stations' records and photos at the central: kept once, chains walked, found by the desk.

Records arrive in any order and more than once (QoS 1, resends after an outage); each
(station, chain, seq) is one row. A second copy with a different hash is a fork: it is not
stored over the first, and the chain's `problem` says so. After each batch the touched chains
are walked from where they were verified: a record counts as verified once every record
before it is here, each body matches its hash and each links to the one before.

Photos are files named by their SHA-256 under the central's evidence folder: the same photo
is one file, and a file's name is its own proof.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from scale_agent.central.rows import utc
from scale_agent.central.schema import evidence, evidence_chains
from scale_agent.central.store.base import StoreBase
from scale_agent.io.ledger import GENESIS_HASH

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime
    from pathlib import Path

    from sqlalchemy.engine import Connection, RowMapping

    from scale_agent.central.rows import Incoming

ChainKey = tuple[str, str, str, str]  # site, line, station, chain
WALK = 5000  # records walked per chain per turn: a long backlog is verified over a few batches
COLUMNS = [column.name for column in evidence.columns if column.name != "id"]


@dataclass(frozen=True)
class ChainState:
    """How far one station's chain is verified at the central."""

    site: str
    line: str
    station: str
    chain: str
    verified_upto: int
    received_upto: int
    problem: str | None


class EvidenceStore(StoreBase):
    """Keeping, walking and finding the stations' records."""

    photos: Path | None = None  # the folder photos are kept in (None: photos are not kept)

    def _keep_evidence(self, connection: Connection, batch: Sequence[Incoming]) -> int:
        """Store new records (forks refused and named), their photos, their chains' rows."""
        rows: list[dict[str, Any]] = []
        for message in batch:
            fact = message.payload
            row: dict[str, Any] = {
                "site": message.site,
                "line": message.line,
                "station": message.station,
            }
            row |= {name: fact.get(name) for name in COLUMNS if name in fact}
            row["recorded_at"] = utc(fact["recorded_at"])
            row["received_at"] = utc(message.received_at)
            if fact["photo_state"] == "kept" and not self._keep_photo(fact):
                row["photo_state"] = "not kept"
            rows.append(row)
        by_chain: dict[ChainKey, list[dict[str, Any]]] = {}
        for row in rows:
            by_chain.setdefault(_key(row), []).append(row)
        for key, of_chain in by_chain.items():
            self._chain_row(connection, key, of_chain)
            for fork in self._forks(connection, key, of_chain):
                self._chain_problem(
                    connection,
                    key,
                    f"fork at record {fork['seq']}: the "
                    "station sent a different record with the same number",
                )
        statement = (
            self._insert(evidence)
            .on_conflict_do_nothing(index_elements=["site", "line", "station", "chain", "seq"])
            .returning(evidence.c.id)
        )
        return len(connection.execute(statement, rows).all())

    def _keep_photo(self, fact: dict[str, Any]) -> bool:
        if self.photos is None:
            return False
        path = self.photo_path(str(fact["photo_sha256"]))
        if path is None:
            return False
        if path.exists():
            os.utime(path)  # held again by a newer record: retention counts from now
            return True
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(fact["photo"])
        partial.replace(path)  # a half-written photo never carries the name of a whole one
        return True

    def photo_path(self, sha256: str) -> Path | None:
        """Where the photo with this SHA-256 is kept (None for a malformed hash or no folder)."""
        if self.photos is None or not _is_sha256(sha256):
            return None
        return self.photos / sha256[:2] / f"{sha256}.jpg"

    def _chain_row(self, connection: Connection, key: ChainKey, rows: list[dict[str, Any]]) -> None:
        """The chain's row: first seen, and the highest record received (`rows`: this chain's)."""
        site, line, station, chain = key
        highest = max(int(row["seq"]) for row in rows)
        first = min(row["received_at"] for row in rows)
        insert = self._insert(evidence_chains).values(
            site=site,
            line=line,
            station=station,
            chain=chain,
            first_seen_at=first,
            verified_upto=0,
            received_upto=highest,
        )
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=["site", "line", "station", "chain"],
                set_={
                    "received_upto": func.max(evidence_chains.c.received_upto, highest)
                    if self.engine.dialect.name == "sqlite"
                    else func.greatest(evidence_chains.c.received_upto, highest)
                },
            )
        )

    def _forks(
        self, connection: Connection, key: ChainKey, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """This chain's rows whose sequence number is stored with another hash."""
        site, line, station, chain = key
        stored = dict(
            connection.execute(
                select(evidence.c.seq, evidence.c.hash).where(
                    evidence.c.site == site,
                    evidence.c.line == line,
                    evidence.c.station == station,
                    evidence.c.chain == chain,
                    evidence.c.seq.in_([int(row["seq"]) for row in rows]),
                )
            ).all()  # (seq, hash) rows: a result object itself looks like a mapping to dict()
        )
        return [r for r in rows if stored.get(int(r["seq"]), r["hash"]) != r["hash"]]

    def _chain_problem(self, connection: Connection, key: ChainKey, problem: str) -> None:
        site, line, station, chain = key
        connection.execute(
            update(evidence_chains)
            .where(
                evidence_chains.c.site == site,
                evidence_chains.c.line == line,
                evidence_chains.c.station == station,
                evidence_chains.c.chain == chain,
                evidence_chains.c.problem.is_(None),
            )
            .values(problem=problem[:500])
        )

    def verify_chains(self, keys: Iterable[ChainKey]) -> list[ChainState]:
        """Walk each chain on from where it was verified; its state afterwards."""
        with self.engine.begin() as connection:
            return [self._walk(connection, key) for key in sorted(set(keys))]

    def _walk(self, connection: Connection, key: ChainKey) -> ChainState:
        site, line, station, chain = key
        where = (
            evidence_chains.c.site == site,
            evidence_chains.c.line == line,
            evidence_chains.c.station == station,
            evidence_chains.c.chain == chain,
        )
        state = connection.execute(select(evidence_chains).where(*where)).mappings().one()
        upto, problem = int(state["verified_upto"]), state["problem"]
        same = (
            evidence.c.site == site,
            evidence.c.line == line,
            evidence.c.station == station,
            evidence.c.chain == chain,
        )
        previous: str | None = GENESIS_HASH
        if upto:  # None once retention removed it: what follows was linked to it when checked
            previous = connection.execute(
                select(evidence.c.hash).where(*same, evidence.c.seq == upto)
            ).scalar()
        records = connection.execute(
            select(evidence.c.seq, evidence.c.prev_hash, evidence.c.hash, evidence.c.hash_ok)
            .where(*same, evidence.c.seq > upto)
            .order_by(evidence.c.seq)
            .limit(WALK)
        )
        walked = upto
        for seq, prev_hash, this_hash, hash_ok in records:
            if seq != walked + 1:
                break  # a gap: the station sends it again
            if previous is not None and prev_hash != previous:
                problem = problem or f"record {seq} does not link to record {seq - 1}"
                break
            if not hash_ok:
                problem = problem or f"record {seq} does not match its hash (edited)"
                break
            walked, previous = seq, this_hash
        if walked != upto or problem != state["problem"]:
            connection.execute(
                update(evidence_chains).where(*where).values(verified_upto=walked, problem=problem)
            )
        return ChainState(site, line, station, chain, walked, int(state["received_upto"]), problem)

    def prune_evidence(self, keep_days: int, now: datetime) -> int:
        """Forget records (not chains) and photo files older than the retention."""
        if self.photos is not None:
            oldest = (utc(now) - timedelta(days=keep_days)).timestamp()
            for path in self.photos.glob("*/*.jpg"):
                with contextlib.suppress(OSError):  # gone meanwhile: nothing to do
                    if path.stat().st_mtime < oldest:
                        path.unlink()
        with self.engine.begin() as connection:
            gone = connection.execute(
                evidence.delete().where(
                    evidence.c.recorded_at < utc(now) - timedelta(days=keep_days)
                )
            )
            return int(gone.rowcount or 0)


def _key(row: RowMapping | dict[str, Any]) -> ChainKey:
    return (str(row["site"]), str(row["line"]), str(row["station"]), str(row["chain"]))


def _is_sha256(text: str) -> bool:
    return len(text) == len(GENESIS_HASH) and all(c in "0123456789abcdef" for c in text)
