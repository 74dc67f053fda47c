"""The monitor in Chinese: every text translated, the browser's language honoured, and the
grid, live feed, shift summary and SKU page read in Chinese in headless Chromium (screenshots in
build/screenshots/central-zh/)."""

from __future__ import annotations

import ast
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.pofile import read_po

from scale_agent.central.language import CODES, DOMAIN, SCRIPT_TEXTS, choose
from scale_agent.io.translations import catalog_path, template_fields
from scale_agent.testing import wait_until
from tests.central import harness
from tests.central.harness import publish_all, running_central, write_central
from tests.central.test_service import short_parcel, station_files
from tests.central.test_skus import fleet_messages
from tests.fakes.browser import screenshot_folder
from tests.fakes.mt_sics_scale import FakeMtSicsScale
from tests.fakes.recording_light import RecordingLight
from tests.station_harness import running_station

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.fakes.mosquitto import Mosquitto

CENTRAL = Path(__file__).resolve().parents[2] / "scale_agent" / "central"
ZH_NAMES = {"SKU-1023": "手机壳", "SKU-2040": "精装书"}


def central_texts() -> set[str]:
    """Every text the monitor shows: `_()` in templates, `texts()` in code, the script's."""
    found = set(SCRIPT_TEXTS) | set(CODES)
    for path in (CENTRAL / "templates").glob("*.html"):
        found |= set(re.findall(r"""_\(\s*["']((?:[^"'\\]|\\.)*)["']""", path.read_text()))
    for path in CENTRAL.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "texts"
                and node.args
            ):
                assert isinstance(node.args[0], ast.Constant), f"{path}: texts() needs a literal"
                found.add(str(node.args[0].value))
    script = (CENTRAL / "static" / "central.js").read_text()
    used = set(re.findall(r"""\bt\(\s*"((?:[^"\\]|\\.)*)\"""", script))
    assert used <= found, f"central.js says texts not in SCRIPT_TEXTS: {used - found}"
    return found


def test_every_monitor_text_has_its_chinese_keeping_its_fields() -> None:
    with catalog_path("zh_CN", DOMAIN).open("rb") as file:
        catalog = {str(m.id): m for m in read_po(file, locale="zh_CN") if m.id}
    texts = central_texts()
    assert len(texts) > 100
    problems = []
    for text in sorted(texts):
        message = catalog.get(text)
        if message is None or not message.string or message.fuzzy:
            problems.append(f"untranslated: {text!r}")
        elif template_fields(str(message.string)) != template_fields(text):
            problems.append(f"fields differ: {text!r} -> {message.string!r}")
    assert not problems, "\n".join(problems)
    assert not set(catalog) - texts, f"no longer shown: {sorted(set(catalog) - texts)}"


def test_the_language_is_the_users_pick_then_the_browsers_then_the_sites() -> None:
    assert choose("en", "zh-CN,zh;q=0.9", "zh_CN") == "en"
    assert choose(None, "zh-CN,zh;q=0.9,en;q=0.8", "en") == "zh_CN"
    assert choose(None, "de-DE,en;q=0.5", "zh_CN") == "en"
    assert choose("klingon", None, "zh_CN") == "zh_CN"


def chinese_catalog(folder: Path) -> None:
    """The station's catalog with a `name_zh_CN` column, as Chinese warehouses keep it."""
    path = folder / "catalog.csv"
    lines = path.read_text().splitlines()
    out = [lines[0] + ",name_zh_CN"]
    out += [f"{line},{ZH_NAMES.get(line.split(',')[1], '')}" for line in lines[1:] if line]
    path.write_text("\n".join(out) + "\n")


