"""The shift summary: parcels, pass rate and alerts by verdict, station, packer, SKU and hour.

Pure functions over rows the store read for one time range. Weighings and parcels are counted
from `verdict` messages (every judged weighing, sent by stations with `publish_verdicts =
true`): a parcel is one order at one station, passed when none of its weighings was flagged,
so a parcel re-packed after a MISSING_ITEM is one failed parcel and two weighings. Alerts come
from `alert` messages. A station that sends only alerts has no parcel count: its pass rate is
unknown, never guessed from its alerts alone.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel

from scale_agent.central.rows import station_key, utc
from scale_agent.central.views import local

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from zoneinfo import ZoneInfo

    from scale_agent.central.rows import Row


NO_PACKER = "(not sent)"  # parcels whose job named no packer
MAX_HOURS = 24 * 31  # the hourly chart of a range longer than a month stops there


@dataclass(frozen=True)
class Shift:
    """One shift: from its start up to the next shift's start, in the monitor's zone."""

    start: datetime
    end: datetime

    def previous(self, zone: ZoneInfo, starts: Sequence[time]) -> Shift:
        """The shift before this one."""
        return shift_at(self.start - timedelta(seconds=1), zone, starts)

    def following(self, zone: ZoneInfo, starts: Sequence[time]) -> Shift:
        """The shift after this one."""
        return shift_at(self.end, zone, starts)


def shift_at(moment: datetime, zone: ZoneInfo, starts: Sequence[time]) -> Shift:
    """The shift `moment` falls in, given each shift's local start time (sorted)."""
    local = utc(moment).astimezone(zone)
    candidates = [
        datetime.combine(local.date() + timedelta(days=day), start, tzinfo=zone)
        for day in (-1, 0, 1)
        for start in starts
    ]
    begun = [c for c in candidates if c <= local]
    start = max(begun)
    end = min(c for c in candidates if c > start)
    return Shift(start, end)


class Tally(BaseModel):
    """Parcels, weighings and alerts of one station, packer or verdict."""

    name: str
    parcels: int | None  # None: not known (only alerts were sent), or not one (a verdict)
    weighings: int | None
    alerts: int
    fail_rate: float | None  # parcels flagged at least once / parcels, in %


class SkuTally(BaseModel):
    """Alerts on parcels holding a SKU, and how many of them its units explain."""

    sku: str
    name: str
    names: dict[str, str]  # the name in other languages
    alerts: int  # alerts on parcels that held it
    explained: int  # alerts explained by a unit of it missing or extra


class Hour(BaseModel):
    """Alerts judged in one hour of the shift."""

    label: str  # "14:00"
    alerts: int


class Summary(BaseModel):
    """One shift (or any time range) at a glance."""

    since: str
    until: str
    parcels: int | None
    passed: int | None  # parcels with no flagged weighing
    pass_rate: float | None  # in %
    weighings: int | None
    alerts: int
    by_verdict: list[Tally]
    by_station: list[Tally]
    by_packer: list[Tally]
    by_sku: list[SkuTally]
    per_hour: list[Hour]


@dataclass(frozen=True)
class VerdictCount:
    """How many weighings of one verdict a station (and packer) sent in the range."""

    station: str
    packer: str | None
    verdict: str
    count: int


@dataclass(frozen=True)
class ParcelCount:
    """How many parcels a station (and packer) weighed in the range, and how many failed."""

    station: str
    packer: str | None
    parcels: int
    flagged: int


@dataclass(frozen=True)
class AlertRow:
    """One alert in the range, with its payload as the station sent it."""

    sent_at: datetime
    station: str
    packer: str | None
    verdict: str
    payload: str


def counts_from(rows: Iterable[Row]) -> list[VerdictCount]:
    """`Store.verdict_counts` rows as counts."""
    return [VerdictCount(station_key(r), r["packer"], str(r["verdict"]), int(r["n"])) for r in rows]


def parcels_from(rows: Iterable[Row]) -> list[ParcelCount]:
    """`Store.parcel_counts` rows as counts."""
    return [
        ParcelCount(
            station_key(r),
            r["packer"],
            int(r["parcels"]),
            int(r["flagged"] or 0),
        )
        for r in rows
    ]


def alerts_from(rows: Iterable[Row]) -> list[AlertRow]:
    """`Store.alerts_between` rows as alerts."""
    return [
        AlertRow(
            r["sent_at"],
            station_key(r),
            r["packer"],
            str(r["verdict"]),
            r["payload"],
        )
        for r in rows
    ]


