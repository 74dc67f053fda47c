"""Latency from the reading that settles a parcel to the packer's screen showing PASS.

The whole path is real: the station loop (ledger on disk), the screen's state, uvicorn's
server-sent events, and Debian's headless Chromium applying the state to the page. The time
is taken in the page when it sets the PASS colour (`performance.timeOrigin + now()`, the same
wall clock as the bench's `time.time()`). The reference in the same run is the lights: the
same parcels' output call, in-process. Target: screen p99 <= 50 ms.

Idle cost: with the page open and nothing on the scale for 10 s, how many messages the page
receives and how much CPU the station process spends, beside the same 10 s with no page.

Run: .venv/bin/python -m bench.settled_to_screen
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from playwright.sync_api import sync_playwright

from bench._latency import summary
from bench.settled_to_output import IdleScale, TimingLight, bench_station
from scale_agent.domain.jobs import Job, JobLine
from scale_agent.io.logs import configure
from scale_agent.signals import Signal
from scale_agent.station.runtime import StationRuntime
from scale_agent.weights import Reading, ReadingKind, Weight
from tests.fakes.browser import CHROMIUM, FLAGS

if TYPE_CHECKING:
    from playwright.sync_api import Page

RECORD = """
window.__at = {};
window.__messages = 0;
const Original = window.EventSource;
window.EventSource = function (url) {
  const source = new Original(url);
  source.addEventListener("message", () => { window.__messages += 1; });
  return source;
};
new MutationObserver(() => {
  const signal = document.body && document.body.dataset.signal;
  if (signal) window.__at[signal] = performance.timeOrigin + performance.now();
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-signal"]});
"""
STABLE = Reading(ReadingKind.WEIGHT, b"S S      0.335 kg", Weight.parse("335g"), is_stable=True)


def main(parcels: int = 200) -> None:
    configure(json=False, level=logging.WARNING)
    config = bench_station({"enabled": False})
    data = config.agent.model_copy(
        update={"screen": config.agent.screen.model_copy(update={"listen": "127.0.0.1:0"})}
    )
    config = replace(config, agent=data)
    light = TimingLight()
    runtime = StationRuntime(config, IdleScale(), [light])
    started = threading.Event()
    runtime.on_started = started.set
    station = threading.Thread(target=runtime.run, name="station")
    station.start()
    started.wait(10)
    assert runtime.screen is not None
    assert runtime.screen.url is not None
    screen_ms: list[float] = []
    lights_ms: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.add_init_script(RECORD)
        page.goto(runtime.screen.url)
        page.wait_for_selector("body[data-ready=true]")
        empty = replace(STABLE, weight=Weight.parse("0g"), received_at=time.monotonic())
        runtime.events.put(empty)  # the scale answers: no longer "waiting for the scale"
        page.wait_for_selector('body[data-signal="idle"]')
        for number in range(parcels):
            runtime.submit_job(Job(f"SO-{number}", (JobLine("A", 2),), "BOX"))
            page.wait_for_selector('body[data-signal="ready"]')
            sent_wall, sent = time.time(), time.perf_counter()
            runtime.events.put(replace(STABLE, received_at=time.monotonic()))
            page.wait_for_selector('body[data-signal="pass"]')
            shown_ms = float(page.evaluate("window.__at.pass"))
            screen_ms.append(shown_ms - sent_wall * 1000)
            lights_ms.append((light.shown_at[Signal.PASS] - sent) * 1000)
            runtime.events.put(
                replace(STABLE, weight=Weight.parse("0g"), received_at=time.monotonic())
            )
            page.wait_for_selector('body[data-signal="idle"]')
        idle_with_page = idle_cost(page)
        page.close()
        idle_without = idle_cost(None)
        browser.close()
    runtime.stop()
    station.join(10)
    print(
        f"settled reading -> screen shows PASS (Chromium), {parcels} parcels: {summary(screen_ms)}"
    )
    print(f"settled reading -> lights (same parcels, in-process):     {summary(lights_ms)}")
    print(
        f"idle 10 s with the page open: {idle_with_page[0]} messages to the page, station CPU "
        f"{idle_with_page[1]:.1f} ms/s; without a page: station CPU {idle_without[1]:.1f} ms/s"
    )


def idle_cost(page: Page | None, seconds: float = 10.0) -> tuple[int, float]:
    """Messages the page got and the station process's CPU (ms per s) over an idle spell."""
    before = 0 if page is None else int(page.evaluate("window.__messages"))
    cpu = time.process_time()
    time.sleep(seconds)
    spent = (time.process_time() - cpu) * 1000 / seconds
    after = 0 if page is None else int(page.evaluate("window.__messages"))
    return after - before, spent


if __name__ == "__main__":
    main()
