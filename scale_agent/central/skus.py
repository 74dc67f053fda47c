"""Fleet-wide SKU weight feedback: what every station's scale measured, against the catalog.

The stations' verdicts carry each order's lines with the declared unit weights and spreads;
the monitor fits every SKU's real unit weight over all of them with the station's own robust
fit (`domain.catalog_audit`), so a SKU sold at fifty benches gets fifty benches' evidence.
All judged weighings are used, not only passing ones: a SKU declared 20 % light fails every
parcel it is in, and a fit over passing parcels alone would never see it. Mis-packed parcels
(a unit missing or extra) sit far off and are weighed out by the fit.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel

from scale_agent.central.rows import station_key
from scale_agent.domain.catalog_audit import (
    NOT_A_WEIGHING,
    Declared,
    Parcel,
    audit,
    corrected,
    weighed_parcel,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scale_agent.central.rows import Row


MIN_PARCELS = 20  # a SKU in fewer parcels than this is not judged


class SkuView(BaseModel):
    """One SKU: declared against measured, with how sure the fit is."""

    sku: str
    name: str
    names: dict[str, str]  # the name in other languages, as the stations' catalogs have it
    parcels: int
    stations: int  # how many stations weighed it
    declared_g: float
    measured_g: float
    ci_low_g: float
    ci_high_g: float
    difference_pct: float
    declared_spread_g: float
    measured_spread_g: float | None
    is_weight_off: bool
    is_spread_off: bool
    declared_differs: bool  # stations declared different weights: their catalogs disagree
    suggested_g: float | None  # the catalog value to set, when the weight is off


class SkuReport(BaseModel):
    """The feedback over a time range."""

    days: int
    parcels: int  # weighings the fit read
    skus: list[SkuView]
    flagged: int


@dataclass
class _Seen:
    declared: dict[float, Declared]  # by declared unit weight, the newest of each
    names: dict[str, str]  # the newest translations of the name
    parcels: Counter[float]  # parcels that declared each weight
    stations: set[str]

    @property
    def usual(self) -> Declared:
        """The declaration most parcels carried (of equals, the newest)."""
        weight = max(self.parcels, key=lambda w: (self.parcels[w], list(self.declared).index(w)))
        return self.declared[weight]


def weighings(rows: Iterable[Row]) -> tuple[list[Parcel], dict[str, _Seen]]:
    """The weighings in stored verdict and alert messages, each parcel once."""
    parcels: list[Parcel] = []
    seen: dict[str, _Seen] = {}  # per SKU
    parcel_ids: set[str] = set()
    for row in rows:  # oldest first: the newest declaration wins
        payload = json.loads(row["payload"])
        measured, tare = payload.get("measured"), payload.get("carton_tare")
        lines = payload.get("lines") or []
        parcel_id = payload.get("parcel_id")
        if (
            payload.get("verdict") in NOT_A_WEIGHING
            or payload.get("override")  # the same weighing as the verdict it overrides
            or not measured
            or not tare
            or not lines
            or parcel_id in parcel_ids  # its alert and its verdict copy
        ):
            continue
        parcel_ids.add(parcel_id)
        station = station_key(row)
        used = []
        for line in lines:
            sku, unit, spread = str(line["sku"]), line["unit"]["value"], line["spread"]["value"]
            used.append((sku, int(line["qty"]), float(spread)))
            entry = seen.setdefault(sku, _Seen({}, {}, Counter(), set()))
            entry.names = dict(line.get("names") or {}) or entry.names
            entry.declared.pop(float(unit), None)  # re-inserted last: the newest
            entry.declared[float(unit)] = Declared(
                float(unit), float(spread), str(line.get("name") or sku)
            )
            entry.parcels[float(unit)] += 1
            entry.stations.add(station)
        spread = (payload.get("carton_spread") or {}).get("value", 0.0)
        parcels.append(weighed_parcel(used, float(measured["value"]), float(tare["value"]), spread))
    return parcels, seen


def sku_report(rows: Iterable[Row], days: int) -> SkuReport:
    """Per SKU: the fleet's measured unit weight against the declared one, flagged first."""
    parcels, seen = weighings(rows)
    findings = audit(parcels, {sku: s.usual for sku, s in seen.items()}, min_samples=MIN_PARCELS)
    views = [
        SkuView(
            sku=f.sku,
            name=f.name,
            names=seen[f.sku].names,
            parcels=f.samples,
            stations=len(seen[f.sku].stations),
            declared_g=f.declared_g,
            measured_g=round(f.estimated_g, 2),
            ci_low_g=round(f.ci_low_g, 2),
            ci_high_g=round(f.ci_high_g, 2),
            difference_pct=round(f.difference_pct, 2),
            declared_spread_g=f.declared_spread_g,
            measured_spread_g=None
            if f.estimated_spread_g is None
            else round(f.estimated_spread_g, 2),
            is_weight_off=f.is_weight_off,
            is_spread_off=f.is_spread_off,
            declared_differs=len(seen[f.sku].declared) > 1,
            suggested_g=float(corrected(f.estimated_g)) if f.is_weight_off else None,
        )
        for f in findings
        if f.is_determined
    ]
    return SkuReport(
        days=days,
        parcels=len(parcels),
        skus=views,
        flagged=sum(1 for v in views if v.is_weight_off or v.is_spread_off),
    )
