"""The shift summary: shifts across midnight, the tallies, and the printable page in Chromium."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from scale_agent.central.summary import (
    AlertRow,
    ParcelCount,
    VerdictCount,
    shift_at,
    summarize,
)
from scale_agent.domain.catalog import load_catalog
from scale_agent.domain.jobs import parse_job
from scale_agent.domain.verifier import judge, plan
from scale_agent.io.config import ToleranceSection
from scale_agent.io.messages import VerdictPayload
from scale_agent.testing import wait_until
from scale_agent.weights import Weight
from tests.central.harness import publish_all, running_central, sign_in, write_central
from tests.fakes.browser import screenshot_folder
from tests.station_files import CATALOG

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser

    from scale_agent.domain.catalog import Catalog
    from tests.fakes.mosquitto import Mosquitto

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHIFTS = (time(6), time(14), time(22))


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def test_a_night_shift_runs_across_midnight() -> None:
    night = shift_at(local(2026, 12, 2, 3, 15), SHANGHAI, SHIFTS)
    assert (night.start, night.end) == (local(2026, 12, 1, 22), local(2026, 12, 2, 6))
    assert night.following(SHANGHAI, SHIFTS).start == local(2026, 12, 2, 6)
    assert night.previous(SHANGHAI, SHIFTS).start == local(2026, 12, 1, 14)
    assert shift_at(local(2026, 12, 2, 14), SHANGHAI, SHIFTS).start == local(2026, 12, 2, 14)


def test_a_re_packed_parcel_is_one_failed_parcel_and_alerts_never_make_parcels() -> None:
    weighings = [
        VerdictCount("sz/l1/a", "wang.fang", "PASS", 96),  # 95 right first time, 1 re-packed
        VerdictCount("sz/l1/a", "wang.fang", "MISSING_ITEM", 5),
    ]
    parcels = [ParcelCount("sz/l1/a", "wang.fang", 100, 5)]
    payload = (
        '{"lines": [{"sku": "SKU-1023", "name": "Phone case", "qty": 1,'
        ' "names": {"zh_CN": "手机壳"}}],'
        ' "explanation": [{"direction": "missing", "units": [{"sku": "SKU-1023", "qty": 1}]}]}'
    )
    alerts = [
        AlertRow(local(2026, 12, 2, 9, 5), "sz/l1/a", "wang.fang", "MISSING_ITEM", payload),
        AlertRow(local(2026, 12, 2, 9, 40), "sz/l1/b", None, "UNDER", "{}"),  # alerts only
    ]
    summary = summarize(
        weighings,
        parcels,
        alerts,
        since=local(2026, 12, 2, 6),
        until=local(2026, 12, 2, 14),
        zone=SHANGHAI,
    )
    assert (summary.parcels, summary.passed, summary.pass_rate) == (100, 95, 95)
    assert (summary.weighings, summary.alerts) == (101, 2)
    stations = {t.name: t for t in summary.by_station}
    assert stations["sz/l1/a"].fail_rate == 5
    assert stations["sz/l1/b"].parcels is None  # it sends only alerts: not known, not 1
    assert stations["sz/l1/b"].fail_rate is None
    assert [(s.sku, s.name, s.names, s.explained) for s in summary.by_sku] == [
        ("SKU-1023", "Phone case", {"zh_CN": "手机壳"}, 1)
    ]
    assert len(summary.per_hour) == 8
    assert [h.alerts for h in summary.per_hour if h.label == "09:00"] == [2]
    assert {t.name for t in summary.by_packer} == {"wang.fang", "(not sent)"}


def verdict_message(
    catalog: Catalog,
    *,
    site: str,
    station: str,
    order_id: str,
    grams: str,
    judged_at: datetime,
    packer: str,
    lines: str = '[{"sku": "SKU-1023", "qty": 1}, {"sku": "SKU-2040", "qty": 2}]',
) -> VerdictPayload:
    """A verdict as a station judges it: the real plan and judge, the real payload."""
    job = parse_job(
        f'{{"order_id": "{order_id}", "carton": "BOX-S", "packer": "{packer}", "lines": {lines}}}'
    )
    expectation = plan(job, catalog, ToleranceSection())
    verdict = judge(expectation, Weight.parse(grams))
    return VerdictPayload.build(
        verdict,
        identity={"site": site, "line": "line-1", "station": station},
        parcel_id=str(uuid.uuid4()),
        judged_at=judged_at,
        is_rejudged=False,
        expectation=expectation,
    ).model_copy(update={"sent_at": judged_at})


def test_the_shift_summary_page_counts_charts_and_prints(
    tmp_path: Path, broker: Mosquitto, database: str, browser: Browser
) -> None:
    (tmp_path / "catalog.csv").write_text(CATALOG)
    catalog = load_catalog(tmp_path / "catalog.csv")
    site = f"s{uuid.uuid4().hex[:8]}"
    start = datetime(2026, 12, 1, 6, tzinfo=SHANGHAI).astimezone(UTC)
    sent: list[tuple[str, bytes]] = []
    packers = ("wang.fang", "li.na", "chen.jie")
    for index in range(60):  # three stations over the morning shift, one sloppier than the rest
        station = f"bench-{index % 3 + 1}"
        at = start + timedelta(hours=index // 8, minutes=(index * 7) % 60)
        is_short = (index % 3 == 2 and index % 2 == 0) or index == 7
        grams = "877" if is_short else "1025"
        payload = verdict_message(
            catalog,
            site=site,
            station=station,
            order_id=f"SO-{index}",
            grams=grams + "g",
            judged_at=at,
            packer=packers[index % 3],
        )
        topic = f"scale-agent/v1/{site}/line-1/{station}"
        sent.append((f"{topic}/verdict", payload.model_dump_json().encode()))
        if payload.verdict != "PASS":
            alert = payload.model_copy(update={"msg_id": str(uuid.uuid4())})
            sent.append((f"{topic}/alert", alert.model_dump_json().encode()))
            # Re-packed and weighed again: a second weighing of the same parcel.
            again = verdict_message(
                catalog,
                site=site,
                station=station,
                order_id=f"SO-{index}",
                grams="1025g",
                judged_at=at + timedelta(seconds=30),
                packer=packers[index % 3],
            )
            sent.append((f"{topic}/verdict", again.model_dump_json().encode()))
    central_toml = write_central(tmp_path, database, broker.url, site)
    with running_central(central_toml) as (service, url, _tokens):
        publish_all(broker.port, sent)
        wait_until(lambda: service.store.count() == len(sent))
        page = browser.new_page(viewport={"width": 1360, "height": 1000})
        sign_in(page, url, "li.wei")
        page.goto(f"{url}/summary?at=2026-12-01T09:30")
        assert page.inner_text("#parcels") == "60"
        assert page.inner_text("#alert-count") == "11"
        assert page.inner_text("#pass-rate") == "81.7 %"  # parcels right first time
        assert page.inner_text("#passed") == "49"
        assert page.inner_text("#weighings") == "71"  # the 11 re-packs weighed again
        assert "2026-12-01 06:00:00 CST" in page.inner_text("h1")
        stations = page.inner_text("#by-station")
        assert "bench-3" in stations.splitlines()[2]  # the most alerts first
        assert "Phone case" in page.inner_text("#by-sku")
        assert "wang.fang" in page.inner_text("#by-packer")
        assert page.locator("svg rect.alarm").count() >= 1  # bench-3 stands out
        folder = screenshot_folder("central-summary")
        page.screenshot(path=str(folder / "summary.png"), full_page=True)
        page.emulate_media(media="print")
        page.screenshot(path=str(folder / "summary-print.png"), full_page=True)
        # The printed page has no buttons and no links to other pages.
        assert not page.is_visible("#print")
        assert not page.is_visible("#logout")
        page.pdf(path=str(folder / "summary.pdf"), format="A4", landscape=True)
        page.emulate_media(media="screen")
        page.click("#previous-shift")
        assert page.inner_text("#parcels") == "\N{EN DASH}"  # the night before: nothing was sent
        assert "2026-11-30 22:00:00 CST" in page.inner_text("h1")
