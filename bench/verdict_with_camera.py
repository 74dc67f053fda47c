"""A verdict's time to the light with a camera configured, beside the same station without one.

Three stations in one run, each judging the same parcels through the real runtime (ledger on
disk, synchronous=FULL): no camera; a healthy Digest-auth HTTP camera (a local server on the
Hikvision picture path, a real JPEG); and a camera that hangs on every request. The photo is
taken beside the loop, so the camera must add ~0 to the time to the light; the PHOTO records
the loop appends between parcels are counted in.
Run: .venv/bin/python -m bench.verdict_with_camera
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from bench._latency import summary
from bench.settled_to_output import IdleScale, TimingLight, bench_station
from drivers.cameras.http_snapshot import HttpSnapshotCamera, Settings
from scale_agent.domain.jobs import Job, JobLine
from scale_agent.io.config import CameraSection
from scale_agent.io.logs import configure
from scale_agent.plugins import Signal
from scale_agent.station.runtime import StationRuntime
from scale_agent.weights import Reading, ReadingKind, Weight
from tests.fakes.camera_server import DigestCamera

PARCELS = 200
TEMPLATE = Reading(ReadingKind.WEIGHT, b"S S      0.335 kg", Weight.parse("335g"), is_stable=True)


def run(camera_url: str | None, timeout_s: float = 2.0) -> tuple[list[float], int]:
    """Latencies (ms) from the settling reading to PASS, and the photos kept."""
    config = bench_station({"enabled": False})
    camera = None
    if camera_url is not None:
        section = CameraSection(driver="http-snapshot")  # verdict moment, default quota
        config = replace(config, agent=config.agent.model_copy(update={"camera": section}))
        settings = Settings(
            url=camera_url,
            username="admin",
            password="Secret-123",  # noqa: S106 - the local test camera's
            timeout_s=timeout_s,
        )
        camera = HttpSnapshotCamera(settings)
    light = TimingLight()
    runtime = StationRuntime(config, IdleScale(), [light], camera=camera)
    if runtime.photos is not None:
        runtime.photos.start()
    now = time.monotonic()
    latencies = []
    for number in range(PARCELS):
        runtime.submit_job(Job(f"SO-{number}", (JobLine("A", 2),), "BOX"))
        while not runtime.events.empty():
            runtime.step(0)
        now += 1
        runtime.events.put(replace(TEMPLATE, received_at=now))
        sent = time.perf_counter()
        while Signal.PASS not in light.shown_at:
            runtime.step(0)
        latencies.append((light.shown_at[Signal.PASS] - sent) * 1000)
        now += 1
        runtime.events.put(replace(TEMPLATE, weight=Weight.parse("0g"), received_at=now))
        while not runtime.events.empty():
            runtime.step(0)
        light.shown_at.clear()
        time.sleep(0.01)  # a packer's pace, compressed: the camera gets its turn
    if runtime.photos is not None:
        runtime.photos.stop()
    kept = sum(1 for r in runtime.ledger.records() if r["verdict"] == "PHOTO")
    runtime.ledger.close()
    return latencies, kept


def main() -> None:
    configure(json=False, level=logging.ERROR)
    plain, _ = run(None)
    with DigestCamera() as camera:
        healthy, kept = run(camera.url)
    with DigestCamera() as camera:
        camera.hang.set()
        hanging, _ = run(camera.url, timeout_s=5.0)
    print(f"no camera:        {summary(plain)}")
    print(f"healthy camera:   {summary(healthy)}  ({kept} photos kept in the chain)")
    print(f"hanging camera:   {summary(hanging)}")
    p50 = sorted(plain)[len(plain) // 2]
    for name, values in (("healthy", healthy), ("hanging", hanging)):
        print(f"{name} camera p50 = {sorted(values)[len(values) // 2] / p50:.2f}x no camera")


if __name__ == "__main__":
    main()
