"""Fleet-wide SKU weight feedback: a SKU the catalog declares 5 % light is found and shown."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx

from scale_agent.domain.catalog import load_catalog
from scale_agent.testing import wait_until
from tests.central.harness import publish_all, running_central, sign_in, write_central
from tests.central.test_summary import verdict_message
from tests.fakes.browser import screenshot_folder
from tests.station_files import CATALOG

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser

    from tests.fakes.mosquitto import Mosquitto

PHONE_CASE = '[{"sku": "SKU-1023", "qty": 1}]'  # declared 150 g, weighs 150 g
BOOK = '[{"sku": "SKU-2040", "qty": 1}]'  # declared 420 g, really weighs 441 g
BOTH = '[{"sku": "SKU-1023", "qty": 2}, {"sku": "SKU-2040", "qty": 1}]'
OLD_PHONE_CASE = '[{"sku": "SKU-1023", "qty": 1, "unit_weight": "152g", "spread": "2g"}]'


def fleet_messages(folder: Path, site: str) -> list[tuple[str, bytes]]:
    """Three stations' verdicts (and alerts) over the last day, the real payloads."""
    (folder / "catalog.csv").write_text(CATALOG)
    catalog = load_catalog(folder / "catalog.csv")
    noise = random.Random(7)  # noqa: S311 - reproducible scale noise, not a secret
    start = datetime.now(UTC) - timedelta(hours=20)
    orders = [(PHONE_CASE, 150.0)] * 30 + [(BOOK, 441.0)] * 30 + [(BOTH, 741.0)] * 20
    orders += [(OLD_PHONE_CASE, 150.0)] * 5  # one station's WMS still declares the old weight
    sent = []
    for index, (lines, content_g) in enumerate(orders):
        station = "bench-3" if lines == OLD_PHONE_CASE else f"bench-{index % 3 + 1}"
        grams = 35 + content_g + noise.gauss(0, 2.0)
        if index % 7 == 0 and lines in {PHONE_CASE, BOTH}:
            grams -= 150  # now and then a phone case left out: weighed out by the fit
        payload = verdict_message(
            catalog,
            site=site,
            station=station,
            order_id=f"SO-{index}",
            grams=f"{grams:.1f}g",
            judged_at=start + timedelta(minutes=index),
            packer="wang.fang",
            lines=lines,
        )
        topic = f"scale-agent/v1/{site}/line-1/{station}"
        sent.append((f"{topic}/verdict", payload.model_dump_json().encode()))
        if payload.verdict != "PASS":
            alert = payload.model_copy(update={"msg_id": str(uuid.uuid4())})
            sent.append((f"{topic}/alert", alert.model_dump_json().encode()))
    return sent


def test_the_fleet_finds_a_sku_the_catalog_declares_light(
    tmp_path: Path, broker: Mosquitto, database: str, browser: Browser
) -> None:
    site = f"k{uuid.uuid4().hex[:8]}"
    sent = fleet_messages(tmp_path, site)
    central_toml = write_central(tmp_path, database, broker.url, site)
    with running_central(central_toml) as (service, url, tokens):
        publish_all(broker.port, sent)
        wait_until(lambda: service.store.count() == len(sent))
        headers = {"Authorization": f"Bearer {tokens['zhang.min']}"}
        report = httpx.get(f"{url}/api/skus", headers=headers, timeout=30).json()
        assert report["parcels"] == 85  # each parcel once, though its alert came too
        skus = {s["sku"]: s for s in report["skus"]}
        book = skus["SKU-2040"]
        assert book["is_weight_off"]
        assert book["ci_low_g"] <= 441 <= book["ci_high_g"]
        assert 4 < book["difference_pct"] < 6
        assert not book["is_spread_off"]
        assert 439 < book["suggested_g"] < 443  # what to write in the catalog
        assert book["stations"] == 3
        phone = skus["SKU-1023"]
        assert not phone["is_weight_off"]
        assert abs(phone["measured_g"] - 150) < 1.5
        assert phone["declared_g"] == 150  # as most stations declare it
        assert phone["declared_differs"]  # one WMS sent 152 g inline
        assert report["flagged"] == 1
        page = browser.new_page(viewport={"width": 1360, "height": 700})
        sign_in(page, url, "li.wei")
        page.goto(f"{url}/skus")
        assert page.inner_text("#flagged") == "1"
        [first] = page.locator("#skus tbody tr").first.all()
        assert "SKU-2040" in first.inner_text()
        assert "weight off: set 44" in first.inner_text()
        assert "off" in (first.get_attribute("class") or "")
        page.screenshot(path=str(screenshot_folder("central-skus") / "skus.png"), full_page=True)