def _hour(moment: datetime, zone: ZoneInfo) -> datetime:
    """The start of the local hour `moment` falls in, in UTC."""
    start = utc(moment).astimezone(zone).replace(minute=0, second=0, microsecond=0)
    return start.astimezone(UTC)


def _rate(flagged: int, parcels: int | None) -> float | None:
    return None if not parcels else round(100 * flagged / parcels, 1)


def _tallies(
    parcels: Mapping[str, int],
    flagged: Mapping[str, int],
    weighings: Mapping[str, int],
    alerts: Counter[str],
) -> list[Tally]:
    names = sorted(set(parcels) | set(alerts), key=lambda n: (-alerts[n], n))
    return [
        Tally(
            name=name,
            parcels=parcels.get(name),
            weighings=weighings.get(name),
            alerts=alerts[name],
            fail_rate=_rate(flagged.get(name, 0), parcels.get(name)),
        )
        for name in names
    ]


def summarize(
    weighings: Iterable[VerdictCount],
    parcels: Iterable[ParcelCount],
    alerts: Sequence[AlertRow],
    *,
    since: datetime,
    until: datetime,
    zone: ZoneInfo,
) -> Summary:
    """The summary of one range from its weighings, its parcels and its alerts."""
    station_parcels: Counter[str] = Counter()
    station_flagged: Counter[str] = Counter()
    packer_parcels: Counter[str] = Counter()
    packer_flagged: Counter[str] = Counter()
    for count in parcels:
        packer = count.packer or NO_PACKER
        station_parcels[count.station] += count.parcels
        station_flagged[count.station] += count.flagged
        packer_parcels[packer] += count.parcels
        packer_flagged[packer] += count.flagged
    verdicts: Counter[str] = Counter()
    station_weighings: Counter[str] = Counter()
    packer_weighings: Counter[str] = Counter()
    for weighing in weighings:
        verdicts[weighing.verdict] += weighing.count
        station_weighings[weighing.station] += weighing.count
        packer_weighings[weighing.packer or NO_PACKER] += weighing.count
    total = sum(station_parcels.values()) or None
    passed = total - sum(station_flagged.values()) if total else None
    by_station: Counter[str] = Counter(a.station for a in alerts)
    by_packer: Counter[str] = Counter(a.packer or NO_PACKER for a in alerts)
    by_verdict: Counter[str] = Counter(a.verdict for a in alerts)
    sku_alerts: Counter[str] = Counter()
    sku_explained: Counter[str] = Counter()
    names: dict[str, tuple[str, dict[str, str]]] = {}  # sku -> its name, and translations
    hours: Counter[datetime] = Counter()
    for alert in alerts:
        payload = json.loads(alert.payload)
        for line in payload.get("lines") or []:
            sku = str(line.get("sku"))
            sku_alerts[sku] += 1
            names[sku] = (str(line.get("name") or sku), dict(line.get("names") or {}))
        for hypothesis in (payload.get("explanation") or [])[:1]:  # the best explanation
            for unit in hypothesis.get("units") or []:
                sku_explained[str(unit.get("sku"))] += 1
        hours[_hour(alert.sent_at, zone)] += 1
    verdict_names = sorted(set(verdicts) | set(by_verdict), key=lambda v: (-by_verdict[v], v))
    per_hour: list[Hour] = []
    hour = _hour(since, zone)
    while hour < utc(until) and len(per_hour) < MAX_HOURS:
        label = hour.astimezone(zone).strftime("%H:%M")
        per_hour.append(Hour(label=label, alerts=hours[hour]))
        hour += timedelta(hours=1)  # in UTC: a day with a clock change has 23 or 25 hours
    skus = sorted(set(sku_alerts), key=lambda s: (-sku_explained[s], -sku_alerts[s], s))
    return Summary(
        since=local(since, zone),
        until=local(until, zone),
        parcels=total,
        passed=passed,
        pass_rate=_rate(passed or 0, total),
        weighings=sum(verdicts.values()) or None,
        alerts=len(alerts),
        by_verdict=[
            Tally(
                name=v,
                parcels=None,
                weighings=verdicts[v] if verdicts else None,
                alerts=by_verdict[v],
                fail_rate=None,
            )
            for v in verdict_names
        ],
        by_station=_tallies(station_parcels, station_flagged, station_weighings, by_station),
        by_packer=_tallies(packer_parcels, packer_flagged, packer_weighings, by_packer),
        by_sku=[
            SkuTally(
                sku=s,
                name=names[s][0],
                names=names[s][1],
                alerts=sku_alerts[s],
                explained=sku_explained[s],
            )
            for s in skus
        ],
        per_hour=per_hour,
    )
