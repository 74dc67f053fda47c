"""The supervisors' dashboard in Debian's headless Chromium, over a real station and broker.

Screenshots go to build/screenshots/central/ (looked at for the issue's note).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from scale_agent.testing import wait_until
from tests.central import harness
from tests.central.harness import running_central, write_central
from tests.central.test_service import short_parcel, station_files
from tests.fakes.browser import screenshot_folder
from tests.fakes.mt_sics_scale import FakeMtSicsScale
from tests.fakes.recording_light import RecordingLight
from tests.station_harness import running_station

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser, Page

    from tests.fakes.mosquitto import Mosquitto


def sign_in(page: Page, url: str, name: str) -> None:
    harness.sign_in(page, url, name)
    page.wait_for_selector("body[data-live=yes]")


def test_alerts_appear_live_and_a_supervisor_acknowledges_one(
    tmp_path: Path, broker: Mosquitto, browser: Browser
) -> None:
    site = f"d{uuid.uuid4().hex[:8]}"
    scale, light = FakeMtSicsScale(), RecordingLight()
    config = station_files(tmp_path / "a", scale, broker, site, "line-1")
    shots = screenshot_folder("central")
    database = str(tmp_path / "central.sqlite3")
    try:
        with (
            running_central(write_central(tmp_path, database, broker.url, site)) as (_, url, _t),
            running_station(config, light) as station,
        ):
            supervisor = browser.new_page(viewport={"width": 1400, "height": 900})
            sign_in(supervisor, url, "li.wei")
            supervisor.wait_for_selector(".tile.state-online")  # the station's status arrived
            short_parcel(
                station,
                light,
                scale,
                broker,
                "SO-LIVE-1",
                marketplace_order="TB-2026-0077",
                packer="wang.fang",
            )
            row = supervisor.wait_for_selector("tr[data-msg-id]")  # pushed, no reload
            assert row is not None
            assert "SO-LIVE-1" in row.inner_text()
            assert "MISSING ITEM" in row.inner_text()  # a word, not the code
            assert "MISSING_ITEM" not in row.inner_text()
            assert "light by 148 g" in row.inner_text()
            assert "missing 1 x Phone case (SKU-1023)" in row.inner_text()
            assert "TB-2026-0077" in row.inner_text()  # what customer service will ask by
            assert "wang.fang" in row.inner_text()
            supervisor.screenshot(path=str(shots / "dashboard-alert.png"), full_page=True)
            supervisor.fill("tr[data-msg-id] input[name=note]", "re-packed: phone case added")
            supervisor.click("tr[data-msg-id] button[type=submit]")
            supervisor.wait_for_selector("td.ack:has-text('li.wei: re-packed: phone case added')")
            # An override from the page reaches the station (its light lets the parcel go),
            # and the feed then says who let it go and why.
            supervisor.fill("tr[data-msg-id] input[name=reason]", "customer accepts it")
            supervisor.click("tr[data-msg-id] button[value=override]")
            supervisor.wait_for_selector("td.command:has-text('override sent')")
            wait_until(lambda: light.shown[-1].is_seal_enabled)
            supervisor.wait_for_selector("td.outcome:has-text('overridden by li.wei')")
            supervisor.wait_for_selector(".tile.light-missing_item, .tile.light-pass")
            supervisor.screenshot(path=str(shots / "dashboard-acknowledged.png"), full_page=True)
            # A request from the page's session without its CSRF token is refused.
            forged = supervisor.request.post(
                f"{url}/api/alerts/whatever/ack", data={"note": "forged"}
            )
            assert forged.status == 403
            # History: found by order id, exported as CSV with the acknowledgement.
            supervisor.goto(f"{url}/history?order_id=SO-LIVE-1")
            assert "re-packed: phone case added" in supervisor.inner_text("table")
            supervisor.screenshot(path=str(shots / "history.png"), full_page=True)
            csv = supervisor.request.get(f"{url}/api/history?format=csv&order_id=SO-LIVE-1")
            assert csv.status == 200
            assert '"SO-LIVE-1"' in csv.text()
            assert '"li.wei"' in csv.text()
            supervisor.close()
            # A viewer sees the alert but has nothing to acknowledge it with.
            viewer = browser.new_page()
            sign_in(viewer, url, "zhang.min")
            viewer.wait_for_selector("tr[data-msg-id]")
            assert viewer.query_selector(".ack-form") is None
            viewer.close()
    finally:
        scale.close()


def test_a_wrong_password_is_refused_and_pages_need_a_sign_in(
    tmp_path: Path, broker: Mosquitto, browser: Browser
) -> None:
    site = f"e{uuid.uuid4().hex[:8]}"
    database = str(tmp_path / "central.sqlite3")
    with running_central(write_central(tmp_path, database, broker.url, site)) as (_, url, _t):
        page = browser.new_page()
        page.goto(f"{url}/")
        assert page.url.endswith("/login")
        page.fill("input[name=name]", "li.wei")
        page.fill("input[name=password]", "not-the-password")
        page.click("button[type=submit]")
        assert "wrong name or password" in page.inner_text("main")
        page.close()
