"""The packer's screen, read in headless Chromium as the packer would see it.

A real daemon (`scale-agent run` as a subprocess) with an MT-SICS scale on a pseudo-terminal
and a real Mosquitto; the page is Debian's Chromium driven by Playwright. Each state is also
written as a screenshot to `build/screenshots/<test>/` (set SCALE_AGENT_SCREENSHOTS to move it).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from signal import SIGCONT, SIGSTOP
from typing import TYPE_CHECKING

import paho.mqtt.publish as mqtt_publish
import pytest
import structlog

from scale_agent.io.screen_server import ScreenHub, ScreenServer
from scale_agent.signals import Signal
from scale_agent.testing import wait_until
from tests.fakes.browser import chromium, screenshot_folder
from tests.fakes.daemon import Daemon
from tests.fakes.mt_sics_scale import FakeMtSicsScale
from tests.fakes.recording_light import RecordingLight
from tests.station_files import CATALOG, write_station
from tests.station_harness import running_station

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from playwright.sync_api import Browser, Page

    from tests.fakes.mosquitto import Mosquitto

ORDER = {
    "order_id": "SO-77",
    "lines": [{"sku": "SKU-1023", "qty": 1}, {"sku": "SKU-2040", "qty": 2}],
    "carton": "BOX-S",
}
TRANSLATED = {
    "SKU-1023": ("手机壳", "Handyhülle"),
    "SKU-2040": ("精装书", "Gebundenes Buch"),
}
# Records every signal the page takes, so a state shown for 100 ms is not missed.
RECORD_SIGNALS = """
window.__signals = [];
new MutationObserver(() => {
  const signal = document.body && document.body.dataset.signal;
  if (signal && window.__signals[window.__signals.length - 1] !== signal) {
    window.__signals.push(signal);
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-signal"]});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def translated_catalog() -> str:
    lines = CATALOG.splitlines()
    out = [lines[0] + ",policy,counted,gtin,name_zh_CN,name_de"]
    for line in lines[1:]:
        sku = line.split(",")[1]
        zh, de = TRANSLATED.get(sku, ("", ""))
        out.append(f"{line},,,,{zh},{de}")
    return "\n".join(out) + "\n"


def open_screen(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(RECORD_SIGNALS)
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", timeout=10_000)
    return page


def text(page: Page, selector: str) -> str:
    return str(page.text_content(selector) or "")


def signal(page: Page) -> str:
    return str(page.evaluate("document.body.dataset.signal"))


def wait_signal(page: Page, wanted: str, timeout_s: float = 10) -> None:
    # A selector, not a JS predicate: the page's Content-Security-Policy forbids eval.
    page.wait_for_selector(f'body[data-signal="{wanted}"]', timeout=timeout_s * 1000)


def send_job(broker: Mosquitto, site: str, order: Mapping[str, object]) -> None:
    mqtt_publish.single(
        f"scale-agent/v1/{site}/line-1/bench-1/job",
        json.dumps(order),
        qos=1,
        hostname="127.0.0.1",
        port=broker.port,
    )


def test_the_screen_follows_a_parcel_a_fault_and_a_stopped_station(  # noqa: PLR0915 - one shift
    tmp_path: Path, own_broker: Mosquitto, browser: Browser
) -> None:
    shots = screenshot_folder("screen-en")
    port = free_port()
    link = tmp_path / "scale"  # the port the daemon opens; re-pointed when re-plugged
    scale = FakeMtSicsScale()
    link.symlink_to(scale.path)
    config = write_station(
        tmp_path,
        str(link),
        own_broker.url,
        site="screen",
        screen=f'listen = "127.0.0.1:{port}"',
    )
    (tmp_path / "catalog.csv").write_text(translated_catalog())
    daemon = Daemon(config, tmp_path / "data")
    daemon.start()
    page = None
    try:
        wait_until(lambda: is_listening(port), timeout=30)
        page = open_screen(browser, f"http://127.0.0.1:{port}/")
        wait_signal(page, "idle")
        assert text(page, "#headline") == "SCAN ORDER"
        assert text(page, "#seal") == "SEAL LOCKED"
        page.screenshot(path=shots / "1-idle.png")

        send_job(own_broker, "screen", ORDER)
        wait_signal(page, "ready")
        assert text(page, "#order") == "SO-77"
        assert text(page, "#carton") == "BOX-S"
        assert text(page, "#instruction") == (
            "Order SO-77: place the parcel on the scale (expect 1.025 kg)"
        )
        assert [row.strip() for row in page.locator("#items li").all_text_contents()] == [
            "1 × Phone case 150 g",
            "2 × Hardcover book 420 g",
        ]
        page.screenshot(path=shots / "2-ready.png")

        scale.set_weight("1.027")
        wait_signal(page, "pass")
        assert text(page, "#headline") == "PASS"
        assert text(page, "#seal") == "SEAL OPEN"
        assert text(page, "#measured") == "1.027 kg"
        needle = float(page.evaluate("parseFloat(document.getElementById('needle').style.left)"))
        assert 33 < needle < 67
        page.screenshot(path=shots / "3-pass.png")
        assert page.evaluate("window.__signals")[-3:] == ["ready", "settling", "pass"]

        # The daemon hangs (stopped, not killed) while the page shows PASS: within a few
        # seconds the page stops standing behind it, and its clock stops looking alive.
        assert daemon.process is not None
        daemon.process.send_signal(SIGSTOP)
        try:
            page.wait_for_selector("#silent:not([hidden])", timeout=8_000)
            assert text(page, "#silent h1") == "Station not responding"
            assert text(page, "#silent p") == "Do not seal: call the supervisor"
            assert text(page, "#clock") == "--:--"
            page.screenshot(path=shots / "3b-not-responding.png")
        finally:
            daemon.process.send_signal(SIGCONT)
        page.wait_for_selector("#silent[hidden]", state="attached", timeout=10_000)
        wait_signal(page, "pass")  # the scale's silence while stopped may show a fault first
        scale.set_weight("0.000")
        wait_signal(page, "idle")

        # One book short: the screen names the item to add, not its code or the statistics.
        send_job(own_broker, "screen", {**ORDER, "order_id": "SO-78"})
        wait_signal(page, "ready")
        scale.set_weight("0.607")
        wait_signal(page, "fail")
        assert text(page, "#headline") == "MISSING ITEM"
        assert text(page, "#instruction") == (
            "Add 1 x Hardcover book, then lift and re-place the parcel"
        )
        assert "sigma" not in page.inner_text("body")
        assert text(page, "#seal") == "SEAL LOCKED"
        page.screenshot(path=shots / "4-missing-item.png")

        # The broker goes away: the screen does not depend on it, and says alerts are kept.
        own_broker.stop()
        page.wait_for_selector("#monitor:not([hidden])", timeout=15_000)
        assert "alerts are kept" in text(page, "#monitor")
        scale.set_weight("1.028")  # the packer adds the book
        wait_signal(page, "pass")
        page.screenshot(path=shots / "5-pass-broker-down.png")
        own_broker.start()
        page.wait_for_selector("#monitor[hidden]", state="attached", timeout=30_000)
        scale.set_weight("0.000")
        wait_signal(page, "idle")

        # The scale is unplugged: FAULT says what to check and since when; then it recovers.
        scale.unplug()
        wait_signal(page, "fault")
        assert text(page, "#headline") == "SCALE FAULT"
        assert text(page, "#instruction").startswith(
            "Scale not answering: check the cable and the power (fault since "
        )
        page.screenshot(path=shots / "6-fault.png")
        scale = FakeMtSicsScale()
        link.unlink()
        link.symlink_to(scale.path)
        wait_signal(page, "idle", timeout_s=20)

        # The daemon stops: the page says so instead of showing the last state.
        assert daemon.stop() == 0
        page.wait_for_selector("#offline:not([hidden])", timeout=10_000)
        assert text(page, "#offline h1") == "Station not running"
        page.screenshot(path=shots / "7-not-running.png")
        daemon.start()
        page.wait_for_selector("#offline[hidden]", state="attached", timeout=20_000)
        wait_signal(page, "idle", timeout_s=20)
    finally:
        if page is not None:
            page.close()
        daemon.stop()
        scale.close()


@pytest.mark.parametrize(
    ("language", "headline", "instruction", "font"),
    [
        ("zh_CN", "缺件", "请补装 精装书 × 1，然后把包裹拿起再放回秤上", "Noto Sans CJK SC"),
        (
            "de",
            "ARTIKEL FEHLT",
            "1 × Gebundenes Buch hinzufügen, dann Paket anheben und neu auflegen",
            "DejaVu Sans",
        ),
    ],
)
def test_the_screen_speaks_the_packers_language(  # noqa: PLR0917 - one row per language
    tmp_path: Path,
    scale: FakeMtSicsScale,
    browser: Browser,
    language: str,
    headline: str,
    instruction: str,
    font: str,
) -> None:
    shots = screenshot_folder(f"screen-{language}")
    config = write_station(
        tmp_path,
        scale.path,
        None,
        site="lang",
        screen=f'listen = "127.0.0.1:0"\nlanguage = "{language}"',
    )
    (tmp_path / "catalog.csv").write_text(translated_catalog())
    light = RecordingLight()
    with running_station(config, light) as runtime:
        wait_until(lambda: runtime.screen is not None and runtime.screen.url is not None)
        assert runtime.screen is not None
        assert runtime.screen.url is not None
        page = open_screen(browser, runtime.screen.url)
        try:
            assert page.evaluate("document.documentElement.lang") == language.replace("_", "-")
            runtime.submit_job_data(json.dumps(ORDER).encode(), "test")
            wait_signal(page, "ready")
            page.screenshot(path=shots / "ready.png")
            scale.set_weight("0.607")
            wait_signal(page, "fail")
            assert text(page, "#headline") == headline
            assert text(page, "#instruction") == instruction
            # The font that draws it is installed (else Chinese would show as empty boxes).
            assert page.evaluate(f"document.fonts.check('40px \"{font}\"', {json.dumps(headline)})")
            page.screenshot(path=shots / "missing-item.png")
            # The console lamp says the seal state in the same words as the screen.
            wait_until(lambda: light.shown[-1].signal is Signal.FAIL)
            assert light.shown[-1].seal_text == text(page, "#seal")
            assert light.shown[-1].seal_text != "SEAL LOCKED"  # translated
        finally:
            page.close()
    # The console lamp speaks the same language.
    assert any(headline in shown.text for shown in light.shown)


def test_outside_text_is_shown_as_text_and_the_page_changes_nothing(
    tmp_path: Path, scale: FakeMtSicsScale, browser: Browser
) -> None:
    config = write_station(tmp_path, scale.path, None, site="hostile")
    light = RecordingLight()
    hostile = '<img src=x onerror="document.title=1">SO-1'
    with running_station(config, light) as runtime:
        wait_until(lambda: runtime.screen is not None and runtime.screen.url is not None)
        assert runtime.screen is not None
        assert runtime.screen.url is not None
        url = runtime.screen.url
        page = open_screen(browser, url)
        try:
            runtime.submit_job_data(json.dumps({**ORDER, "order_id": hostile}).encode(), "test")
            wait_signal(page, "ready")
            assert text(page, "#order") == hostile
            assert page.locator("img").count() == 0
            assert page.title() == "scale-agent"
            for path in ("/", "/state", "/events"):
                response = page.request.post(url.rstrip("/") + path)
                assert response.status == 405
            headers = page.request.get(url).headers
            assert "script-src 'self'" in headers["content-security-policy"]
        finally:
            page.close()


def test_a_taken_screen_port_is_one_clear_line_and_the_station_works_on(
    tmp_path: Path, scale: FakeMtSicsScale
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        config = write_station(
            tmp_path, scale.path, None, site="taken", screen=f'listen = "127.0.0.1:{port}"'
        )
        light = RecordingLight()
        with running_station(config, light) as runtime:
            runtime.submit_job_data(json.dumps(ORDER).encode(), "test")
            scale.set_weight("1.025")
            wait_until(lambda: light.signals()[-1:] == [Signal.PASS])
            assert runtime.screen is not None
            assert runtime.screen.problem is not None
            assert f"cannot listen on 127.0.0.1:{port}" in runtime.screen.problem


def test_a_stuck_station_loop_behind_a_live_server_is_not_responding(browser: Browser) -> None:
    # The screen's server thread lives on while the station loop is stuck (a deadlock, a
    # blocking call): the server itself must stop vouching, not only a stopped process.
    hub = ScreenHub()
    server = ScreenServer(hub, ("127.0.0.1", 0), structlog.get_logger("test"))
    hub.publish({"signal": "pass", "headline": "PASS", "seal": True, "lang": "en", "labels": {}})
    turning = threading.Event()
    turning.set()

    def loop() -> None:  # the station loop's turns, until it gets stuck
        while not hub.is_closed:
            if turning.wait(0.2):
                hub.beat()
                time.sleep(0.1)

    beats = threading.Thread(target=loop, daemon=True)
    beats.start()
    page = None
    try:
        page = open_screen(browser, server.start())
        wait_signal(page, "pass")
        time.sleep(1.5)  # beats keep it standing: well past a beat's interval
        assert page.locator("#silent").is_hidden()
        turning.clear()  # stuck
        page.wait_for_selector("#silent:not([hidden])", timeout=8_000)
        turning.set()  # turning again
        page.wait_for_selector("#silent[hidden]", state="attached", timeout=8_000)
    finally:
        if page is not None:
            page.close()
        turning.set()
        server.stop()


def test_a_small_bench_monitor_reads_from_two_metres_and_marks_the_missing_line(
    tmp_path: Path, scale: FakeMtSicsScale, browser: Browser
) -> None:
    shots = screenshot_folder("screen-800x480")
    config = write_station(tmp_path, scale.path, None, site="small")
    (tmp_path / "catalog.csv").write_text(translated_catalog())
    with running_station(config, RecordingLight()) as runtime:
        wait_until(lambda: runtime.screen is not None and runtime.screen.url is not None)
        assert runtime.screen is not None
        assert runtime.screen.url is not None
        page = browser.new_page(viewport={"width": 800, "height": 480})
        try:
            page.goto(runtime.screen.url)
            page.wait_for_selector("body[data-ready=true]", timeout=10_000)
            runtime.submit_job_data(json.dumps(ORDER).encode(), "test")
            wait_signal(page, "ready")
            # An empty platter a few grams below zero is no weight, not "Measured -20 g".
            scale.set_weight("-0.020")
            time.sleep(0.5)  # several live refreshes of the bar
            assert text(page, "#measured") == "-"
            page.screenshot(path=shots / "ready-empty.png")
            scale.set_weight("0.607")  # one book short
            wait_signal(page, "fail")
            [marked] = page.locator("#items li[data-state=missing]").all_text_contents()
            assert "Hardcover book" in marked
            assert "-1 missing" in marked
            assert page.locator("#items li[data-state=listed]").count() == 1
            page.screenshot(path=shots / "missing-item.png")

            def px(selector: str) -> float:
                size = page.eval_on_selector(selector, "e => getComputedStyle(e).fontSize")
                return float(str(size).removesuffix("px"))

            # Figures, item lines and the seal at least 24 px, the zone names 20 px, on 480.
            for selector in ("#measured", "#expected", "#items li", ".seal"):
                assert px(selector) >= 24, selector
            assert px(".zone-names span") >= 20
            # Nothing is cut off: the seal line is fully on the screen.
            box = page.locator(".seal").bounding_box()
            assert box is not None
            assert box["y"] + box["height"] <= 480
        finally:
            page.close()
