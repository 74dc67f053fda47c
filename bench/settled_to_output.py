"""Latency from the reading that settles a parcel to the output command, through the runtime.

The station loop, the ledger write (SQLite, synchronous=FULL, on disk) and the output call
are all real; readings are injected into the station queue as the scale link would.
Target: p99 <= 5 ms.  Run: .venv/bin/python -m bench.settled_to_output
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench._latency import summary
from scale_agent.domain.jobs import Job, JobLine
from scale_agent.io.config import StationConfig, validate_config
from scale_agent.io.logs import configure
from scale_agent.plugins import Indication, ScaleCommand, ScaleIdentity, Signal
from scale_agent.station.runtime import StationRuntime
from scale_agent.weights import Reading, ReadingKind, Weight

CATALOG = "kind,id,name,weight,spread\nsku,A,Item,150g,2g\ncarton,BOX,Box,35g,1g\n"


class TimingLight:
    def __init__(self) -> None:
        self.shown_at: dict[Signal, float] = {}

    def open(self) -> None:
        """Nothing to open."""

    def show(self, indication: Indication) -> None:
        self.shown_at[indication.signal] = time.perf_counter()

    def close(self) -> None:
        """Nothing to close."""


class IdleScale:
    device = "bench"

    def open(self) -> ScaleIdentity:
        return ScaleIdentity()

    def read(self) -> list[Reading]:
        time.sleep(0.2)
        return []

    def send(self, command: ScaleCommand) -> bool:
        return command is None

    def close(self) -> None:
        """Nothing to close."""


def bench_station(mqtt: dict[str, object]) -> StationConfig:
    """A station in a fresh folder that settles on the first stable reading."""
    folder = Path(tempfile.mkdtemp())
    (folder / "catalog.csv").write_text(CATALOG)
    data = {
        "station": {
            "site": "b",
            "line": "l",
            "id": "s",
            "catalog": "catalog.csv",
            "data_dir": str(folder / "data"),
        },
        "scale": {"driver": "simulated"},
        "settle": {"mode": "device", "fault_after_s": 60, "load_confirm_s": 0},
        "mqtt": mqtt,
    }
    return validate_config(data, folder / "station.toml")


def main(parcels: int = 300) -> None:
    configure(json=False, level=logging.WARNING)  # the station logs every parcel
    config = bench_station({"enabled": False})
    light = TimingLight()
    runtime = StationRuntime(config, IdleScale(), [light])
    latencies = []
    now = time.monotonic()
    template = Reading(
        ReadingKind.WEIGHT, b"S S      0.335 kg", Weight.parse("335g"), is_stable=True
    )
    for number in range(parcels):
        runtime.submit_job(Job(f"SO-{number}", (JobLine("A", 2),), "BOX"))
        runtime.step(0)
        now += 1
        runtime.events.put(replace(template, received_at=now))
        sent = time.perf_counter()
        runtime.step(0)
        latencies.append((light.shown_at[Signal.PASS] - sent) * 1000)
        now += 1
        runtime.events.put(replace(template, weight=Weight.parse("0g"), received_at=now))
        runtime.step(0)
        light.shown_at.clear()
    print(
        f"settled reading -> output command, {parcels} parcels, ledger on disk with "
        f"synchronous=FULL: {summary(latencies)}"
    )


if __name__ == "__main__":
    main()
