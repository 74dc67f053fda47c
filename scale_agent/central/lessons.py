"""What the cases teach (pure: case rows in, counts and money out).

Claims by cause (a packing error the record confirms, a claim the record contradicts, one the
weight cannot decide), by packer, item, station and carrier, and the money by week: refunds
and vouchers granted, and the refunds the evidence avoided (what each contradicted claim would
have cost had it been granted).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import tzinfo

    from scale_agent.central.rows import Row

CAUSES = {
    "supported": "packing error",
    "contradicted": "contradicted by the record",
    "inconclusive": "undecidable by weight",
    "not_decidable": "undecidable by weight",
}
_CARRIER = re.compile(r"^([A-Za-z]{1,4})\d")  # SF1402..., YT98..., JD00...: the waybill prefix


class WeekMoney(BaseModel):
    """One week's money (the week starts on Monday, local time)."""

    week: str
    granted: str  # refunds and vouchers decided
    avoided: str  # what contradicted claims would have cost


class Lessons(BaseModel):
    """Counts of cases by cause and by who, what, where; the money by week."""

    cases: int
    by_cause: dict[str, int]
    by_packer: dict[str, int]
    by_sku: dict[str, int]
    by_station: dict[str, int]
    by_carrier: dict[str, int]
    money: list[WeekMoney]


def carrier_of(tracking: object) -> str | None:
    """The carrier as its waybill numbers begin (SF, YT, JD...), None when unknown."""
    match = _CARRIER.match(tracking) if isinstance(tracking, str) else None
    return match.group(1).upper() if match else None


def lessons(rows: Sequence[Row], zone: tzinfo) -> Lessons:
    """What a period's cases say."""
    causes: Counter[str] = Counter()
    counts: dict[str, Counter[str]] = {
        key: Counter() for key in ("packer", "sku", "station", "carrier")
    }
    granted: defaultdict[str, Decimal] = defaultdict(Decimal)
    avoided: defaultdict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        facts = json.loads(row["assessment"])
        causes[CAUSES.get(str(row["finding"]), str(row["finding"]))] += 1
        for key, counter in counts.items():
            if facts.get(key):
                counter[str(facts[key])] += 1
        week = _week(row["opened_at"], zone)
        if row["finding"] == "contradicted" and facts.get("claimed"):
            avoided[week] += Decimal(facts["claimed"])
        decision = json.loads(row["decision"]) if row["decision"] else {}
        if decision.get("remedy") in {"refund", "voucher"} and decision.get("amount"):
            granted[week] += Decimal(decision["amount"])
    weeks = sorted(set(granted) | set(avoided))
    return Lessons(
        cases=len(rows),
        by_cause=dict(causes.most_common()),
        by_packer=dict(counts["packer"].most_common(20)),
        by_sku=dict(counts["sku"].most_common(20)),
        by_station=dict(counts["station"].most_common(20)),
        by_carrier=dict(counts["carrier"].most_common(20)),
        money=[WeekMoney(week=w, granted=str(granted[w]), avoided=str(avoided[w])) for w in weeks],
    )


def _week(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return (local - timedelta(days=local.weekday())).strftime("%Y-%m-%d")
