"""The case desk in Chromium, in English and Chinese: search, evidence, claim, decision.

A real station with a camera packs an order short, then right; its records and photos reach
the central over MQTT. Customer service types part of the tracking number, sees both
weighings with their photos and verification, assesses "one phone case missing" against the
final PASS (contradicted) and records the decision. Screenshots in build/screenshots/case-desk/.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import TYPE_CHECKING

from scale_agent.testing import wait_until
from tests.central import harness
from tests.central.harness import running_central, write_central
from tests.central.test_evidence_transfer import _shipped
from tests.central.test_service import short_parcel, station_files
from tests.fakes.browser import screenshot_folder
from tests.fakes.camera_server import DigestCamera
from tests.fakes.mt_sics_scale import FakeMtSicsScale
from tests.fakes.recording_light import RecordingLight
from tests.station_harness import running_station

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from playwright.sync_api import Browser, Page

    from tests.fakes.mosquitto import Mosquitto

CAMERA = (
    '\n[camera]\ndriver = "http-snapshot"\nurl = "{url}"\n'
    'username = "admin"\npassword = "Secret-123"\ntimeout_s = 5\n'
)


def _desk(page: Page, url: str, shots: Path, language: str) -> None:
    page.goto(f"{url}/cases")
    page.fill("input[name=q]", "sf140200")
    page.click("form.desk-search button")
    page.wait_for_selector("#parcel")
    weighings = page.locator("article.weighing")
    assert weighings.count() == 2
    assert page.locator("article.weighing img.thumb").count() == 2  # a photo for each
    assert page.locator("article.weighing.final").count() == 1
    page.screenshot(path=str(shots / f"{language}-evidence.png"), full_page=True)
    page.select_option("#claim-kind", "missing")
    page.click("#assess")
    page.wait_for_selector("section.case.finding-contradicted")
    page.screenshot(path=str(shots / f"{language}-claim.png"), full_page=True)


def _bulk(page: Page, url: str, shots: Path, folder: Path, language: str) -> None:
    """The after-sales list from the page: a bad row refuses the file, a good one is a table."""
    bad = folder / "bad.csv"
    bad.write_text("订单号,售后类型,数量\nSF1402007919,少件,two\n", encoding="utf-8")
    page.goto(f"{url}/cases")
    page.set_input_files("#bulk-form input[type=file]", str(bad))
    page.click("#bulk-form button")
    assert "row 2" in page.inner_text("#bulk-error")
    good = folder / "list.csv"
    good.write_text(
        "订单号,售后类型,商品编码,数量\nSF1402007919,少件,SKU-1023,1\nSO-NOPE,破损,,\n",
        encoding="gb18030",
    )
    page.goto(f"{url}/cases")
    page.set_input_files("#bulk-form input[type=file]", str(good))
    page.click("#bulk-form button")
    page.wait_for_selector("#bulk-lines")
    assert page.locator("#bulk-lines tr.finding-contradicted").count() == 1
    assert page.locator("#bulk-lines tr.finding-not_found").count() == 1
    assert page.locator("#bulk-appeals").count() == 1
    page.screenshot(path=str(shots / f"{language}-bulk.png"), full_page=True)


def test_customer_service_answers_a_claim_on_the_page_in_both_languages(
    tmp_path: Path, broker: Mosquitto, browser: Browser, request: pytest.FixtureRequest
) -> None:
    site = f"d{uuid.uuid4().hex[:8]}"
    scale, light = FakeMtSicsScale(), RecordingLight()
    request.addfinalizer(scale.close)
    camera = DigestCamera().__enter__()
    request.addfinalizer(lambda: camera.__exit__(None, None, None))
    config = station_files(tmp_path / "station", scale, broker, site, "line-1")
    config.write_text(config.read_text() + CAMERA.format(url=camera.url))
    data = config.parent / "data"
    shots = screenshot_folder("case-desk")
    database = str(tmp_path / "central.sqlite3")
    with running_central(write_central(tmp_path, database, broker.url, site)) as (_c, url, _t):
        with running_station(config, light) as station:
            short_parcel(station, light, scale, broker, "SO-D1", tracking_number="SF1402007919")
            scale.set_weight("1.025")  # fixed: PASS
            wait_until(lambda: _shipped(data)[0] >= 4 and _shipped(data)[1] == _shipped(data)[0])
        for language, locale in (("en", "en-GB"), ("zh_CN", "zh-CN")):
            context = browser.new_context(locale=locale, viewport={"width": 1300, "height": 900})
            page = context.new_page()
            harness.sign_in(page, url, "wang.fang")
            _desk(page, url, shots, language)
            text = page.inner_text("main")
            if language == "en":
                assert "Contradicted by the record" in text
                assert "Verified: linked to every record before it" in text
                page.fill("section.case input[name=reason]", "the record shows it complete")
                page.click("section.case button[type=submit]")
                page.wait_for_selector("p.decision")
                assert "Decided by wang.fang: reject" in page.inner_text("p.decision")
                page.screenshot(path=str(shots / "en-decision.png"), full_page=True)
                appeal = page.request.get(url + (page.get_attribute("#appeal-zip", "href") or ""))
                names = zipfile.ZipFile(io.BytesIO(appeal.body())).namelist()
                assert names[0] == "SO-D1/report-SO-D1.pdf"
                assert len([n for n in names if n.endswith(".jpg")]) == 1  # the final PASS's
                report = page.request.get(url + (page.get_attribute("#report-pdf", "href") or ""))
                (shots / "en-report.pdf").write_bytes(report.body())
                _bulk(page, url, shots, tmp_path, "en")
            else:
                _bulk(page, url, shots, tmp_path, "zh_CN")
                page.goto(f"{url}/cases")  # the desk's front page: what the cases teach
                assert "记录否定" in page.inner_text("#lessons")
                page.screenshot(path=str(shots / "zh_CN-lessons.png"), full_page=True)
                assert "记录否定了该投诉" in text
                assert "出库结果" in text
                assert "手机壳" in text or "SKU-1023" in text
            context.close()
