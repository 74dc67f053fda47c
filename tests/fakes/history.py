"""A station's history, written as the station writes it: verdicts judged by the real verifier,
bodies built by the real evidence code, appended to a real ledger.

The "true" weights differ from the declared ones where the test says so: a SKU declared 8 %
light, one declared 8 % heavy, one that varies three times more than declared; a few parcels
are mis-packed (a unit missing), as at a real bench.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from scale_agent.domain.catalog import Catalog, Item
from scale_agent.domain.jobs import Job, JobLine
from scale_agent.domain.policies import Policy
from scale_agent.domain.verifier import judge, plan
from scale_agent.io.ledger import Ledger
from scale_agent.io.messages import Topics
from scale_agent.station import evidence
from scale_agent.station.effects import Record
from scale_agent.weights import Weight

if TYPE_CHECKING:
    from pathlib import Path

W = Weight.parse
CATALOG_CSV = """kind,id,name,weight,spread,policy,counted,gtin,name_zh_CN
sku,SKU-1001,Ceramic mug,342g,4g,,,,陶瓷杯
sku,SKU-1023,Phone case,150g,2g,,,,手机壳
sku,SKU-2040,Hardcover book,420g,4g,,,,精装书
sku,SKU-3310,Coffee beans 500 g,512g,5g,,,,咖啡豆
sku,SKU-4102,Wireless mouse,96g,1.5g,,,,无线鼠标
sku,SKU-5005,Desk lamp,1280g,12g,,,,台灯
sku,SKU-6200,Yoga block,250g,3g,,,,瑜伽砖
sku,SKU-7001,Tea sampler tin,176g,2g,,,,茶叶罐
carton,BOX-S,Small box,35g,1.5g,,,,小号纸箱
carton,BOX-M,Medium box,120g,4g,,,,中号纸箱
"""


@dataclass
class Truth:
    """What the items really weigh, where it differs from the catalog."""

    unit_factor: dict[str, float] = field(
        default_factory=lambda: {"SKU-2040": 1.08, "SKU-4102": 0.92}
    )
    spread_factor: dict[str, float] = field(default_factory=lambda: {"SKU-6200": 3.0})
    mispack_rate: float = 0.03


def catalog_items() -> Catalog:
    """The declared catalog (the same as CATALOG_CSV)."""
    skus: dict[str, Item] = {}
    cartons: dict[str, Item] = {}
    for row in CATALOG_CSV.splitlines()[1:]:
        kind, sku, name, weight, spread, *_ = row.split(",")
        item = Item(sku, name, W(weight), W(spread))
        (skus if kind == "sku" else cartons)[sku] = item
    return Catalog(skus, cartons)


def write_history(
    data_dir: Path,
    parcels: int,
    *,
    truth: Truth | None = None,
    seed: int = 3,
    evidence_frames: int = 8,
    synchronous: str = "FULL",
) -> None:
    """Judge and record `parcels` parcels into the ledger in `data_dir`."""
    truth = truth or Truth()
    catalog = catalog_items()
    policy = Policy()
    rng = random.Random(seed)  # noqa: S311 - test data
    topics = Topics("hist", "line-1", "bench-1")
    identity = {"site": "hist", "line": "line-1", "station": "bench-1"}
    ledger = Ledger(data_dir, synchronous="NORMAL" if synchronous == "NORMAL" else "FULL")
    start = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    skus = sorted(catalog.skus)
    try:
        for number in range(parcels):
            size = 1 if rng.random() < 0.4 else rng.randint(2, 3)
            chosen = rng.sample(skus, size)
            lines = tuple(JobLine(sku, rng.choice((1, 1, 2))) for sku in chosen)
            box = "BOX-S" if size == 1 else "BOX-M"
            job = Job(f"SO-{number}", lines, box)
            expectation = plan(job, catalog, policy)
            carton = catalog.cartons[box]
            grams = rng.gauss(float(carton.weight.in_grams), float(carton.spread.in_grams))
            units = [line.sku for line in lines for _ in range(line.qty)]
            if rng.random() < truth.mispack_rate:
                units.remove(rng.choice(units))  # one unit missing: a mis-pack
            for sku in units:
                item = catalog.skus[sku]
                mean = float(item.weight.in_grams) * truth.unit_factor.get(sku, 1.0)
                spread = float(item.spread.in_grams) * truth.spread_factor.get(sku, 1.0)
                grams += rng.gauss(mean, spread)
            measured = Weight(Decimal(str(round(grams, 1))), W("1g").unit)
            verdict = judge(expectation, measured)
            written = evidence.build(
                Record(verdict, expectation=expectation),
                identity=identity,  # type: ignore[arg-type]
                topics=topics,
                judged_at=start + timedelta(minutes=number),
                scale_device="/dev/pts/0",
                scale_identity=None,
                station_policy=policy,
                publish_verdicts=False,
            )
            written.body["evidence"] = [{"raw": "5320532020312e323530206b67"}] * evidence_frames
            ledger.record(
                written.parcel_id,
                order_id=verdict.order_id,
                verdict=verdict.kind.value,
                recorded_at=written.judged_at.isoformat(),
                body=written.body,
                outgoing=[],
            )
    finally:
        ledger.close()