def test_a_chinese_supervisor_reads_the_monitor_in_chinese(  # noqa: PLR0915 - one story
    tmp_path: Path, broker: Mosquitto, browser: Browser
) -> None:
    site = f"z{uuid.uuid4().hex[:8]}"
    scale, light = FakeMtSicsScale(), RecordingLight()
    config = station_files(tmp_path / "station", scale, broker, site, "line-1")
    chinese_catalog(tmp_path / "station")
    history = tmp_path / "fleet"
    history.mkdir()
    fleet = fleet_messages(history, site)  # yesterday's parcels: summary and SKU pages
    shots = screenshot_folder("central-zh")
    database = str(tmp_path / "central.sqlite3")
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    try:
        with (
            running_central(write_central(tmp_path, database, broker.url, site)) as (
                service,
                url,
                _,
            ),
            running_station(config, light) as station,
        ):
            publish_all(broker.port, fleet)
            wait_until(lambda: service.store.count("verdict") >= 85)
            page = context.new_page()
            page.goto(f"{url}/login")
            assert page.inner_text("h1") == "登录"
            harness.sign_in(page, url, "li.wei")
            page.wait_for_selector("body[data-live=yes]")
            assert page.get_attribute("html", "lang") == "zh-CN"
            assert "工位与告警" in page.inner_text("header")
            page.wait_for_selector(".tile.state-online")
            assert "在线" in page.inner_text(f".tile[data-key='{site}/line-1/bench-1']")
            short_parcel(station, light, scale, broker, "SO-ZH-1")
            row = page.wait_for_selector("tr[data-order='SO-ZH-1']")  # pushed, built by the script
            assert row is not None
            assert "缺件" in row.inner_text()
            assert "缺 1 x 手机壳 (SKU-1023)" in row.inner_text()
            assert "轻了 148 g" in row.inner_text()  # not the station's English reason
            assert "未处理" in row.inner_text()
            page.wait_for_function(
                "() => document.querySelector('.tile.light-missing_item') !== null"
            )
            assert "指示灯: 缺件" in page.inner_text(".tile.light-missing_item")
            page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
            page.fill("tr[data-order='SO-ZH-1'] input[name=reason]", "客户同意")
            page.click("tr[data-order='SO-ZH-1'] button[value=override]")
            page.wait_for_selector("td.command:has-text('已发送放行')")
            page.wait_for_selector("td.outcome:has-text('li.wei 已放行：客户同意')")
            # An order id with no break points wraps; the verdict's words stay on one line.
            scale.set_weight("0.000")
            long_id = "SO-" + "7" * 70
            short_parcel(station, light, scale, broker, long_id)
            verdict = page.wait_for_selector(f"tr[data-order='{long_id}'] td b")
            assert verdict is not None
            assert verdict.inner_text() == "缺件"
            box = verdict.bounding_box()
            assert box is not None
            assert box["height"] < 1.6 * box["width"] / 2  # two characters side by side
            page.wait_for_selector(f".tile[data-key='{site}/line-1/bench-1']:has-text('{long_id}')")
            spill = page.eval_on_selector(  # the order line stays inside its tile
                f".tile[data-key='{site}/line-1/bench-1']", "t => t.scrollWidth - t.clientWidth"
            )
            assert spill <= 0
            page.screenshot(path=str(shots / "dashboard-long-order.png"), full_page=True)
            # History: a PASS is not "open" (未处理); it has nothing to resolve.
            page.goto(f"{url}/history")
            passes = page.locator("tr.verdict-pass")
            assert passes.count() > 0
            assert all("未处理" not in row for row in passes.all_inner_texts())
            assert "重量在允许范围内" in passes.first.inner_text()
            page.goto(f"{url}/")
            # The shift summary and the SKU page of yesterday's parcels, in Chinese.
            judged = datetime.now(UTC) - timedelta(hours=20) + timedelta(minutes=40)
            at = judged.astimezone(service.config.zone).strftime("%Y-%m-%dT%H:%M")
            page.goto(f"{url}/summary?at={at}")
            assert "班次汇总" in page.inner_text("h1")
            assert page.inner_text("#parcels") != "\N{EN DASH}"
            assert "每小时告警数" in page.inner_text(".charts")
            page.screenshot(path=str(shots / "summary.png"), full_page=True)
            page.goto(f"{url}/skus")
            first = page.locator("#skus tbody tr").first
            assert "重量有误：应设为 44" in first.inner_text()
            page.screenshot(path=str(shots / "skus.png"), full_page=True)
            # The English link switches, and the choice is remembered.
            page.click("#language-en")
            assert "SKU weights" in page.inner_text("h1")
            page.goto(f"{url}/")
            assert "Stations & alerts" in page.inner_text("header")
    finally:
        context.close()
        scale.close()
