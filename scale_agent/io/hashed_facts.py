"""A ledger record's facts as hashed: the columns it is found by are only copies.

Each of `INDEXED` is a column of the `verdicts` table and a fact inside the record's hashed
body (its `indexed` object). What any command shows is read from the body; a column that
disagrees with it was changed outside the chain (`Ledger.verify_chain` says where).
"""

from __future__ import annotations

import json
from typing import Any

INDEXED = ("parcel_id", "order_id", "verdict", "recorded_at")


def from_hashed(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record with its indexed facts taken from its hashed body.

    `altered` names the columns that disagree with the body (edited outside the chain);
    `hashed_index` is False for a record written before the facts were hashed, whose columns
    nothing can check.
    """
    try:
        facts = json.loads(record["body"]).get("indexed")
    except (ValueError, AttributeError):
        facts = None
    if not isinstance(facts, dict):
        return {**record, "altered": [], "hashed_index": False, "columns": {}}
    altered = [name for name in INDEXED if facts.get(name) != record[name]]
    columns = {name: record[name] for name in altered}
    return {
        **record,
        **{n: facts.get(n) for n in INDEXED},
        "altered": altered,
        "hashed_index": True,
        "columns": columns,
    }


def altered_reason(record: dict[str, Any], altered: list[str]) -> str:
    """Which columns say what, against what the record hashed (for `records verify`)."""
    facts = json.loads(record["body"])["indexed"]
    said = ", ".join(
        f"{name} column says {record[name]!r}, the hashed record {facts.get(name)!r}"
        for name in altered
    )
    return f"a stored column was changed outside the chain ({said})"
