"""What a station's tile names as a problem, beyond its devices (pure: rows in, words out)."""

from __future__ import annotations

from typing import TYPE_CHECKING

UNCONFIRMED_WARN = 500  # records a station may owe the central before its tile says so

if TYPE_CHECKING:
    from scale_agent.central.language import Texts
    from scale_agent.central.rows import ChainStatus


def storage_problems(storage: object, texts: Texts) -> list[str]:
    """A disk running low (before it is full) and a ledger that refused a record."""
    if not isinstance(storage, dict):
        return []
    problems = []
    if storage.get("ledger_problem"):
        problems.append(
            texts("cannot keep its records: {problem}", problem=storage["ledger_problem"])
        )
    unconfirmed = int(storage.get("unconfirmed_records") or 0)
    if unconfirmed > UNCONFIRMED_WARN:
        problems.append(texts("{n} records not yet held by the central", n=unconfirmed))
    if storage.get("is_low"):
        free_mb = int(storage.get("free_bytes") or 0) // 1_000_000
        problems.append(texts("disk nearly full: {free} MB free", free=free_mb))
    return problems


def chain_problems(chain: ChainStatus | None, texts: Texts) -> list[str]:
    """What the signed heads give away: records deleted from the ledger, or a new key."""
    if chain is None:
        return []
    problems = []
    if chain.records < chain.most_records:
        problems.append(
            texts(
                "its ledger went back from {most} to {now} records: records were deleted",
                most=chain.most_records,
                now=chain.records,
            )
        )
    if chain.keys > 1:
        problems.append(texts("its heads were signed by {n} different keys", n=chain.keys))
    return problems
